"""The RAIDA network's own echo: a binary request over UDP, TCP as the fallback.

Layout as the servers read it (worthingtonse/raidax-server `protocol.c`: `validate_header`,
`validate_decrypt_body`, `get_response_header`; `cmd_status.c`: `cmd_echo`) and as the real client
writes it (worthingtonse/qmail-client `src/network.py`):

request header, 32 bytes: 0 = 0x01 (routing), 1 = 0 (split), 2 = the RAIDA id, 3 = 0 (shard),
4-5 = command group 0 / command 0 (echo), 6-7 = coin id 0x0006, 14-15 = 0x01 0x01 (packet 1 of 1),
16 = 0 (no encryption), 17-21 = 0, 22-23 = body length 18 (big-endian), 24-29 = a nonce,
30-31 = echo bytes (the server copies them into its answer);
request body, 18 bytes: 12 random bytes, their CRC32 (4 bytes, big-endian), 0x3E 0x3E;
answer, 32 bytes: 0 = the RAIDA id, 2 = status (250 = ready), 6-7 = our echo bytes,
9-11 = body size (0 for an echo), 16-31 = our 16-byte challenge.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import time
import zlib
from datetime import UTC, datetime
from typing import Any

from adapters import addresses

HEADER_SIZE = 32
BODY_SIZE = 18
COIN_ID = 0x0006
TERMINATOR = b"\x3e\x3e"
STATUS_READY = 250
# protocol.h's codes an echo can meet (the rest are named by number).
STATUS_NAMES = {
    3: "invalid RAIDA id",
    4: "invalid shard id",
    5: "invalid command group",
    6: "invalid command",
    7: "invalid coin id",
    15: "invalid UDP frame count",
    16: "invalid packet length",
    17: "UDP frame timeout",
    18: "wrong RAIDA",
    27: "invalid encryption code",
    33: "invalid EOF",
    36: "empty request",
    37: "invalid CRC",
    160: "request rate exceeded",
    250: "ready",
    252: "internal error",
    253: "network error",
    254: "memory allocation error",
    255: "invalid routing",
}


def build_request(
    raida_id: int, *, nonce: bytes | None = None, echo: bytes | None = None, random12: bytes | None = None
) -> bytes:
    """The 50-byte echo request (32-byte header, 18-byte body) for RAIDA `raida_id`."""
    if not 0 <= raida_id <= 255:
        raise ValueError(f"RAIDA id {raida_id} does not fit a byte")
    header = bytearray(HEADER_SIZE)
    header[0] = 0x01
    header[2] = raida_id
    header[4], header[5] = 0, 0
    header[6:8] = COIN_ID.to_bytes(2, "big")
    header[14], header[15] = 0x01, 0x01
    header[16] = 0
    header[22:24] = BODY_SIZE.to_bytes(2, "big")
    header[24:30] = nonce if nonce is not None else os.urandom(6)
    header[30:32] = echo if echo is not None else os.urandom(2)
    random12 = random12 if random12 is not None else os.urandom(12)
    body = random12 + zlib.crc32(random12).to_bytes(4, "big") + TERMINATOR
    if len(header) != HEADER_SIZE or len(body) != BODY_SIZE:
        raise ValueError("nonce must be 6 bytes, echo 2 and random12 12")
    return bytes(header) + body


def status_name(status: int) -> str:
    """protocol.h's name for a status code."""
    return STATUS_NAMES.get(status, "unknown status")


def read_answer(request: bytes, answer: bytes) -> tuple[int | None, str | None]:
    """The answer's status and, unless the RAIDA is ready, why not."""
    if len(answer) < HEADER_SIZE:
        return None, f"answer of {len(answer)} bytes, expected {HEADER_SIZE}"
    status = answer[2]
    if status != STATUS_READY:
        return status, f"status {status} ({status_name(status)})"
    if answer[6:8] != request[30:32] or answer[16:32] != request[HEADER_SIZE : HEADER_SIZE + 16]:
        return status, "answer does not echo this request (echo bytes or challenge differ)"
    return status, None


