"""Contest sync: exact counts, failures isolated, nothing lost, one run at a time."""

from __future__ import annotations

import threading

import pytest

import store.contests as contests_store
from syncs.contests import sync_platform as sync_platform_once
from tests.contest_stubs import DOWN, GARBAGE, contest, install


@pytest.fixture()
def stubs(monkeypatch, store_db):
    return install(monkeypatch)


def test_first_sync_counts_every_contest_as_synced(stubs):
    assert sync_platform_once("codeforces") == {"synced": 5, "updated": 0, "failed": 0, "unchanged": 0}
    assert contests_store.get_contest("codeforces", "co3")["name"] == "codeforces round 3"


def test_identical_second_sync_writes_and_counts_nothing(stubs, store_db):
    sync_platform_once("codeforces")
    before = {d["platformId"]: d["updatedAt"] for d in store_db.contests.find()}
    assert sync_platform_once("codeforces") == {"synced": 0, "updated": 0, "failed": 0, "unchanged": 5}
    assert {d["platformId"]: d["updatedAt"] for d in store_db.contests.find()} == before


def test_changed_and_new_contests_are_counted_apart(stubs):
    sync_platform_once("codeforces")
    stubs["codeforces"].contests[2] = contest("codeforces", 2, name="renamed", phase="RUNNING")
    stubs["codeforces"].contests.append(contest("codeforces", 9))
    assert sync_platform_once("codeforces") == {"synced": 1, "updated": 1, "failed": 0, "unchanged": 4}
    assert contests_store.get_contest("codeforces", "co2")["name"] == "renamed"


def test_a_contest_stored_by_someone_else_since_the_hashes_were_read_is_upserted_not_failed(store_db):
    docs = [contest("codeforces", n).to_doc() for n in range(3)]
    contests_store.upsert_contests("codeforces", docs[:2])
    docs[1]["name"] = "renamed meanwhile"
    # Stale hashes: the writer believes all three are new, so it inserts them; two hit the unique key.
    outcome = contests_store.upsert_contests("codeforces", docs, hashes={})
    assert (outcome.synced, outcome.updated, outcome.unchanged, outcome.failed) == (1, 1, 1, [])
    assert store_db.contests.count_documents({}) == 3
    assert contests_store.get_contest("codeforces", "co1")["name"] == "renamed meanwhile"


def test_volatile_raw_fields_do_not_count_as_changes(stubs):
    stubs["codeforces"].contests = [contest("codeforces", 1, raw={"id": 1, "relativeTimeSeconds": 10})]
    sync_platform_once("codeforces")
    stubs["codeforces"].contests = [contest("codeforces", 1, raw={"id": 1, "relativeTimeSeconds": 99})]
    assert sync_platform_once("codeforces")["unchanged"] == 1


def test_failed_fetch_returns_failed_one_and_keeps_stored_contests(stubs, store_db):
    sync_platform_once("codechef")
    stubs["codechef"].error = DOWN
    result = sync_platform_once("codechef")
    assert result["synced"] == 0 and result["updated"] == 0 and result["failed"] == 1
    assert "connection refused" in result["error"] and result["error"].startswith("codechef")
    assert store_db.contests.count_documents({"platform": "codechef"}) == 5


def test_garbage_never_blanks_stored_contests(stubs, store_db):
    sync_platform_once("leetcode")
    stubs["leetcode"].error = GARBAGE
    assert "HTML page" in sync_platform_once("leetcode")["error"]
    stubs["leetcode"].error = None
    stubs["leetcode"].contests = []
    assert sync_platform_once("leetcode")["failed"] == 0
    assert store_db.contests.count_documents({"platform": "leetcode"}) == 5


def test_skipped_records_count_as_failed_without_sinking_the_rest(stubs):
    stubs["atcoder"].skipped = [{"id": "bad1"}, {"id": "bad2"}]
    result = sync_platform_once("atcoder")
    assert result["synced"] == 5 and result["failed"] == 2
    assert [f["platformId"] for f in result["failures"]] == ["bad1", "bad2"]


