"""RAIDA sync: parsers on recorded payloads, a proven fan-out, quorum, failover, endpoints."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import adapters.http
from adapters import raida
from adapters.errors import ParseError
from adapters.http import make_async_client
from core.settings import Settings, reload_settings
from tests.fake_raida import TEMPLATE, FakeNetwork

FIXTURES = Path(__file__).parent / "fixtures"
# The fake network answers the legacy HTTP echo; the binary echo has its tests in test_raida_echo.py.
SETTINGS = Settings(
    raida_url_template=TEMPLATE,
    raida_timeout=0.3,
    http_backoff_base=0.0,
    http_backoff_max=0.0,
    http_retries=1,
    raida_echo="http",
)


# --- parsers -------------------------------------------------------------------------------


def test_users_csv_parses_and_counts_malformed_rows():
    result = raida.parse_users((FIXTURES / "raida_users.csv").read_text())
    # The unknown class ("tera") is kept and flagged; a bad serial, 4 fields and a negative fee are not.
    assert len(result.records) == 1251 and len(result.failed) == 3 and len(result.flagged) == 1
    reasons = " ".join(f["error"] for f in result.failed)
    assert "Base32" in reasons and "4 fields" in reasons and "InboxFee" in reasons
    odd = next(u for u in result.records if u["serialNumber"] == "8PQRSTV")
    assert odd["class"] == "tera" and odd["classKnown"] is False and "tera" in result.flagged[0]["error"]
    user = result.records[0]
    assert user["address"] == (
        f"{user['first'].lower()}.{user['last'].lower()}@{user['description'].lower()}"
        f"#{user['serialNumber']}.{user['class']}"
    )


def test_duplicate_serials_keep_the_last_and_are_counted():
    text = "CustomSerialNumber,First,Last,Description,InboxFee,Class,Beacon\nABC,A,B,X,1,bit,\nABC,C,D,X,2,Byte,\n"
    result = raida.parse_users(text)
    assert [u["first"] for u in result.records] == ["C"] and result.records[0]["class"] == "byte"
    assert "duplicate" in result.failed[0]["error"]


@pytest.mark.parametrize("text", ["<html>nope</html>", "a,b,c\n1,2,3\n"])
def test_users_that_are_not_the_csv_are_a_parse_error(text):
    with pytest.raises(ParseError):
        raida.parse_users(text)


def test_qmail_servers_parse_both_forms_and_skip_bad_items():
    wrapped = raida.parse_qmail_servers(json.loads((FIXTURES / "raida_qmail_servers.json").read_text()))
    bare = raida.parse_qmail_servers(json.loads((FIXTURES / "raida_qmail_servers_list.json").read_text()))
    assert len(wrapped.records) == 30 and len(wrapped.failed) == 1 and len(bare.records) == 30
    server = wrapped.records[0]
    assert server["server_id"] == "QM000" and isinstance(server["cost_per_mb"], float) and server["port"] == 50000


def test_qmail_servers_of_the_wrong_shape_are_a_parse_error():
    with pytest.raises(ParseError, match="neither a list"):
        raida.parse_qmail_servers({"data": []})


def test_raida_list_fills_missing_ports():
    result = raida.parse_raida_servers((FIXTURES / "raida_servers.txt").read_text() + "not a host!\n")
    assert len(result.records) == 25 and len(result.failed) == 1
    assert result.records[3] == {"index": 3, "host": "198.51.100.23", "port": 50003}


def test_echo_status_other_than_ready_is_not_ready():
    now = datetime.now(UTC)
    ready = raida.parse_echo(7, json.loads((FIXTURES / "raida_echo_ready.json").read_text()), 12.5, None, now)
    other = raida.parse_echo(8, json.loads((FIXTURES / "raida_echo_not_ready.json").read_text()), 9.0, None, now)
    assert ready["ready"] and ready["latencyMs"] == 12.5
    assert not other["ready"] and "error" in other["error"]


def test_directory_candidates_prefer_the_configured_raida_then_latency():
    echoes = [{"index": i, "ready": i != 4, "latencyMs": float(30 - i)} for i in range(6)]
    assert raida.directory_candidates(echoes, 2) == [2, 5, 3, 1, 0]
    assert raida.directory_candidates(echoes, 4) == [5, 3, 2, 1, 0]


# --- I/O -------------------------------------------------------------------------------------


def run(coro_factory):
    async def main():
        async with make_async_client(SETTINGS, transport=network.transport()) as client:
            return await coro_factory(client)

    return asyncio.run(main())


network: FakeNetwork


def test_all_25_echoes_are_in_flight_together():
    arrived, all_in = [], None

    async def handler(request):
        nonlocal all_in
        all_in = all_in or asyncio.Event()
        arrived.append(request.url.path)
        if len(arrived) == 25:
            all_in.set()
        # Held until every request has arrived: only a real fan-out gets past this.
        await asyncio.wait_for(all_in.wait(), timeout=10)
        return httpx.Response(200, json={"status": "ready"})

    async def main():
        settings = SETTINGS.replace(raida_timeout=15)
        async with make_async_client(settings, transport=httpx.MockTransport(handler)) as client:
            return await raida.echo_all(client, settings)

    echoes = asyncio.run(main())
    assert len(arrived) == 25 and all(e["ready"] for e in echoes)


def test_a_hanging_server_is_marked_not_ready_after_its_timeout():
    global network
    network = FakeNetwork()
    network.mode[3] = "hang"
    network.mode[9] = "down"
    echoes = run(lambda client: raida.echo_all(client, SETTINGS))
    assert not echoes[3]["ready"] and "timed out" in echoes[3]["error"]
    assert not echoes[9]["ready"] and "500" in echoes[9]["error"]
    assert sum(e["ready"] for e in echoes) == 23


def test_quorum_fails_with_twelve_ready():
    global network
    network = FakeNetwork()
    for i in range(13):
        network.mode[i] = "down"
    snapshot = run(lambda client: raida.sync_network(client, SETTINGS))
    assert snapshot.ready_count == 12 and snapshot.directory is None
    assert "only 12 of 25" in snapshot.error and set(network.directory_requests()) <= {11}


@pytest.mark.parametrize("mode", ["down", "garbage_dir", "dir_down", "not_ready"])
def test_directory_fails_over_when_raida_11_is_unusable(mode):
    global network
    network = FakeNetwork()
    network.mode[11] = mode
    snapshot = run(lambda client: raida.sync_network(client, SETTINGS))
    assert snapshot.error is None and snapshot.directory.served_by != 11
    assert len(snapshot.directory.users.records) == 1251
    # RAIDA 11 is asked first, alongside the echoes; its answer is used only if it is ready.
    assert network.directory_requests()[0] == 11
    if mode in ("garbage_dir", "dir_down"):  # its echo was fine: its directory failed, then failover
        assert snapshot.directory.attempts[0]["raida"] == 11
    else:  # its echo failed: its directory is not even considered
        assert all(a["raida"] != 11 for a in snapshot.directory.attempts)


def test_no_raida_serving_the_directory_names_each_failure():
    global network
    network = FakeNetwork()
    for i in range(25):
        network.mode[i] = "garbage_dir"
    snapshot = run(lambda client: raida.sync_network(client, SETTINGS))
    assert snapshot.directory is None and snapshot.error.startswith("Failed to sync from RAIDA network")
    assert "raida11:" in snapshot.error and "raida0:" in snapshot.error


# --- task and endpoints ------------------------------------------------------------------------


@pytest.fixture()
def fake_network(monkeypatch, worker):
    fake = FakeNetwork()
    monkeypatch.setattr(adapters.http, "default_async_transport", fake.transport())
    monkeypatch.setenv("SYNCQ_RAIDA_URL_TEMPLATE", TEMPLATE)
    monkeypatch.setenv("SYNCQ_RAIDA_TIMEOUT", "0.3")
    monkeypatch.setenv("SYNCQ_RAIDA_ECHO", "http")
    reload_settings()
    yield fake
    monkeypatch.delenv("SYNCQ_RAIDA_URL_TEMPLATE")
    monkeypatch.delenv("SYNCQ_RAIDA_TIMEOUT")
    monkeypatch.delenv("SYNCQ_RAIDA_ECHO")
    reload_settings()


def test_admin_sync_answers_the_documented_success_body(client, admin_headers, fake_network, store_db):
    fake_network.mode[2] = "down"
    r = client.post("/api/admin/sync?wait=30", headers=admin_headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "success" and body["users_synced"] == 1251 and body["servers_synced"] == 30
    assert body["users_flagged"] == 1 and body["echo_mode"] == "http"  # the "tera" user: kept, flagged
    assert body["raida_servers_synced"] == 25 and body["raida_ready"] == 24
    assert body["timestamp"].endswith("Z") and body["directory_from"] == "RAIDA11"
    assert store_db.directory_users.count_documents({}) == 1251 and body["users_written"] == 1251
    again = client.post("/api/admin/sync?wait=30", headers=admin_headers).get_json()
    assert again["users_synced"] == 1251 and again["users_written"] == 0  # unchanged users are not rewritten


def test_failed_sync_answers_502_with_the_error_body_and_deletes_nothing(client, admin_headers, fake_network, store_db):
    assert client.post("/api/admin/sync?wait=30", headers=admin_headers).status_code == 200
    for i in range(14):
        fake_network.mode[i] = "down"
    r = client.post("/api/admin/sync?wait=30", headers=admin_headers)
    assert r.status_code == 502
    body = r.get_json()
    assert body["status"] == "error" and body["users_synced"] == 0 and body["servers_synced"] == 0
    assert body["message"].startswith("Failed to connect to RAIDA network") and "11 of 25" in body["message"]
    assert store_db.directory_users.count_documents({}) == 1251 and store_db.qmail_servers.count_documents({}) == 30
    raida_view = client.get("/api/data/raida").get_json()
    assert raida_view["count"] == 25 and raida_view["ready"] == 11


def test_servers_endpoint_with_and_without_unavailable(client, admin_headers, fake_network):
    fake_network.mode[5] = "down"
    client.post("/api/admin/sync?wait=30", headers=admin_headers)
    available = client.get("/api/data/servers").get_json()
    everything = client.get("/api/data/servers?include_unavailable=true").get_json()
    assert available["count"] == 29 and everything["count"] == 30 and everything["include_unavailable"] is True
    server = next(s for s in everything["servers"] if s["server_id"] == "QM005")
    assert set(server) >= {
        "server_id",
        "server_index",
        "ip_address",
        "port",
        "server_type",
        "cost_per_mb",
        "cost_per_8_weeks",
        "ping_ms",
        "percent_uptime",
        "is_available",
        "use_for_parity",
        "last_checked",
        "region",
        "description",
    }
    assert server["is_available"] is False and server["ping_ms"] is None
    assert client.get("/api/data/servers?include_unavailable=maybe").status_code == 400


def test_parity_defaults_to_the_first_available_server_and_can_be_set(client, admin_headers, fake_network):
    r = client.get("/api/admin/servers/parity", headers=admin_headers)
    assert r.get_json() == {
        "status": "not_configured",
        "parity_server": None,
        "message": "No parity server is currently configured",
    }
    fake_network.mode[0] = "down"
    client.post("/api/admin/sync?wait=30", headers=admin_headers)
    body = client.get("/api/admin/servers/parity", headers=admin_headers).get_json()
    assert body["status"] == "configured" and body["parity_server"]["server_id"] == "QM001"
    r = client.post("/api/admin/servers/parity", headers=admin_headers, json={"server_id": "QM007"})
    assert r.status_code == 200
    assert r.get_json() == {"status": "success", "server_id": "QM007", "message": "Parity server set to QM007"}
    servers = client.get("/api/data/servers").get_json()["servers"]
    assert [s["server_id"] for s in servers if s["use_for_parity"]] == ["QM007"]


@pytest.mark.parametrize("body,status", [({}, 400), ({"server_id": {"$gt": ""}}, 400), ({"server_id": "NOPE"}, 404)])
def test_parity_errors(client, admin_headers, body, status):
    r = client.post("/api/admin/servers/parity", headers=admin_headers, json=body)
    assert r.status_code == status and r.get_json()["statusCode"] == status


def test_directory_search(client, admin_headers, fake_network):
    client.post("/api/admin/sync?wait=30", headers=admin_headers)
    page = client.get("/api/data/users?q=alice&limit=5").get_json()
    assert page["count"] == 5 and all("alice" in u["address"] for u in page["users"])
    second = client.get(f"/api/data/users?q=alice&limit=5&cursor={page['next_cursor']}").get_json()
    assert second["users"][0]["serialNumber"] > page["users"][-1]["serialNumber"]
    assert client.get("/api/data/users?cursor=../../x").status_code == 400


def test_raida_sync_requires_admin(client, user_token):
    r = client.post("/api/admin/sync", headers={"Authorization": f"Bearer {user_token}"})
    assert r.status_code == 403
