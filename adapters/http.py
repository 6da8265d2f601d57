"""The one HTTP policy every adapter uses: clients, timeouts, User-Agent, bounds and retries.

Only `TransientError` is retried (tenacity, exponential backoff with jitter, a 429's
`Retry-After` honoured); everything else fails at once. Adapters never build their own
clients or retry loops: they take a client and wrap their calls in `call_with_retry`.

Every call through `send`/`send_async` is bounded against a hostile or broken service: a total
deadline (`http_total_timeout`, a TransientError when passed), and a body read as a stream,
decoded here and cut at `http_max_body_bytes` (per service: `http_max_body_bytes_per_service`)
counted after decompression (a PermanentError). Their response's `content` is already read.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import certifi
import httpx
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from adapters.bodies import ACCEPT_ENCODING, BoundedBody, Watchdog, deadline_error, json_int, nested_deeper_than
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

# The settings a client was made with, so `send` bounds its calls by them (weak: clients die).
_client_settings: weakref.WeakKeyDictionary[Any, Settings] = weakref.WeakKeyDictionary()
# Deeper JSON is refused: MongoDB stores no document nested past 100 levels, and no service
# we read nests past 10.
MAX_JSON_DEPTH = 100
# Headers that describe the body as it came, not the decoded body a bounded call hands back.
_RAW_BODY_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle is slow: every client of the process shares one context.
    return ssl.create_default_context(cafile=certifi.where())


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)


def make_client(
    settings: Settings | None = None, *, transport: httpx.BaseTransport | None = None, **kwargs: Any
) -> httpx.Client:
    """A sync `httpx.Client` with syncq's timeouts and User-Agent; pass `transport` in tests.
    Its connections are not kept alive (see below); passing your own `limits` undoes that."""
    settings = settings or get_settings()
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, **kwargs.pop("headers", {})}
    transport = transport or default_transport
    kwargs.setdefault("verify", _ssl_context())
    # No connection is kept for reuse: the deadline's watchdog learns a call's socket when it
    # connects, and a pooled connection would hide it until its headers came (a trickle there
    # would go unbounded). Sync clients make a handful of calls per sync; a new one each is cheap.
    kwargs.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
    client = httpx.Client(
        timeout=_timeout(settings), headers=headers, transport=transport, follow_redirects=True, **kwargs
    )
    _client_settings[client] = settings
    return client


def make_async_client(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` with the same policy, for calls that must be in flight together."""
    settings = settings or get_settings()
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, **kwargs.pop("headers", {})}
    transport = transport or default_async_transport
    if transport is not None and not isinstance(transport, httpx.AsyncHTTPTransport):
        transport = RunsAtSend(transport)
    kwargs.setdefault("verify", _ssl_context())
    client = httpx.AsyncClient(
        timeout=_timeout(settings), headers=headers, transport=transport, follow_redirects=True, **kwargs
    )
    _client_settings[client] = settings
    return client


def max_body_bytes(settings: Settings, service: str) -> int:
    """The decoded size limit of one answer from `service` (`raida7` falls back to `raida`)."""
    overrides = dict(settings.http_max_body_bytes_per_service)
    for name in (service, service.rstrip("0123456789")):
        if name in overrides:
            return overrides[name]
    return settings.http_max_body_bytes


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
        raise TransientError(
            "rate limited (HTTP 429)", retry_after=retry_after_seconds(response), service=service, status=status
        )
    if status >= 500:
        raise TransientError(f"server error (HTTP {status})", service=service, status=status)
    raise PermanentError(f"request refused (HTTP {status}) for {response.request.url}", service=service, status=status)


def _network_error(exc: httpx.HTTPError, service: str) -> TransientError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return TransientError(f"{kind}: {type(exc).__name__}: {exc}".rstrip(": "), service=service)


def _bounds(client: Any, settings: Settings | None, response: httpx.Response, service: str) -> BoundedBody:
    settings = settings or _client_settings.get(client) or get_settings()
    # An answer already in memory (a mock transport's) was decoded by httpx: only counted here.
    encoding = "" if response.is_stream_consumed else response.headers.get("Content-Encoding", "")
    body = BoundedBody(
        limit=max_body_bytes(settings, service),
        service=service,
        content_encoding=encoding,
        url=str(response.request.url),
    )
    body.check_declared(response.headers.get("Content-Length"))
    return body


def _total(client: Any, settings: Settings | None) -> float:
    return (settings or _client_settings.get(client) or get_settings()).http_total_timeout


def _bounded_response(response: httpx.Response, content: bytes) -> httpx.Response:
    # The decoded body, under the headers that still describe it (no Content-Encoding).
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _RAW_BODY_HEADERS]
    extensions = {k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")}
    rebuilt = httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=extensions,
        default_encoding=response.default_encoding,
    )
    try:
        rebuilt.elapsed = response.elapsed
    except RuntimeError:  # a stream not closed yet has no elapsed time
        pass
    return rebuilt


def _too_many_redirects(client: Any, service: str) -> PermanentError:
    return PermanentError(f"more than {client.max_redirects} redirects", service=service)


def _send_following(client: httpx.Client, request: httpx.Request, service: str, follow: bool) -> httpx.Response:
    # Redirects followed here, not by httpx, which reads each redirect's body whole, unbounded.
    for _ in range(client.max_redirects + 1):
        response = client.send(request, stream=True, follow_redirects=False)
        if not follow or response.next_request is None:
            return response
        request = response.next_request
        response.close()
    raise _too_many_redirects(client, service)


