"""Posting one webhook message to an endpoint, never to an address inside our network (SSRF).

`check_target` resolves the endpoint's name once and refuses it unless every address it
resolves to is public (`adapters.addresses`: globally routable, an IPv6 address carrying an IPv4
one judged by that one), unless private targets are allowed. `post` then connects to the
address that was checked (the URL's host replaced by it; the `Host` header and TLS SNI and
certificate check keep the name), so a second lookup cannot point somewhere else. Redirects
are never followed: a 3xx is a failed delivery.
"""

from __future__ import annotations

import functools
import ssl
import time
from dataclasses import dataclass
from typing import Any

import certifi
import httpx

from adapters import addresses
from adapters.addresses import Resolver
from adapters.bodies import ACCEPT_ENCODING, PIECE, BoundedBody, Watchdog
from adapters.errors import SyncError
from core import __version__

USER_AGENT = f"syncq-webhooks/{__version__}"
SNIPPET_BYTES = 512  # of a failed answer's body, kept as its error
# The most a failed answer's body may decode to while its snippet is read (one decoder piece).
SNIPPET_LIMIT = PIECE


class TargetRefused(ValueError):
    """The endpoint's URL is malformed or points at an address syncq must not call."""


system_resolve = addresses.system_resolve
# The resolver every check uses. A seam for tests: the test process may not use DNS, so a test
# that needs "a name resolving inside" puts a resolver of its own here.
resolver: Resolver = system_resolve


@dataclass(frozen=True)
class Target:
    """A checked endpoint: its URL and the address to connect to."""

    url: httpx.URL
    address: str


def check_target(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> Target:
    """The endpoint `url` resolved and checked; TargetRefused saying why it may not be called."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TargetRefused("the URL must be http:// or https:// with a host")
    if parsed.userinfo:
        raise TargetRefused("the URL must not carry a user name or password")
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = addresses.check_host(
            host,
            port,
            allow_private=allow_private,
            resolve=resolve or resolver,
            hint="; webhooks go only to public addresses (SYNCQ_WEBHOOK_ALLOW_PRIVATE allows others)",
        )
    except addresses.AddressRefused as exc:
        raise TargetRefused(str(exc)) from None
    return Target(parsed, found[0])


@dataclass(frozen=True)
class Outcome:
    """One attempt: the HTTP status (None if no answer), how long it took, and why it failed."""

    status_code: int | None
    latency_ms: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer (what the Standard Webhooks spec counts as delivered)."""
        return self.status_code is not None and 200 <= self.status_code < 300


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds: one context for every delivery.
    return ssl.create_default_context(cafile=certifi.where())


def post(
    target: Target, body: str, headers: dict[str, str], *, timeout: float, transport: httpx.BaseTransport | None = None
) -> Outcome:
    """POST `body` to the checked `target` (its address, its name as Host and SNI); never raises
    for a network or HTTP failure, never follows a redirect.

    `timeout` bounds the attempt as a whole, however slowly the endpoint trickles (the adapters'
    `Watchdog`), and a failed answer's body is read only up to its snippet, decoded with a bound
    (`BoundedBody`): the attempt ends within its deadline whatever the endpoint sends."""
    url = target.url.copy_with(host=target.address)
    netloc = target.url.netloc.decode("ascii")
    extensions: dict[str, Any] = {}
    if target.url.scheme == "https" and target.url.host != target.address:
        extensions["sni_hostname"] = target.url.host
    request_headers = {
        "Host": netloc,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
        **headers,
    }
    started = time.perf_counter()
    snippet = b""
    with Watchdog(timeout) as watchdog:
        extensions["trace"] = watchdog.trace
        try:
            # trust_env off: a proxy from the environment would make its own lookup of the name.
            with httpx.Client(
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
                trust_env=False,
                verify=_tls(),
                transport=transport,
            ) as client:
                request = client.build_request(
                    "POST", url, content=body.encode(), headers=request_headers, extensions=extensions
                )
                response = client.send(request, stream=True)
                try:
                    watchdog.watch(response.extensions.get("network_stream"))
                    if not 200 <= response.status_code < 300:
                        snippet = _snippet(response, watchdog)
                finally:
                    response.close()
            if watchdog.stop():
                return Outcome(None, _ms(started), _deadline(timeout))
        except httpx.HTTPError as exc:
            if watchdog.passed():
                return Outcome(None, _ms(started), _deadline(timeout))
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
            return Outcome(None, _ms(started), f"{kind}: {type(exc).__name__}: {exc}".rstrip(": "))
    latency = _ms(started)
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(status, latency)
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return Outcome(status, latency, f"HTTP {status}: redirect to {location[:200]!r} not followed")
    text = snippet[:SNIPPET_BYTES].decode("utf-8", "replace").strip()
    return Outcome(status, latency, f"HTTP {status}" + (f": {text[:200]}" if text else ""))


def _snippet(response: httpx.Response, watchdog: Watchdog) -> bytes:
    """The first SNIPPET_BYTES of a failed answer's decoded body (the rest is never read)."""
    if response.is_stream_consumed:  # a mock transport's answer, already in memory
        return response.content[:SNIPPET_BYTES]
    bounded = BoundedBody(
        limit=SNIPPET_LIMIT, service="webhooks", content_encoding=response.headers.get("Content-Encoding", "")
    )
    try:
        for raw in response.iter_raw():
            if watchdog.passed():
                break
            bounded.feed(raw)
            if bounded.size >= SNIPPET_BYTES:
                break
        return bounded.finish()[:SNIPPET_BYTES]
    except SyncError as exc:  # a body that does not decode: the status says enough
        return f"({exc.message})".encode()


def _deadline(seconds: float) -> str:
    return f"timed out: no complete answer within {seconds:g} s (SYNCQ_WEBHOOK_TIMEOUT); cut there"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
