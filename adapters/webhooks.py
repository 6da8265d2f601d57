"""Posting one webhook message to an endpoint, never to an address inside our network (SSRF).

`check_target` resolves the endpoint's name once and refuses it unless every address it
resolves to is globally routable (not private, loopback, link-local, shared, reserved,
multicast or unspecified), unless private targets are allowed. `post` then connects to the
address that was checked (the URL's host replaced by it; the `Host` header and TLS SNI and
certificate check keep the name), so a second lookup cannot point somewhere else. Redirects
are never followed: a 3xx is a failed delivery.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import certifi
import httpx

from core import __version__

USER_AGENT = f"syncq-webhooks/{__version__}"
SNIPPET_BYTES = 512  # of a failed answer's body, kept as its error

Resolver = Callable[[str, int], list[str]]


class TargetRefused(ValueError):
    """The endpoint's URL is malformed or points at an address syncq must not call."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver), in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# The resolver every check uses. A seam for tests: the test process may not use DNS, so a test
# that needs "a name resolving inside" puts a resolver of its own here.
resolver: Resolver = system_resolve


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` is not a public address, or None when it is one."""
    for name, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return name
    return None if ip.is_global else "non-global"


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
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = (resolve or resolver)(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise TargetRefused(f"cannot resolve {host}: no addresses") from None
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            kind = _kind(mapped or ip)
            if kind:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise TargetRefused(
                    f"{shown} is not a public address ({kind}); webhooks go only to public "
                    "addresses (SYNCQ_WEBHOOK_ALLOW_PRIVATE allows others)"
                )
    return Target(parsed, addresses[0])


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
    for a network or HTTP failure, never follows a redirect."""
    url = target.url.copy_with(host=target.address)
    netloc = target.url.netloc.decode("ascii")
    extensions = {}
    if target.url.scheme == "https" and target.url.host != target.address:
        extensions["sni_hostname"] = target.url.host
    request_headers = {"Host": netloc, "User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
    started = time.perf_counter()
    try:
        # trust_env off: a proxy from the environment would make its own lookup of the name.
        with httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False, verify=_tls(), transport=transport
        ) as client:
            with client.stream(
                "POST", url, content=body.encode(), headers=request_headers, extensions=extensions
            ) as response:
                snippet = b""
                if not 200 <= response.status_code < 300:
                    for chunk in response.iter_bytes():
                        snippet += chunk
                        if len(snippet) >= SNIPPET_BYTES:
                            break
    except httpx.HTTPError as exc:
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


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
