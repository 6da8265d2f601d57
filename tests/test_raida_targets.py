"""RAIDA echo targets come from the directory: an address inside our network is refused (a down
server, saying why) unless SYNCQ_RAIDA_ALLOW_PRIVATE is set, and the public view never tells a
refused target from a silent one or a closed port."""

from __future__ import annotations

import asyncio

import pytest

import adapters.addresses
from adapters import raida_echo
from core.settings import Settings
from tests.test_raida_echo import EchoServer, _free_port, _sync, with_udp_server

TIMEOUT = 0.5


@pytest.mark.parametrize(
    "host, kind",
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.1.2.3", "private"),
        ("192.168.0.7", "private"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("2002:7f00:1::", "loopback: 6to4 for 127.0.0.1"),
    ],
)
def test_a_target_inside_is_a_down_server_saying_it_was_refused(host, kind):
    result = asyncio.run(raida_echo.echo(3, host, 6379, TIMEOUT))
    assert result["ready"] is False and result["status"] is None and result["latencyMs"] is None
    assert result["error"] == f"refused: {host} is not a public address ({kind}) (SYNCQ_RAIDA_ALLOW_PRIVATE allows it)"


def test_a_refused_target_is_never_sent_anything():
    server = EchoServer(5)
    result = asyncio.run(with_udp_server(server, lambda port: raida_echo.echo(5, "127.0.0.1", port, TIMEOUT)))
    assert result["error"].startswith("refused: 127.0.0.1") and server.requests == []


def test_a_name_resolving_inside_is_refused_and_allowed_private_echoes_it(monkeypatch):
    monkeypatch.setattr(adapters.addresses, "system_resolve", lambda host, port: ["10.0.0.9"])
    result = asyncio.run(raida_echo.echo(1, "raida1.example", 50001, TIMEOUT))
    assert result["error"].startswith("refused: raida1.example resolves to 10.0.0.9, which is not a public address")
    server = EchoServer(5)
    allowed = asyncio.run(
        with_udp_server(server, lambda port: raida_echo.echo(5, "127.0.0.1", port, TIMEOUT, allow_private=True))
    )
    assert allowed["ready"] is True and len(server.requests) == 1


def test_a_sync_without_the_setting_refuses_the_simulators_loopback_targets(simulator):
    settings = Settings(
        raida_url_template=simulator.env()["SYNCQ_RAIDA_URL_TEMPLATE"],
        raida_timeout=TIMEOUT,
        raida_echo="binary",
        raida_allow_private=False,  # what the simulator's variables would have set
    )
    snapshot = _sync(simulator, settings)
    assert snapshot.ready_count == 0 and "only 0 of 25" in snapshot.error
    assert all(e["error"].startswith("refused: 127.0.0.1 is not a public address") for e in snapshot.echoes)


def test_the_public_view_says_no_answer_for_refused_silent_and_closed_alike(client, store_db):
    import store.raida as raida_store

    async def three():
        refused = await raida_echo.echo(0, "127.0.0.1", 6379, TIMEOUT)
        closed = await raida_echo.echo(1, "127.0.0.1", _free_port(), TIMEOUT, allow_private=True)
        return [refused, closed]

    echoes = asyncio.run(three())
    silent = {**echoes[1], "index": 2, "name": "RAIDA2", "error": "no answer: UDP timed out after 0.2 s; TCP ..."}
    assert echoes[0]["error"] != echoes[1]["error"] != silent["error"]  # the admin's record tells them apart
    raida_store.record_echoes([*echoes, silent])
    shown = client.get("/api/data/raida").get_json()["raida"]
    assert [s["error"] for s in shown] == ["no answer"] * 3
    assert all(s["ready"] is False and s["latencyMs"] is None for s in shown)
