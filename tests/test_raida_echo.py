"""The RAIDA binary echo: every request byte checked by a UDP server in the test, each status
answered, the TCP fallback, and the whole sync against the simulator's 25 listeners."""

from __future__ import annotations

import asyncio
import re
import socket
import zlib

import pytest

from adapters import raida, raida_echo
from adapters.http import make_async_client
from core.settings import Settings
from syncq.simulator.echo import status_for

TIMEOUT = 1.0  # generous: a silent server costs this much per transport, nothing here waits on it to pass


def check_request(data: bytes, raida_id: int) -> None:
    """Every byte of an echo request, as raidax-server reads it."""
    assert len(data) == 50
    assert data[0] == 0x01 and data[1] == 0 and data[2] == raida_id and data[3] == 0  # routing, split, RAIDA, shard
    assert data[4] == 0 and data[5] == 0  # command group 0, command 0
    assert data[6:8] == b"\x00\x06"  # coin id
    assert data[8:14] == bytes(6) and data[14:16] == b"\x01\x01"  # presentation; packet 1 of 1
    assert data[16] == 0 and data[17:22] == bytes(5)  # no encryption, no coin
    assert data[22:24] == (18).to_bytes(2, "big")  # body length
    body = data[32:]
    assert body[12:16] == zlib.crc32(body[:12]).to_bytes(4, "big")  # CRC32 of the 12 random bytes
    assert body[16:18] == b"\x3e\x3e"  # terminator


class EchoServer(asyncio.DatagramProtocol):
    """A UDP RAIDA in the test: checks each request, answers `status` (or `reply(request)`)."""

    def __init__(self, raida_id: int, status: int = 250, reply=None):
        self.raida_id, self.status, self.reply = raida_id, status, reply
        self.requests: list[bytes] = []

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.requests.append(data)
        check_request(data, self.raida_id)
        if self.reply is not None:
            answer = self.reply(data)
        else:
            answer = bytearray(32)
            answer[0], answer[2], answer[3], answer[5] = self.raida_id, self.status, data[4], 1
            answer[6:8] = data[30:32]
            answer[16:32] = data[32:48]
        if answer is not None:
            self.transport.sendto(bytes(answer), addr)


async def with_udp_server(protocol: EchoServer, body):
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=("127.0.0.1", 0))
    try:
        return await body(transport.get_extra_info("sockname")[1])
    finally:
        transport.close()


def echo_once(protocol: EchoServer, index: int = 7) -> dict:
    return asyncio.run(
        with_udp_server(protocol, lambda port: raida_echo.echo(index, "127.0.0.1", port, TIMEOUT, allow_private=True))
    )


def test_request_bytes_are_exactly_the_network_layout_and_ready_is_250():
    server = EchoServer(7)
    result = echo_once(server)
    assert result["ready"] and result["status"] == 250 and result["transport"] == "udp" and result["error"] is None
    assert result["latencyMs"] is not None and result["port"] > 0 and result["host"] == "127.0.0.1"
    again = EchoServer(7)
    echo_once(again)
    first, second = server.requests[0], again.requests[0]
    assert first[24:32] != second[24:32] and first[32:44] != second[32:44]  # fresh nonce, echo and challenge


def test_a_built_request_is_byte_for_byte_what_the_layout_says():
    request = raida_echo.build_request(
        11, nonce=b"\x01\x02\x03\x04\x05\x06", echo=b"\xab\xcd", random12=b"RANDOMBYTES!"
    )
    crc = zlib.crc32(b"RANDOMBYTES!").to_bytes(4, "big")
    assert request == (
        b"\x01\x00\x0b\x00\x00\x00\x00\x06"
        + bytes(6)
        + b"\x01\x01"
        + bytes(6)
        + b"\x00\x12"
        + b"\x01\x02\x03\x04\x05\x06\xab\xcd"
        + b"RANDOMBYTES!"
        + crc
        + b"\x3e\x3e"
    )
    assert status_for(11, request) == 250  # the simulator's server-side check agrees


