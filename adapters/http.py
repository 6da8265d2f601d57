"""The one HTTP policy every adapter uses: clients, timeouts, User-Agent and retries.

Only `TransientError` is retried (tenacity, exponential backoff with jitter, a 429's
`Retry-After` honoured); everything else fails at once. Adapters never build their own
clients or retry loops: they take a client and wrap their calls in `call_with_retry`.
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import time
from typing import Any, Awaitable, Callable, Iterable, TypeVar

import certifi
import httpx
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from adapters.errors import ParseError, PermanentError, TransientError
from core import __version__
from core.settings import Settings, get_settings

USER_AGENT = f"syncq/{__version__} (+https://github.com/syncq/syncq)"
T = TypeVar("T")
# Awaited once, right before a request's bytes are written (`send_async(at_send=...)`).
AtSend = Callable[[], Awaitable[None]]
AT_SEND = "syncq.at_send"  # the request extension a `RunsAtSend` transport runs

# Stub backends: when set, clients made without an explicit transport use these
# (tests put an `httpx.MockTransport` here so tasks running in a worker never touch a network).
default_transport: httpx.BaseTransport | None = None
default_async_transport: httpx.AsyncBaseTransport | None = None


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~70 ms; every client of the process shares one context.
    return ssl.create_default_context(cafile=certifi.where())


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)


def make_client(settings: Settings | None = None, *, transport: httpx.BaseTransport | None = None,
                **kwargs: Any) -> httpx.Client:
    """A sync `httpx.Client` with syncq's timeouts and User-Agent; pass `transport` in tests."""
    settings = settings or get_settings()
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    transport = transport or default_transport
    kwargs.setdefault("verify", _ssl_context())
    return httpx.Client(timeout=_timeout(settings), headers=headers, transport=transport,
                        follow_redirects=True, **kwargs)


def make_async_client(settings: Settings | None = None, *,
                      transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` with the same policy, for calls that must be in flight together."""
    settings = settings or get_settings()
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    transport = transport or default_async_transport
    if transport is not None and not isinstance(transport, httpx.AsyncHTTPTransport):
        transport = RunsAtSend(transport)
    kwargs.setdefault("verify", _ssl_context())
    return httpx.AsyncClient(timeout=_timeout(settings), headers=headers, transport=transport,
                             follow_redirects=True, **kwargs)


def _at_send_extensions(at_send: AtSend, caller_trace: Callable[..., Awaitable[None]] | None) -> dict[str, Any]:
    done = False

    async def once() -> None:
        nonlocal done
        if not done:
            done = True
            await at_send()

    async def trace(event: str, info: dict[str, Any]) -> None:
        if caller_trace is not None:
            await caller_trace(event, info)
        # httpcore's "http11.send_request_headers.started" (or http2's): the connection is open
        # and nothing is awaited between this event and the write, so a hook that claims a place
        # in a shared rate limit claims it when the call really goes out, not before connecting.
        if event.endswith("send_request_headers.started"):
            await once()

    return {"trace": trace, AT_SEND: once}


class RunsAtSend(httpx.AsyncBaseTransport):
    """Wraps a transport that emits no httpcore trace (a test's `httpx.MockTransport`), so a
    request's `at_send` hook still runs, just before the transport is handed the request."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the request's hook (if any, once), then send it through the wrapped transport."""
        hook = request.extensions.get(AT_SEND)
        if hook is not None:
            await hook()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date), or None."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def check_status(response: httpx.Response, service: str, allow: Iterable[int] = ()) -> httpx.Response:
    """Raise the right error for a failed status: 429/5xx transient, other 4xx permanent.

    Statuses in `allow` are returned as they are, for services (Codeforces) whose error
    bodies say more than their status.
    """
    status = response.status_code
    if status < 400 or status in set(allow):
        return response
    if status == 429:
        raise TransientError("rate limited (HTTP 429)", retry_after=retry_after_seconds(response),
                             service=service, status=status)
    if status >= 500:
        raise TransientError(f"server error (HTTP {status})", service=service, status=status)
    raise PermanentError(f"request refused (HTTP {status}) for {response.request.url}",
                         service=service, status=status)


def _network_error(exc: httpx.HTTPError, service: str) -> TransientError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return TransientError(f"{kind}: {type(exc).__name__}: {exc}".rstrip(": "), service=service)


def send(client: httpx.Client, method: str, url: str, *, service: str, allow: Iterable[int] = (),
         **kwargs: Any) -> httpx.Response:
    """One request through `client`; network errors and bad statuses become SyncErrors."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise _network_error(exc, service) from exc
    return check_status(response, service, allow)


async def send_async(client: httpx.AsyncClient, method: str, url: str, *, service: str,
                     allow: Iterable[int] = (), at_send: AtSend | None = None, **kwargs: Any) -> httpx.Response:
    """Async twin of `send`; `at_send` is awaited once, right before the request is written."""
    if at_send is not None:
        extensions = kwargs.get("extensions") or {}
        kwargs["extensions"] = {**extensions, **_at_send_extensions(at_send, extensions.get("trace"))}
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise _network_error(exc, service) from exc
    return check_status(response, service, allow)


def decode_json(response: httpx.Response, service: str) -> Any:
    """The response body as JSON, or a ParseError saying what came instead (HTML, truncation)."""
    body = response.content
    ctype = response.headers.get("Content-Type", "")
    head = body[:200].lstrip().lower()
    if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
        raise ParseError(f"expected JSON, got an HTML page ({len(body)} bytes, HTTP "
                         f"{response.status_code})", service=service, status=response.status_code)
    try:
        return json.loads(body)
    except ValueError as exc:
        what = "empty body" if not body.strip() else f"invalid or truncated JSON ({exc})"
        raise ParseError(f"expected JSON, got {what}", service=service,
                         status=response.status_code) from None


def _wait(settings: Settings):
    exponential = wait_exponential_jitter(multiplier=settings.http_backoff_base,
                                          max=max(settings.http_backoff_max, settings.http_backoff_base),
                                          jitter=settings.http_backoff_base)

    def wait(retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            # The service said how long to wait: do that, but never longer than our cap.
            return min(float(hinted), settings.http_backoff_max)
        return exponential(retry_state)

    return wait


def retrying(settings: Settings | None = None) -> Retrying:
    """tenacity's `Retrying` for the shared policy (transient errors only)."""
    settings = settings or get_settings()
    return Retrying(retry=retry_if_exception_type(TransientError),
                    stop=stop_after_attempt(settings.http_retries + 1),
                    wait=_wait(settings), reraise=True)


def call_with_retry(fn: Callable[[], T], settings: Settings | None = None) -> T:
    """Run `fn()` under the shared retry policy; the last error is re-raised as it is."""
    return retrying(settings)(fn)


async def async_call_with_retry(fn: Callable[[], Awaitable[T]], settings: Settings | None = None) -> T:
    """Await `fn()` under the shared retry policy."""
    settings = settings or get_settings()
    policy = AsyncRetrying(retry=retry_if_exception_type(TransientError),
                           stop=stop_after_attempt(settings.http_retries + 1),
                           wait=_wait(settings), reraise=True)
    async for attempt in policy:
        with attempt:
            return await fn()
    raise AssertionError("unreachable: tenacity re-raises the last error")