async def _send_following_async(
    client: httpx.AsyncClient, request: httpx.Request, service: str, follow: bool
) -> httpx.Response:
    for _ in range(client.max_redirects + 1):
        response = await client.send(request, stream=True, follow_redirects=False)
        if not follow or response.next_request is None:
            return response
        request = response.next_request
        await response.aclose()
    raise _too_many_redirects(client, service)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    allow: Iterable[int] = (),
    settings: Settings | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One bounded request through `client`; network errors, bad statuses, a passed deadline and
    an oversized body become SyncErrors. The limits are `settings`', else the client's own."""
    total = _total(client, settings)
    extensions = dict(kwargs.pop("extensions", None) or {})
    body: BoundedBody | None = None
    with Watchdog(total, extensions.get("trace")) as watchdog:
        extensions["trace"] = watchdog.trace
        try:
            follow = kwargs.pop("follow_redirects", client.follow_redirects)
            request = client.build_request(method, url, extensions=extensions, **kwargs)
            response = _send_following(client, request, service, follow)
            try:
                watchdog.watch(response.extensions.get("network_stream"))  # a pooled connection
                check_status(response, service, allow)
                body = _bounds(client, settings, response, service)
                if response.is_stream_consumed:  # a mock transport's answer, already in memory
                    body.feed(response.content)
                    body.finish()
                    return response
                for raw in response.iter_raw():
                    if watchdog.passed():
                        raise deadline_error(service, total, body)
                    body.feed(raw)
                if watchdog.stop():
                    raise deadline_error(service, total, body)
                content = body.finish()
            finally:
                response.close()
        except httpx.HTTPError as exc:
            if watchdog.passed():
                raise deadline_error(service, total, body) from None
            raise _network_error(exc, service) from exc
    return _bounded_response(response, content)


async def send_async(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    service: str,
    allow: Iterable[int] = (),
    at_send: AtSend | None = None,
    settings: Settings | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Async twin of `send`; `at_send` is awaited once, right before the request is written,
    and the total deadline counts from then (a wait for our own rate limit is not the service's)."""
    total = _total(client, settings)
    loop = asyncio.get_running_loop()
    body: BoundedBody | None = None
    try:
        async with asyncio.timeout(None if at_send is not None else total) as deadline:
            if at_send is not None:

                async def sending() -> None:
                    await at_send()
                    deadline.reschedule(loop.time() + total)

                extensions = kwargs.get("extensions") or {}
                kwargs["extensions"] = {**extensions, **_at_send_extensions(sending, extensions.get("trace"))}
            follow = kwargs.pop("follow_redirects", client.follow_redirects)
            request = client.build_request(method, url, **kwargs)
            response = await _send_following_async(client, request, service, follow)
            try:
                check_status(response, service, allow)
                body = _bounds(client, settings, response, service)
                if response.is_stream_consumed:
                    body.feed(response.content)
                    body.finish()
                    return response
                async for raw in response.aiter_raw():
                    body.feed(raw)
                content = body.finish()
            finally:
                await response.aclose()
    except TimeoutError:
        raise deadline_error(service, total, body) from None
    except httpx.HTTPError as exc:
        raise _network_error(exc, service) from exc
    return _bounded_response(response, content)


def decode_json(response: httpx.Response, service: str) -> Any:
    """The response body as JSON, or a ParseError saying what came instead: HTML, an empty or
    truncated body, invalid JSON, nesting too deep for the parser, bytes in no JSON encoding."""
    body = response.content
    ctype = response.headers.get("Content-Type", "")
    head = body[:200].lstrip().lower()
    status = response.status_code
    if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
        raise ParseError(
            f"expected JSON, got an HTML page ({len(body)} bytes, HTTP {status})", service=service, status=status
        )
    try:
        value = json.loads(body, parse_int=json_int)
        if not nested_deeper_than(value, MAX_JSON_DEPTH):
            return value
        what = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
    except UnicodeDecodeError:
        what = _undecodable(response)
    except RecursionError:  # json raises this, not a ValueError, for `[[[[...` past the stack
        what = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
    except ValueError as exc:
        what = "empty body" if not body.strip() else f"invalid or truncated JSON ({exc})"
    raise ParseError(f"expected JSON, got {what} ({len(body)} bytes, HTTP {status})", service=service, status=status)


def _undecodable(response: httpx.Response) -> str:
    charset = (response.charset_encoding or "").lower()
    if charset and not charset.replace("-", "").startswith("utf"):
        return f"bytes in {charset}, which JSON never is (it is UTF-8)"
    return "bytes that are not UTF-8 (nor UTF-16/32) text"


def _wait(settings: Settings):
    exponential = wait_exponential_jitter(
        multiplier=settings.http_backoff_base,
        max=max(settings.http_backoff_max, settings.http_backoff_base),
        jitter=settings.http_backoff_base,
    )

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
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(settings.http_retries + 1),
        wait=_wait(settings),
        reraise=True,
    )


def call_with_retry(fn: Callable[[], T], settings: Settings | None = None) -> T:
    """Run `fn()` under the shared retry policy; the last error is re-raised as it is."""
    return retrying(settings)(fn)


async def async_call_with_retry(fn: Callable[[], Awaitable[T]], settings: Settings | None = None) -> T:
    """Await `fn()` under the shared retry policy."""
    settings = settings or get_settings()
    policy = AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(settings.http_retries + 1),
        wait=_wait(settings),
        reraise=True,
    )
    async for attempt in policy:
        with attempt:
            return await fn()
    raise AssertionError("unreachable: tenacity re-raises the last error")