@pytest.mark.parametrize(
    "status,words",
    [
        (3, "invalid RAIDA id"),
        (7, "invalid coin id"),
        (16, "invalid packet length"),
        (33, "invalid EOF"),
        (37, "invalid CRC"),
        (160, "request rate exceeded"),
        (241, "unknown status"),
        (252, "internal error"),
        (254, "memory allocation error"),
        (255, "invalid routing"),
        (0, "unknown status"),
    ],
)
def test_every_status_other_than_250_is_not_ready_and_named(status, words):
    result = echo_once(EchoServer(7, status=status))
    assert not result["ready"] and result["status"] == status
    assert result["error"] == f"status {status} ({words})" and result["transport"] == "udp"


def test_a_short_answer_is_not_ready():
    result = echo_once(EchoServer(7, reply=lambda request: b"\x07\x00\xfa" + bytes(13)))
    assert not result["ready"] and result["error"] == "answer of 16 bytes, expected 32"


def test_a_ready_answer_that_does_not_echo_the_request_is_not_trusted():
    def stale(request):
        answer = bytearray(32)
        answer[2] = 250
        answer[6:8] = bytes(a ^ 0xFF for a in request[30:32])
        return answer

    result = echo_once(EchoServer(7, reply=stale))
    assert not result["ready"] and result["status"] == 250 and "does not echo" in result["error"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _tcp_raida(raida_id: int, port: int, seen: list[bytes]):
    async def handle(reader, writer):
        request = await reader.readexactly(50)
        seen.append(request)
        answer = bytearray(32)
        answer[0], answer[2], answer[5] = raida_id, 250, 1
        answer[6:8], answer[16:32] = request[30:32], request[32:48]
        writer.write(bytes(answer))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port)


def test_tcp_answers_when_udp_does_not():
    seen: list[bytes] = []

    async def main():
        silent = EchoServer(4, reply=lambda request: None)  # takes the UDP datagram, answers nothing
        loop = asyncio.get_running_loop()
        for _ in range(20):
            port = _free_port()
            try:
                udp, _ = await loop.create_datagram_endpoint(lambda: silent, local_addr=("127.0.0.1", port))
                break
            except OSError:
                continue
        tcp = await _tcp_raida(4, port, seen)
        try:
            return await raida_echo.echo(4, "127.0.0.1", port, TIMEOUT, allow_private=True), silent.requests
        finally:
            udp.close()
            tcp.close()

    result, udp_requests = asyncio.run(main())
    assert len(udp_requests) == 1 and len(seen) == 1
    check_request(seen[0], 4)
    assert seen[0] == udp_requests[0]  # the same request, over TCP
    assert result["ready"] and result["transport"] == "tcp"


def test_nothing_listening_names_both_transports():
    result = asyncio.run(raida_echo.echo(2, "127.0.0.1", _free_port(), TIMEOUT, allow_private=True))
    assert not result["ready"] and result["transport"] is None and result["latencyMs"] is None
    assert result["error"].startswith("no answer: UDP ") and "; TCP " in result["error"]


# --- the whole sync against the simulator --------------------------------------------------------


def _settings(sim) -> Settings:
    return Settings(
        raida_url_template=sim.env()["SYNCQ_RAIDA_URL_TEMPLATE"],
        raida_timeout=TIMEOUT,
        raida_echo="binary",
        raida_allow_private=True,  # the simulator's RAIDA echo on loopback
        http_retries=0,
    )


def _sync(sim, settings: Settings | None = None) -> raida.NetworkSnapshot:
    settings = settings or _settings(sim)

    async def main():
        async with make_async_client(settings) as client:
            return await raida.sync_network(client, settings)

    return asyncio.run(main())


def test_sync_echoes_the_25_listed_servers_over_udp(simulator):
    snapshot = _sync(simulator)
    assert snapshot.error is None and snapshot.ready_count == 25 and snapshot.echo_mode == "binary"
    assert snapshot.targets_source == "raida_servers"
    assert [e["port"] for e in snapshot.echoes] == simulator.echo.ports
    assert {e["transport"] for e in snapshot.echoes} == {"udp"} and snapshot.directory.served_by == 11
    binary = [e for e in simulator.log() if e["path"].endswith("(binary)")]
    assert sorted(e["index"] for e in binary) == list(range(25)) and {e["status"] for e in binary} == {250}
    assert not any(e["path"].endswith("/service/echo") for e in simulator.log())  # no HTTP echo in binary mode


