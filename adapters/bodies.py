"""Bounded answers: a body decoded piece by piece and cut at a size limit, and a deadline.

httpx decodes gzip, deflate and brotli for us, but one 64 KB network read goes through its
decoder in one call: up to ~64 MB out of a gzip bomb and, with brotli (~400 bytes can hold
256 MB of zeros), practically without bound. So the raw bytes (`iter_raw`) are decoded here
with decompressors that take an output limit (zlib's `max_length`, brotli's
`output_buffer_limit`), and the decoded size is counted as it grows: memory stays near the
limit whatever the compression ratio.

httpx's timeouts are per operation: a server that sends one byte every few seconds never
trips them. `Watchdog` bounds a blocking call as a whole by shutting its socket down at the
deadline; async calls use an asyncio timeout instead (see `adapters.http`).
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from adapters.errors import ParseError, PermanentError, TransientError

try:  # brotli >= 1.2 (a dependency): the first version whose decompressor takes an output limit
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency; without it "br" is not asked for
    brotli = None

PIECE = 64 * 1024  # the most one decompressor call may hand back
ENCODINGS = ("gzip", "deflate", "br") if brotli is not None else ("gzip", "deflate")
_DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, brotli.error) if brotli is not None else (zlib.error,)
ACCEPT_ENCODING = ", ".join(ENCODINGS)  # never ask for an encoding we cannot decode with a bound


class _Inflate:
    """gzip (`wbits=31`) or deflate: zlib-wrapped, or raw as some servers send it."""

    def __init__(self, wbits: int, raw_fallback: bool = False):
        self._obj = zlib.decompressobj(wbits)
        self._raw_fallback, self._started = raw_fallback, False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of at most PIECE bytes each; trailing bytes after the end are ignored."""
        while not self._obj.eof:
            try:
                out = self._obj.decompress(data, PIECE)
            except zlib.error:
                if self._raw_fallback and not self._started:  # "deflate" sent without its zlib header
                    self._obj, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise
            self._started = True
            data = self._obj.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < PIECE:
                return
            # A full piece with no input left may still have output pending: ask again with b"".

    def end(self) -> Iterator[bytes]:
        """What is left once the input is over (at most a window's worth)."""
        if not self._obj.eof:
            tail = self._obj.flush()
            if tail:
                yield tail