class _FirstDatagram(asyncio.DatagramProtocol):
    def __init__(self, future: asyncio.Future):
        self.future = future

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.future.done():
            self.future.set_result(data)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        if not self.future.done():
            self.future.set_exception(exc)


async def send_udp(host: str, port: int, request: bytes, timeout: float) -> bytes:
    """One datagram out, the first one back (TimeoutError / OSError otherwise)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(lambda: _FirstDatagram(answer), remote_addr=(host, port))
    try:
        transport.sendto(request)
        return await asyncio.wait_for(answer, timeout)
    finally:
        transport.close()


async def send_tcp(host: str, port: int, request: bytes, timeout: float) -> bytes:
    """The request over a TCP connection, and the 32-byte answer header."""

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.readexactly(HEADER_SIZE)
        finally:
            writer.close()

    return await asyncio.wait_for(exchange(), timeout)


def _why(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:.1f} s"
    if isinstance(exc, asyncio.IncompleteReadError):
        return f"closed after {len(exc.partial)} bytes"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


async def checked_address(host: str, port: int, timeout: float) -> tuple[str | None, str | None]:
    """The address to echo `host` at, or why it may not be echoed (not a public address: a
    directory naming loopback, link-local, private, multicast or unspecified addresses would
    turn the echo into a probe of our own network). A name is resolved within `timeout`."""
    check = functools.partial(
        addresses.check_host, host, port, allow_private=False, hint=" (SYNCQ_RAIDA_ALLOW_PRIVATE allows it)"
    )
    try:
        if _is_address(host):
            found = check()
        else:  # the system resolver blocks: off the loop, and no longer than the echo may take
            found = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, check), timeout)
    except addresses.AddressRefused as exc:
        return None, f"refused: {exc}"
    except TimeoutError:
        return None, f"refused: {host} did not resolve within {timeout:.1f} s"
    return found[0], None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def echo(index: int, host: str, port: int, timeout: float, *, allow_private: bool = False) -> dict[str, Any]:
    """Echo one RAIDA over UDP, then over TCP if UDP got no answer, both within `timeout`; never
    raises for the server. A target that is not a public address is refused (a down server, with
    the reason) unless `allow_private`.

    UDP has half the time: a server that is down costs one timeout in all, not one per transport
    (the 25 echoes run together, so a sync waits as long as its slowest echo)."""
    request = build_request(index)
    started = time.perf_counter()
    deadline = started + timeout
    answer, transport, errors = None, None, []
    address, refused = (host, None) if allow_private else await checked_address(host, port, timeout)
    for name, send, share in (("udp", send_udp, 0.5), ("tcp", send_tcp, 1.0)):
        if address is None:
            break
        budget = max(0.01, (deadline - time.perf_counter()) * share if name == "tcp" else timeout * share)
        try:
            answer = await send(address, port, request, budget)
            transport = name
            break
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            errors.append(f"{name.upper()} {_why(exc, budget)}")
    latency = (time.perf_counter() - started) * 1000
    status: int | None = None
    error: str | None
    if refused is not None:
        error = refused
    elif answer is None:
        error = "no answer: " + "; ".join(errors)
    else:
        status, error = read_answer(request, answer)
    return {
        "index": index,
        "name": f"RAIDA{index}",
        "ready": error is None,
        "status": status,
        "statusName": status_name(status) if status is not None else None,
        "latencyMs": round(latency, 1) if answer is not None else None,
        "version": None,
        "message": None,
        "checkedAt": datetime.now(UTC),
        "error": error,
        "host": host,
        "port": port,
        "transport": transport,
    }


async def echo_all(
    targets: list[dict[str, Any]], timeout: float, *, allow_private: bool = False
) -> list[dict[str, Any]]:
    """Echo every target (`index`, `host`, `port`) at once, one result per target, in order."""
    return list(
        await asyncio.gather(
            *(echo(t["index"], t["host"], t["port"], timeout, allow_private=allow_private) for t in targets)
        )
    )