def test_down_servers_are_not_ready_and_a_failing_one_reports_its_status(simulator):
    simulator.set_raida_down([3, 9])
    simulator.set_fault("raida", "500", index=5)
    snapshot = _sync(simulator)
    by_index = {e["index"]: e for e in snapshot.echoes}
    assert snapshot.ready_count == 22 and snapshot.error is None
    assert not by_index[3]["ready"] and by_index[3]["error"].startswith("no answer: UDP timed out")
    assert by_index[5]["status"] == 252 and by_index[5]["error"] == "status 252 (internal error)"


def test_a_silent_server_times_out_over_both_transports(simulator):
    simulator.set_fault("raida", "timeout", index=2)
    snapshot = _sync(simulator)
    two = snapshot.echoes[2]
    # One timeout (1 s) in all, shared by both transports: a down server never costs two.
    assert not two["ready"] and two["error"] == "no answer: UDP timed out after 0.5 s; TCP timed out after 0.5 s"
    assert snapshot.ready_count == 24


def test_the_25_echoes_are_in_flight_together(simulator):
    simulator.set_latency("raida", 1000)  # each answer waits a second: only a fan-out overlaps them all
    snapshot = _sync(simulator, _settings(simulator).replace(raida_timeout=10.0))
    assert snapshot.ready_count == 25
    binary = [e for e in simulator.log() if e["path"].endswith("(binary)")]
    assert len(binary) == 25 and max(e["start"] for e in binary) < min(e["end"] for e in binary)


def test_without_quorum_the_sync_fails_with_the_count(simulator):
    simulator.set_raida_down(range(13))
    snapshot = _sync(simulator)
    assert snapshot.ready_count == 12 and snapshot.directory is None
    assert "only 12 of 25" in snapshot.error
    # RAIDA 11 (the directory) is down too: another RAIDA served the list of echo targets.
    assert re.fullmatch(r"raida_servers of RAIDA(1[3-9]|2[0-4])", snapshot.targets_source)


def test_http_mode_keeps_the_legacy_json_echo(simulator):
    snapshot = _sync(simulator, _settings(simulator).replace(raida_echo="http"))
    assert snapshot.ready_count == 25 and snapshot.echo_mode == "http" and snapshot.targets_source is None
    assert sum(1 for e in simulator.log() if e["path"].endswith("/service/echo")) == 25


def test_admin_sync_through_the_worker_uses_the_binary_echo(client, admin_headers, worker, simulator, store_db):
    simulator.set_raida_down([6])
    r = client.post("/api/admin/sync?wait=30", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["echo_mode"] == "binary" and body["echo_targets"] == "raida_servers" and body["raida_ready"] == 24
    assert body["users_synced"] == 1250 and body["servers_synced"] == 30
    six = store_db.raida_servers.find_one({"index": 6})
    assert six["ready"] is False and six["host"] == "127.0.0.1" and six["port"] == simulator.echo.ports[6]
    assert store_db.raida_servers.find_one({"index": 7})["transport"] == "udp"


def test_the_simulator_checks_requests_as_a_raidax_server_does(simulator):
    port = simulator.echo.ports[9]
    good = raida_echo.build_request(9)
    wrong_raida = raida_echo.build_request(8)
    bad_crc = good[:44] + bytes(b ^ 0xFF for b in good[44:48]) + good[48:]
    no_eof = good[:48] + b"\x00\x00"

    async def ask(request: bytes) -> bytes:
        return await raida_echo.send_udp("127.0.0.1", port, request, TIMEOUT)

    async def main():
        return [await ask(r) for r in (good, wrong_raida, bad_crc, no_eof)]

    answers = asyncio.run(main())
    assert [a[2] for a in answers] == [250, 3, 37, 33]
    assert answers[0][0] == 9 and answers[0][6:8] == good[30:32] and answers[0][16:32] == good[32:48]
    assert raida_echo.read_answer(good, answers[0]) == (250, None)
    tcp = asyncio.run(raida_echo.send_tcp("127.0.0.1", port, good, TIMEOUT))
    assert tcp[2] == 250 and tcp[16:32] == good[32:48]