class _Brotli:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of about PIECE bytes each."""
        if self._obj.is_finished():
            return
        out = self._obj.process(data, output_buffer_limit=PIECE)
        if out:
            yield out
        while not self._obj.can_accept_more_data():
            out = self._obj.process(b"", output_buffer_limit=PIECE)
            if out:
                yield out

    def end(self) -> Iterator[bytes]:
        """Nothing: brotli hands back all it has while fed."""
        return iter(())


def _decoder(name: str, service: str) -> Any:
    if name == "gzip" or name == "x-gzip":
        return _Inflate(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _Inflate(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br" and brotli is not None:
        return _Brotli()
    raise ParseError(f"answer uses an unsupported Content-Encoding {name!r}", service=service)


class BoundedBody:
    """Collects a body's raw chunks, decodes them (all of its Content-Encodings, last applied
    first) and raises a PermanentError as soon as the decoded size passes `limit`."""

    def __init__(self, *, limit: int, service: str, content_encoding: str = "", url: str = ""):
        self.limit, self.service, self.url = limit, service, url
        names = [part.strip().lower() for part in content_encoding.split(",")]
        self._decoders = [_decoder(n, service) for n in reversed(names) if n and n != "identity"]
        self._parts: list[bytes] = []
        self.size = 0  # decoded bytes so far
        self.raw_size = 0  # bytes as they came off the network

    def check_declared(self, content_length: str | None) -> None:
        """Refuse at once a body whose Content-Length already says it is too large."""
        try:
            declared = int(content_length) if content_length else None
        except ValueError:
            return  # an unreadable length is not trusted either way; the counted size decides
        if declared is not None and declared > self.limit:
            raise PermanentError(
                f"answer too large: Content-Length says {declared} bytes, more than "
                f"the limit of {self.limit} bytes{self._where()}",
                service=self.service,
            )

    def feed(self, raw: bytes) -> None:
        """Decode and keep one raw chunk; raise once the decoded total passes the limit."""
        self.raw_size += len(raw)
        for piece in self._decode(raw, 0):
            self._keep(piece)

    def finish(self) -> bytes:
        """The whole decoded body (after the decoders' last output)."""
        for index, decoder in enumerate(self._decoders):
            for piece in self._guard(decoder.end):
                for out in self._decode(piece, index + 1):
                    self._keep(out)
        body = b"".join(self._parts)
        self._parts = [body]
        return body

    def _decode(self, data: bytes, start: int) -> Iterator[bytes]:
        if start >= len(self._decoders):
            if data:
                yield data
            return
        for piece in self._guard(lambda: self._decoders[start].feed(data)):
            yield from self._decode(piece, start + 1)

    def _guard(self, produce: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
        try:
            yield from produce()
        except _DECODE_ERRORS as exc:
            raise ParseError(f"answer's compressed body does not decode ({exc})", service=self.service) from None

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            self._parts.clear()
            raise PermanentError(
                f"answer too large: more than {self.limit} bytes (the limit) after "
                f"{self.raw_size} bytes received{self._where()}; cut there",
                service=self.service,
            )
        self._parts.append(piece)

    def _where(self) -> str:
        return f" from {self.url}" if self.url else ""


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what the store holds as an integer (BSON int64)


def json_int(text: str) -> int | float:
    """A JSON integer as Python reads it, or as a float when it lies beyond a 64-bit integer: the
    store could not hold it (one such number failed a whole bulk write), while a float is stored,
    and a parser that wants an int refuses that one item as malformed. Digits past int()'s limit
    (4,300) read as an infinite float instead of failing the whole answer."""
    if len(text) > 20:  # more digits than any 64-bit integer has
        return float(text)
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else float(value)


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests containers more than `limit` levels deep."""
    # Walked without recursion. A depth that json.loads just managed can still break whatever
    # recurses over the value later from a deeper stack (hashing, the store, jsonify).
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def deadline_error(service: str, seconds: float, body: BoundedBody | None = None) -> TransientError:
    """The error of a call that did not end within its total deadline."""
    got = f"; {body.raw_size} bytes of the body had come" if body is not None and body.raw_size else ""
    return TransientError(
        f"timed out: no complete answer within the total deadline of {seconds:g} s (SYNCQ_HTTP_TOTAL_TIMEOUT){got}",
        service=service,
    )


class Watchdog:
    """Ends a blocking call at its deadline: every socket the call uses is shut down then,
    which wakes a read blocked in the calling thread (a closed descriptor would not).

    Sockets come from httpcore's `trace` extension (`connection.connect_tcp.complete`, whose
    `return_value` is the new network stream) and from a response's `network_stream` extension.
    A plain socket is watched through a duplicate (`socket.dup`): it still reaches the
    connection once TLS has wrapped the original (wrapping detaches it), so a trickled TLS
    handshake is cut too, and it can never name another connection's reused descriptor.
    """

    EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")

    def __init__(self, seconds: float, caller_trace: Callable[[str, dict], None] | None = None):
        self.seconds, self.deadline = seconds, time.monotonic() + seconds
        self.expired = False
        self._caller_trace = caller_trace
        self._sockets: list[tuple[socket.socket, bool]] = []  # (socket, a duplicate we must close)
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def stop(self) -> bool:
        """Disarm; True when it had already fired (an answer that "ended" since may be cut short:
        a body read until the connection closes ends cleanly at the shutdown)."""
        with self._lock:
            self._done = True
            fired = self.expired
            sockets, self._sockets = self._sockets, []
        self._timer.cancel()
        for sock, duplicate in sockets:
            if duplicate:
                sock.close()
        return fired

    def passed(self) -> bool:
        """Whether the deadline has passed (fired or not)."""
        return self.expired or time.monotonic() >= self.deadline

    def trace(self, event: str, info: dict) -> None:
        """httpcore trace callback: watch each new connection's socket."""
        if self._caller_trace is not None:
            self._caller_trace(event, info)
        if event in self.EVENTS:
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        """Watch a network stream's socket (ignored when it exposes none, e.g. a mock)."""
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if get is not None else None
        if not isinstance(sock, socket.socket):
            return
        try:
            watched, duplicate = sock.dup(), True
        except (NotImplementedError, OSError):  # a TLS socket cannot be duplicated: watch it as it is
            watched, duplicate = sock, False
        with self._lock:
            if self._done:
                late = None
            else:
                self._sockets.append((watched, duplicate))
                late = self.expired
        if late is None:
            if duplicate:
                watched.close()
        elif late:
            self._shutdown(watched)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets = [sock for sock, _ in self._sockets]
            for sock in sockets:  # under the lock: `stop` closes the duplicates only after
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:
            # The base class's shutdown, also for a TLS socket: SSLSocket.shutdown drops its
            # TLS object first, which the read blocked in another thread is still using.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:  # already closed
            pass
