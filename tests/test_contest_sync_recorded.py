"""Contest sync with the real adapters on recorded payloads, through a real worker and store."""

from __future__ import annotations

import json

import httpx
import pytest

import adapters.http
from syncs.contests import sync_platform as sync_platform_once
from tests.recorded import RecordedPlatforms


@pytest.fixture()
def platforms(monkeypatch, store_db):
    recorded = RecordedPlatforms()
    monkeypatch.setattr(adapters.http, "default_transport", recorded.transport())
    return recorded


def test_first_identical_and_changed_syncs_count_exactly(platforms, store_db):
    first = sync_platform_once("codeforces")
    assert (first["synced"], first["updated"], first["failed"]) == (2000, 0, 0)
    second = sync_platform_once("codeforces")
    assert (second["synced"], second["updated"], second["failed"], second["unchanged"]) == (0, 0, 0, 2000)

    def change(body):
        body["result"][5]["name"] = "Codeforces Round (renamed)"
        body["result"][6]["phase"] = "FINISHED"
        body["result"].insert(
            0,
            {
                "id": 2101,
                "name": "New Round",
                "type": "CF",
                "phase": "BEFORE",
                "frozen": False,
                "durationSeconds": 7200,
            },
        )

    platforms.edit("/api/contest.list", change)
    third = sync_platform_once("codeforces")
    assert (third["synced"], third["updated"], third["unchanged"]) == (1, 2, 1998)
    assert store_db.contests.count_documents({"platform": "codeforces"}) == 2001


def test_every_platform_syncs_from_its_recorded_payload(platforms, store_db):
    counts = {name: sync_platform_once(name)["synced"] for name in ("leetcode", "codechef", "atcoder")}
    assert counts == {"leetcode": 650, "codechef": 66, "atcoder": 1805}
    assert sync_platform_once("codechef")["failed"] == 1  # the item without a code, every time


def test_html_instead_of_json_keeps_stored_contests(platforms, store_db):
    sync_platform_once("codechef")
    platforms.overrides["/api/list/contests/all"] = lambda request: httpx.Response(
        200, text="<!DOCTYPE html><html>Under maintenance</html>", headers={"Content-Type": "text/html"}
    )
    result = sync_platform_once("codechef")
    assert result["failed"] == 1 and "HTML page" in result["error"]
    assert store_db.contests.count_documents({"platform": "codechef"}) == 66


def test_truncated_json_is_reported_not_retried(platforms):
    body = platforms.bodies["/graphql"]
    platforms.overrides["/graphql"] = lambda request: httpx.Response(
        200, content=body[: len(body) // 2], headers={"Content-Type": "application/json"}
    )
    result = sync_platform_once("leetcode")
    assert "truncated JSON" in result["error"]
    # Each query is sent once: allContests, then the fallback's topTwoContests (truncated too).
    queries = [json.loads(r.content)["query"] for r in platforms.requests if r.url.path == "/graphql"]
    assert len(queries) == 2 and "allContests" in queries[0] and "topTwoContests" in queries[1]


def test_sync_all_through_the_worker_with_codeforces_down(client, admin_headers, worker, platforms, store_db):
    platforms.overrides["/api/contest.list"] = lambda request: httpx.Response(503, text="busy")
    r = client.post("/contests/sync/all?wait=60", headers=admin_headers)
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert results["codeforces"]["failed"] == 1 and "HTTP 503" in results["codeforces"]["error"]
    assert [results[p]["synced"] for p in ("leetcode", "codechef", "atcoder")] == [650, 66, 1805]
    assert store_db.contests.count_documents({}) == 650 + 66 + 1805
    platforms_body = client.get("/platforms").get_json()["platforms"]
    state = {p["platform"]: p for p in platforms_body}
    assert state["codeforces"]["lastSyncedAt"] is None and "503" in state["codeforces"]["lastError"]
    assert state["atcoder"]["lastSyncedAt"] is not None
