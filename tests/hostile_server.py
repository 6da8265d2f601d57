"""A local HTTP server that misbehaves on purpose: one kind of hostility per path prefix.

Built on plain sockets (`socketserver`, a thread per connection) so it can do what a
well-behaved server library would not: trickle, never end, lie, inflate. Listens on
127.0.0.1 only. The first path segment picks the behaviour, the rest of the path is ignored,
so a base URL like `http://127.0.0.1:P/trickle` can stand in for any service:

- `ok`: a small JSON answer (`{"status": "OK", "result": []}`)
- `trickle`: headers at once, then a JSON body one byte every `interval` seconds, never ending
- `trickle-500`: a 500 at once, then its body one byte every `interval` seconds
- `trickle-headers`: the status line and headers themselves one byte every `interval` seconds
- `endless`: a chunked JSON body that never ends, as fast as it is read
- `enormous`: `Content-Length` of 10 GiB, then bytes as fast as they are read
- `gzip-bomb`, `deflate-bomb`, `br-bomb`: a small compressed body that decodes to `BOMB_BYTES`
  (brotli: `BR_BOMB_BYTES`) of JSON-ish zeros, with an honest (small) `Content-Length`
- `deep-json`: `[` nested `DEPTH` times (valid JSON, too deep for Python's parser)
- `deepish-json`: a Codeforces-like envelope whose one item holds a list nested 150 deep
  (Python parses it; storing or hashing it later may not)
- `garbage`: random bytes labelled `application/json`
- `truncated`: a JSON document cut in the middle
- `latin1`: JSON text encoded as ISO-8859-1 and labelled so
- `redirect-endless`: a 302 to `/ok/` whose own body never ends
- any `https://` URL of the plain server: the TLS hello is answered by a handshake record
  trickled one byte at a time
- `redirect-loop`: a 302 to itself, for ever
- `keepalive`: quick answers on a kept-alive connection, until a request whose path holds
  `trickle`: that one's headers are trickled (a pooled connection turning hostile)
"""

from __future__ import annotations

import functools
import gzip
import os
import socket
import socketserver
import ssl
import threading
import time
import zlib

import brotli

BOMB_BYTES = 256 * 1024 * 1024
BR_BOMB_BYTES = 1024 * 1024 * 1024
DEPTH = 200_000
GIVE_UP = 30.0  # seconds a trickle goes on at most
_MB = 1024 * 1024


