"""The simulator's RAIDA binary echo: 25 listeners, UDP and TCP on the same local port each.

Each answers the echo (command group 0, command 0) as a raidax-server does (`protocol.c`): it
checks the request's header and body in the server's order and answers a 32-byte header with
byte 2 the status (250 = ready, else the server's error code), bytes 6-7 the request's echo
bytes and 16-31 its challenge. The simulator's faults apply per RAIDA: `down` and `timeout`
answer nothing (TCP: closed at once / held open), `500` answers status 252 (internal error),
`truncated` half a header, `html`/`wrong_shape`/`empty`/`absurd` bytes that are no answer.
The listeners run on one asyncio loop in a thread; `raida_list()` is the `IP:PORT` text the
simulated directory serves as `raida_servers`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from datetime import UTC, datetime

from syncq.simulator.state import SimState

READY, INTERNAL = 250, 252


def status_for(index: int, request: bytes) -> int:
    """The status a RAIDA `index` answers to `request`, checked in raidax-server's order."""
    if len(request) < 32:
        return 16  # invalid packet length
    checks = (
        (request[0] == 1, 255),
        (request[1] == 0, 2),
        (request[2] == index, 3),
        (request[4] == 0, 5),
        (request[5] == 0, 6),
        (request[6:8] == b"\x00\x06", 7),
        (request[16] == 0, 27),
    )
    for ok, status in checks:
        if not ok:
            return status
    body_size = int.from_bytes(request[22:24], "big")
    body = request[32:]
    if len(body) != body_size or body_size < 2:
        return 16
    if body[-2:] != b"\x3e\x3e":
        return 33  # invalid EOF
    if body_size < 18:
        return 16
    if zlib.crc32(body[:12]).to_bytes(4, "big") != body[12:16]:
        return 37  # invalid CRC
    return READY


def answer_for(index: int, request: bytes, status: int) -> bytes:
    """The 32-byte answer header (an echo has no body)."""
    header = bytearray(32)
    header[0] = index
    header[2] = status
    header[3] = request[4] if len(request) > 4 else 0
    header[5] = 1  # one UDP frame
    if len(request) >= 32:
        header[6:8] = request[30:32]
    if status == READY:
        header[16:32] = request[32:48]
    return bytes(header)


class BinaryEcho:
    """The 25 listeners; `start()` binds them (ports known after), `stop()` closes them."""

    def __init__(self, state: SimState, host: str = "127.0.0.1", count: int = 25):
        self.state, self.host, self.count = state, host, count
        self.ports: list[int] = []
        self.loop = asyncio.new_event_loop()
        self.thread: threading.Thread | None = None
        self._closers: list = []

    def start(self) -> BinaryEcho:
        self.thread = threading.Thread(target=self.loop.run_forever, name="simulator-raida-echo", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._bind_all(), self.loop).result(timeout=30)
        return self

    def stop(self) -> None:
        if self.thread is None:
            return

        async def close() -> None:
            for closer in self._closers:
                closer()
            for task in asyncio.all_tasks():  # answers still waiting (latency, a `timeout` fault)
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.thread = None

    def raida_list(self) -> str:
        """`raida_servers` as the directory serves it: `IP:PORT` per line, RAIDA 0 first."""
        advertised = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return "".join(f"{advertised}:{port}\n" for port in self.ports)

    async def _bind_all(self) -> None:
        for index in range(self.count):
            self.ports.append(await self._bind(index))

    async def _bind(self, index: int) -> int:
        loop = asyncio.get_running_loop()
        for _ in range(50):  # the TCP port picked may be taken for UDP: pick another
            server = await asyncio.start_server(lambda r, w, i=index: self._tcp(i, r, w), self.host, 0)
            port = server.sockets[0].getsockname()[1]
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda i=index: _Udp(self, i), local_addr=(self.host, port)
                )
            except OSError:
                server.close()
                continue
            self._closers += [server.close, transport.close]
            return port
        raise OSError("no local port free for both UDP and TCP")

    async def _pause(self, index: int) -> bool:
        # The configured latency, slept on this loop so all 25 answers wait together; a barrier
        # (a test holding requests until N are in) is a threading one: waited in a thread.
        if self.state.barrier is not None:
            return await asyncio.get_running_loop().run_in_executor(None, self.state.delay, "raida", index)
        ms = self.state.latency_for("raida", index)
        if ms > 0:
            await asyncio.sleep(ms / 1000.0)
        return True

    async def answer(self, index: int, request: bytes, via: str) -> tuple[bytes | None, bool]:
        """What RAIDA `index` sends back (None: nothing) and whether to hold the line silent
        (a `timeout` fault), logged like the HTTP routes."""
        entry = {
            "service": "raida",
            "index": index,
            "method": via,
            "path": f"/raida{index}/echo (binary)",
            "query": "",
            "status": None,
            "bytes": None,
            "started_at": datetime.now(UTC).isoformat(),
            "start": time.monotonic(),
            "end": None,
        }
        self.state.record(entry)
        if not await self._pause(index):
            return None, False
        fault = self.state.take_fault("raida", index)
        mode = fault.mode if fault else None
        status = status_for(index, request)
        if mode in ("down", "timeout"):
            reply = None
        elif mode in ("500", "429", "call_limit"):
            reply = answer_for(index, request, INTERNAL)
        elif mode == "truncated":
            reply = answer_for(index, request, status)[:16]
        elif mode in ("html", "wrong_shape", "empty", "absurd"):
            reply = b"<html>not an echo</html>" if mode == "html" else b""
        else:
            reply = answer_for(index, request, status)
        entry.update(
            status=None if reply is None or len(reply) < 3 else reply[2], bytes=len(reply or b""), end=time.monotonic()
        )
        return reply, mode == "timeout"

    async def _tcp(self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readexactly(32)
            size = int.from_bytes(head[22:24], "big")
            request = head + await reader.readexactly(size)
            reply, hold = await self.answer(index, request, "TCP")
            if reply is None:
                if hold:  # keep the connection open and silent until the client gives up
                    await asyncio.sleep(60)
                return  # `down`: closed without an answer
            writer.write(reply)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, echo: BinaryEcho, index: int):
        self.echo, self.index = echo, index
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        asyncio.ensure_future(self._reply(data, addr))

    async def _reply(self, data: bytes, addr) -> None:
        reply, _ = await self.echo.answer(self.index, data, "UDP")
        if reply is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)