def test_platform_state_keeps_last_success_apart_from_last_attempt(stubs, store_db):
    sync_platform_once("codechef")
    first = store_db.platforms.find_one({"_id": "codechef"})
    stubs["codechef"].error = DOWN
    sync_platform_once("codechef")
    state = store_db.platforms.find_one({"_id": "codechef"})
    assert state["lastSyncedAt"] == first["lastSyncedAt"]
    assert state["lastAttemptAt"] > first["lastAttemptAt"] and "connection refused" in state["lastError"]


# --- through the API and a real worker ------------------------------------------------


def test_sync_all_runs_every_platform_when_one_fails(client, admin_headers, worker, monkeypatch, store_db):
    stubs = install(monkeypatch)
    stubs["leetcode"].error = GARBAGE
    r = client.post("/contests/sync/all?wait=30", headers=admin_headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["message"] == "Sync completed for all platforms"
    assert list(body["results"]) == ["codeforces", "leetcode", "codechef", "atcoder"]
    for name in ("codeforces", "codechef", "atcoder"):
        assert {k: body["results"][name][k] for k in ("synced", "updated", "failed")} == {
            "synced": 5,
            "updated": 0,
            "failed": 0,
        }
    assert body["results"]["leetcode"]["failed"] == 1 and "HTML" in body["results"]["leetcode"]["error"]
    assert store_db.contests.count_documents({}) == 15
    job = client.get("/jobs?kind=contests.sync_all", headers=admin_headers).get_json()["jobs"][0]
    assert job["state"] == "SUCCESS" and job["progress"] == {"done": 4, "total": 4, "current": "atcoder"}


def test_sync_all_follows_the_configured_order(client, admin_headers, worker, monkeypatch):
    from core.settings import reload_settings

    install(monkeypatch)
    monkeypatch.setenv("SYNCQ_PLATFORM_ORDER", "atcoder,codechef")
    reload_settings()
    try:
        body = client.post("/contests/sync/all?wait=30", headers=admin_headers).get_json()
    finally:
        monkeypatch.delenv("SYNCQ_PLATFORM_ORDER")
        reload_settings()
    # The configured platforms first, in that order; registered ones not named follow.
    assert list(body["results"]) == ["atcoder", "codechef", "codeforces", "leetcode"]


def test_one_platform_sync_answers_its_own_body(client, admin_headers, worker, monkeypatch):
    install(monkeypatch)
    r = client.post("/contests/sync/codechef?wait=30", headers=admin_headers)
    assert r.status_code == 200
    assert r.get_json() == {
        "message": "Sync completed for codechef",
        "platform": "codechef",
        "synced": 5,
        "updated": 0,
        "failed": 0,
        "unchanged": 0,
    }


def test_unknown_platform_is_404_listing_the_registered_ones(client, admin_headers, monkeypatch):
    install(monkeypatch)
    r = client.post("/contests/sync/topcoder", headers=admin_headers)
    assert r.status_code == 404
    assert r.get_json()["platforms"] == ["codeforces", "leetcode", "codechef", "atcoder"]
    assert "codeforces" in r.get_json()["message"]


def test_trigger_while_a_sync_all_runs_is_deduplicated(client, admin_headers, worker, monkeypatch):
    stubs = install(monkeypatch)
    gate = threading.Event()
    stubs["codeforces"].gate = gate
    first = client.post("/contests/sync/all", headers=admin_headers).get_json()
    second = client.post("/contests/sync/all", headers=admin_headers)
    assert second.status_code == 202
    assert second.get_json()["job_id"] == first["job_id"] and second.get_json()["deduplicated"] is True
    gate.set()
    assert client.get(f"/jobs/{first['job_id']}?wait=30", headers=admin_headers).status_code == 200
    # The guard is gone once the run ends (found through Redis, with its note of which job held it).
    from core.redisconn import get_redis

    assert get_redis().get(f"syncq:guard-of:{first['job_id']}") is None
    third = client.post("/contests/sync/all", headers=admin_headers).get_json()
    assert third["job_id"] != first["job_id"] and "deduplicated" not in third
    client.get(f"/jobs/{third['job_id']}?wait=30", headers=admin_headers)


def test_contest_sync_requires_admin(client, user_token):
    r = client.post("/contests/sync/all", headers={"Authorization": f"Bearer {user_token}"})
    assert r.status_code == 403


# --- public reads ------------------------------------------------------------------------


@pytest.fixture()
def synced(stubs):
    stubs["codeforces"].contests.append(
        contest("codeforces", 99, startTime=None, endTime=None, phase="UPCOMING", rawPhase="BEFORE")
    )
    for name in stubs:
        sync_platform_once(name)
    return stubs


def test_contests_are_listed_by_start_time_across_pages(client, synced):
    seen, cursor = [], None
    while True:
        url = "/contests?limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).get_json()
        seen += body["contests"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 21 and len({(c["platform"], c["platformId"]) for c in seen}) == 21
    assert seen[0]["startTime"] is None
    starts = [c["startTime"] for c in seen[1:]]
    assert starts == sorted(starts)


def test_contests_filter_by_platform_phase_and_time(client, synced):
    body = client.get("/contests?platform=codeforces&phase=upcoming").get_json()
    assert [c["platformId"] for c in body["contests"]] == ["co99"]
    body = client.get("/contests?from=2026-11-03T00:00:00Z&to=2026-11-04T00:00:00Z").get_json()
    assert body["count"] == 4 and all(c["startTime"].startswith("2026-11-03") for c in body["contests"])


@pytest.mark.parametrize(
    "query", ["phase=SOON", "from=yesterday", "limit=0", "limit=501", "cursor=garbage", "from=2026-11-05&to=2026-11-01"]
)
def test_bad_contest_query_parameters_are_400(client, synced, query):
    r = client.get(f"/contests?{query}")
    assert r.status_code == 400 and r.get_json()["statusCode"] == 400


def test_one_contest_by_platform_id(client, synced):
    r = client.get("/contests/codechef/co2")
    assert r.status_code == 200 and r.get_json()["name"] == "codechef round 2"
    assert client.get("/contests/codechef/nope").status_code == 404
    assert client.get("/contests/nowhere/co2").status_code == 404


def test_platforms_show_last_sync(client, synced):
    body = client.get("/platforms").get_json()
    assert [p["platform"] for p in body["platforms"]] == ["codeforces", "leetcode", "codechef", "atcoder"]
    assert all(p["lastSyncedAt"] and p["lastResult"]["failed"] == 0 for p in body["platforms"])


@pytest.mark.parametrize(
    "path",
    [
        "/contests/sync/..%2F..%2Fetc%2Fpasswd",
        "/contests/sync/codeforces;rm",
        "/contests/sync/%24where",
        "/contests/sync/__proto__",
    ],
)
def test_path_traversal_and_injection_in_platform_names_are_404(client, admin_headers, monkeypatch, path):
    install(monkeypatch)
    r = client.post(path, headers=admin_headers)
    assert r.status_code == 404 and r.get_json()["statusCode"] == 404


@pytest.mark.parametrize(
    "path", ["/contests/codeforces/%7B%22%24ne%22%3A1%7D", "/contests/codeforces/..%2Fx", "/contests/%24ne/1"]
)
def test_operator_and_traversal_ids_never_reach_a_query(client, monkeypatch, path, store_db):
    install(monkeypatch)
    assert client.get(path).status_code == 404


def test_a_sync_route_asked_with_get_is_405_allowing_post(client):
    r = client.get("/contests/sync/all")
    assert r.status_code == 405 and r.headers["Allow"] == "POST" and r.get_json()["statusCode"] == 405