@functools.cache
def bomb(kind: str) -> bytes:
    """A compressed body (`gzip`, `deflate` or `br`) that decodes to a body of zeros, built once."""
    zeros = b"0" * _MB
    if kind == "br":
        packer = brotli.Compressor(quality=5)
        parts = [packer.process(zeros) for _ in range(BR_BOMB_BYTES // _MB)]
        return b"".join(parts) + packer.finish()
    wbits = 31 if kind == "gzip" else 15
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    parts = [packer.compress(zeros) for _ in range(BOMB_BYTES // _MB)]
    return b"".join(parts) + packer.flush()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        if self.server.tls is not None:
            try:
                sock = self.server.tls.wrap_socket(sock, server_side=True)
            except (OSError, ValueError):
                return
        try:
            if self.server.tls is None and sock.recv(1, socket.MSG_PEEK) == b"\x16":
                self.server.hits.append("tls-trickle")  # a TLS hello to this plain server
                return self.mode_tls_trickle(sock)
            self.path = self._read_request(sock)
            if self.path is None:
                return
            mode = self.path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
            self.server.hits.append(mode)
            getattr(self, "mode_" + mode.replace("-", "_"), self.mode_unknown)(sock)
        except (OSError, ValueError):  # the client hung up: that is how most of these end
            pass

    @staticmethod
    def _read_request(sock: socket.socket) -> str | None:
        """The path of the next request on the connection (its headers read), None at its end."""
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = sock.recv(1)  # byte by byte: the next request's bytes stay in the socket
            if not chunk:
                return None
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        return request_line.split(" ")[1] if " " in request_line else "/"

    # --- helpers --------------------------------------------------------------------------
    def _answer(
        self,
        sock: socket.socket,
        body: bytes,
        *,
        status: str = "200 OK",
        ctype: str = "application/json",
        extra: str = "",
    ) -> None:
        sock.sendall(
            f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}Connection: close\r\n\r\n".encode("latin-1")
            + body
        )

    def _forever(self, sock: socket.socket, piece: bytes, chunked: bool) -> None:
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        while not self.server.stopping.is_set():
            sock.sendall(frame)

    def _slowly(self, sock: socket.socket, data: bytes) -> None:
        # Gives up after GIVE_UP seconds (and hangs up), so a client without a total deadline
        # makes its test fail slowly rather than hang for ever.
        until = time.monotonic() + GIVE_UP
        for i in range(len(data)):
            if self.server.stopping.wait(self.server.interval) or time.monotonic() > until:
                return
            sock.sendall(data[i : i + 1])

    # --- behaviours -----------------------------------------------------------------------
    def mode_ok(self, sock):
        self._answer(sock, b'{"status": "OK", "result": []}')

    def mode_trickle(self, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        self._slowly(sock, b'{"status": "OK", "result": [' + b"0, " * 1_000_000)

    def mode_trickle_500(self, sock):
        sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        self._slowly(sock, b"x" * 100_000)

    def mode_trickle_headers(self, sock):
        self._slowly(sock, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 100_000 + b"\r\n\r\n")

    def mode_endless(self, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"3\r\n[0,\r\n")
        self._forever(sock, b"0," * 32768, chunked=True)

    def mode_enormous(self, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n[")
        self._forever(sock, b"0," * 32768, chunked=False)

    def _bomb(self, sock, kind: str, name: str):
        self._answer(sock, bomb(kind), extra=f"Content-Encoding: {name}\r\n")

    def mode_gzip_bomb(self, sock):
        self._bomb(sock, "gzip", "gzip")

    def mode_deflate_bomb(self, sock):
        self._bomb(sock, "deflate", "deflate")

    def mode_br_bomb(self, sock):
        self._bomb(sock, "br", "br")

    def mode_deep_json(self, sock):
        self._answer(sock, b"[" * DEPTH + b"]" * DEPTH)

    def mode_deepish_json(self, sock):
        self._answer(sock, b'{"status": "OK", "result": [{"id": 1, "extra": ' + b"[" * 150 + b"]" * 150 + b"}]}")

    def mode_garbage(self, sock):
        self._answer(sock, os.urandom(4096))

    def mode_truncated(self, sock):
        self._answer(sock, b'{"status": "OK", "result": [{"id": 1, "name": "Round')

    def mode_latin1(self, sock):
        self._answer(sock, '{"name": "Café Ünïcode"}'.encode("latin-1"), ctype="application/json; charset=iso-8859-1")

    def mode_gzip_ok(self, sock):
        self._answer(sock, gzip.compress(b'{"status": "OK", "result": [1, 2, 3]}'), extra="Content-Encoding: gzip\r\n")

    def mode_redirect_endless(self, sock):
        sock.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: /ok/\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        self._forever(sock, b"0," * 32768, chunked=True)

    def mode_tls_trickle(self, sock):
        # A handshake record header announcing 16 KiB, whose bytes then come one at a time.
        self._slowly(sock, b"\x16\x03\x03\x40\x00" + b"\x00" * 16384)

    def mode_redirect_loop(self, sock):
        self._answer(sock, b"", status="302 Found", extra=f"Location: {self.path}\r\n")

    def mode_keepalive(self, sock):
        # Answers quickly and keeps the connection open; a later request whose path holds
        # "trickle" gets its headers trickled on that same (possibly pooled) connection.
        while self.path is not None:
            if "trickle" in self.path:
                return self.mode_trickle_headers(sock)
            body = b'{"status": "OK", "result": []}'
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: keep-alive\r\n\r\n"
                + body
            )
            self.path = self._read_request(sock)

    def mode_unknown(self, sock):
        self._answer(sock, b'{"message": "no such hostile mode"}', status="404 Not Found")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    block_on_close = False

    def __init__(self, interval: float, tls: ssl.SSLContext | None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.interval, self.tls = interval, tls
        self.stopping = threading.Event()
        self.hits: list[str] = []


class HostileServer:
    """Start with `with HostileServer() as hostile:`; `hostile.url("trickle")` is a base URL.
    With `tls` (a server-side SSL context) it speaks HTTPS."""

    def __init__(self, interval: float = 0.2, tls: ssl.SSLContext | None = None):
        self._server = _Server(interval, tls)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="hostile-server", daemon=True
        )

    @property
    def hits(self) -> list[str]:
        """The mode of every request received, in order."""
        return self._server.hits

    def tls_url(self) -> str:
        """An https:// URL of the plain server: its TLS handshake is trickled."""
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def url(self, mode: str) -> str:
        """The base URL of one behaviour (any path may follow it); a bomb is built now, so the
        time it takes never counts against a deadline of the call under test."""
        if mode.endswith("-bomb"):
            bomb(mode.removesuffix("-bomb"))
        scheme = "https" if self._server.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}/{mode}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
