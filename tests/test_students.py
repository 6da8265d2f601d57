"""Student sync end to end: simulator -> worker -> store, and the students API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bson
import pytest

from core.redisconn import get_redis
from syncs import cache

STUDENT = {"name": "Gennady", "email": "g@example.com", "codeforcesHandle": "tourist"}


def create(client, headers, handle="tourist", name="Gennady", wait=True):
    r = client.post(
        "/api/students",
        headers=headers,
        json={"name": name, "email": f"{handle}@example.com", "codeforcesHandle": handle},
    )
    assert r.status_code == 201, r.get_json()
    if wait:
        done = client.get(f"/jobs/{r.get_json()['job']['job_id']}?wait=60", headers=headers)
        assert done.status_code == 200, done.get_json()
    return r.get_json()


def sim_calls(sim, method=None):
    return [e for e in sim.log() if e["service"] == "codeforces" and (method is None or method in e["path"])]


def test_sync_of_an_unknown_student_is_404_before_any_call(client, admin_headers, simulator):
    r = client.post("/api/codeforces/sync/ghost_student", headers=admin_headers)
    assert r.status_code == 404 and r.get_json() == {
        "statusCode": 404,
        "message": "No student with Codeforces handle ghost_student",
    }
    assert sim_calls(simulator) == []


@pytest.mark.parametrize("handle", ["ab", "a" * 25, "bad handle", "../etc", "x;y", "$where"])
def test_malformed_handles_are_400(client, admin_headers, handle):
    assert client.post(f"/api/codeforces/sync/{handle}", headers=admin_headers).status_code in (400, 404)
    r = client.post("/api/students", headers=admin_headers, json={**STUDENT, "codeforcesHandle": handle})
    assert r.status_code == 400


def test_creating_a_student_syncs_it(client, admin_headers, worker, simulator, store_db):
    create(client, admin_headers)
    student = client.get("/api/students/TOURIST", headers=admin_headers).get_json()
    assert student["codeforcesHandle"] == "tourist" and isinstance(student["currRating"], int)
    assert student["rank"] and student["maxRating"] and student["contestData"]
    assert student["submissions"]["total"] == 10000 and student["lastSyncedAt"].endswith("Z")
    assert store_db.submissions.count_documents({"handle": "tourist"}) == 10000
    # The document stays small: the full list lives in the submissions collection.
    assert len(bson.encode(store_db.students.find_one({"handleLower": "tourist"}))) < 1_000_000


def test_manual_sync_returns_the_student_and_bypasses_the_cache(client, admin_headers, worker, simulator):
    create(client, admin_headers, "student_0007")
    for kind in cache.KINDS:
        get_redis().set(cache.key(kind, "student_0007"), '"stale"')
    simulator.clear_log()
    r = client.post("/api/codeforces/sync/student_0007?wait=60", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["codeforcesHandle"] == "student_0007"
    assert {e["path"].rsplit("/", 1)[1] for e in sim_calls(simulator)} == {"user.info", "user.rating", "user.status"}
    for kind in cache.KINDS:  # written fresh, with their TTLs
        assert get_redis().get(cache.key(kind, "student_0007")) != '"stale"'
        assert get_redis().ttl(cache.key(kind, "student_0007")) > 0


def test_cache_keys_are_deleted_before_any_fetch(client, admin_headers, worker, simulator, monkeypatch):
    create(client, admin_headers, "student_0008")
    seen = []
    import syncs.students as ws

    real = ws._fetch

    async def spy(handle, newest, use_cache):
        seen.append([get_redis().exists(cache.key(kind, handle)) for kind in cache.KINDS])
        return await real(handle, newest, use_cache)

    monkeypatch.setattr(ws, "_fetch", spy)
    assert client.post("/api/codeforces/sync/student_0008?wait=60", headers=admin_headers).status_code == 200
    assert seen == [[0, 0, 0]]


def test_three_calls_of_one_sync_overlap_on_the_simulator(client, admin_headers, worker, simulator):
    create(client, admin_headers, "student_0009")
    simulator.hold_until(3, timeout=20)  # each call waits until all three are in the simulator
    try:
        r = client.post("/api/codeforces/sync/student_0009?wait=60&full=true", headers=admin_headers)
    finally:
        simulator.hold_until(None)
    assert r.status_code == 200, r.get_json()


def test_incremental_sync_fetches_only_new_submissions(client, admin_headers, worker, simulator, store_db):
    create(client, admin_headers, "heavy_10k")
    full_bytes = client.get("/api/students/heavy_10k", headers=admin_headers).get_json()["lastFetchBytes"]
    simulator.add_submissions("heavy_10k", 10)
    simulator.clear_log()
    body = client.post("/api/codeforces/sync/heavy_10k?wait=60", headers=admin_headers).get_json()
    status_calls = sim_calls(simulator, "user.status")
    assert [c["query"] for c in status_calls] == ["handle=heavy_10k&from=1&count=50"]
    assert (
        body["submissions"]["total"] == 10010 and store_db.submissions.count_documents({"handle": "heavy_10k"}) == 10010
    )
    assert body["lastFetchBytes"] / full_bytes < 0.02


def test_full_refetch_on_request(client, admin_headers, worker, simulator):
    create(client, admin_headers, "student_0010")
    simulator.clear_log()
    client.post("/api/codeforces/sync/student_0010?wait=60&full=true", headers=admin_headers)
    assert "count=10000" in sim_calls(simulator, "user.status")[0]["query"]


def test_unknown_codeforces_handle_fails_with_500_and_no_retries(client, admin_headers, worker, simulator):
    create(client, admin_headers, "gone_user", wait=False)
    simulator.clear_log()
    r = client.post("/api/codeforces/sync/gone_user?wait=60", headers=admin_headers)
    assert r.status_code == 500 and "not found" in r.get_json()["message"]
    assert r.get_json()["message"].startswith("Sync failed:")
    paths = [e["path"] for e in sim_calls(simulator)]
    assert len(paths) == len(set(paths)) <= 3  # no call was retried


def test_codeforces_down_is_retried_then_fails_clearly(client, admin_headers, worker, simulator):
    create(client, admin_headers, "student_0011")
    simulator.set_fault("codeforces", "500")
    r = client.post("/api/codeforces/sync/student_0011?wait=60", headers=admin_headers)
    assert r.status_code == 500 and "server error (HTTP 500)" in r.get_json()["message"]
    assert len(sim_calls(simulator, "user.info")) > 1  # transient: retried


def test_redis_down_cache_means_live_fetch(simulator, store_db, monkeypatch):
    import store.students as students_store
    from syncq.embedded import free_port
    from syncs import students as ws

    students_store.create("S", "s@example.com", "student_0012")
    monkeypatch.setenv("SYNCQ_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    from core.settings import reload_settings

    reload_settings()
    doc = ws.sync_one("student_0012", use_cache=True, full=False)
    assert doc["submissions"]["total"] > 0 and cache.get("info", "student_0012") is None


def test_scheduled_sync_reads_through_the_cache(simulator, store_db):
    import store.students as students_store
    from syncs import students as ws

    students_store.create("S", "s@example.com", "student_0013")
    ws.sync_one("student_0013", use_cache=False, full=False)
    simulator.clear_log()
    ws.sync_one("student_0013", use_cache=True, full=False)
    assert sim_calls(simulator) == []


def test_background_sync_with_one_failing_student(client, admin_headers, worker, simulator, store_db):
    for handle in ("student_0021", "student_0022", "nobody_at_all", "student_0023"):
        create(client, admin_headers, handle, wait=False)
    for job in client.get("/jobs?kind=students.sync", headers=admin_headers).get_json()["jobs"]:
        client.get(f"/jobs/{job['job_id']}?wait=60", headers=admin_headers)
    r = client.post("/api/students/sync?wait=60", headers=admin_headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 4 and body["synced"] == 3 and body["failed"] == []
    assert body["notFound"] == ["nobody_at_all"] and body["calls"]["user.info"] == 2  # its batch, then the rest
    job = client.get("/jobs?kind=students.sync_all", headers=admin_headers).get_json()["jobs"][0]
    assert job["progress"]["done"] == job["progress"]["total"] == 4 and job["state"] == "SUCCESS"


# --- the students API -------------------------------------------------------------------------


def test_duplicate_handle_in_any_case_is_409(client, admin_headers, store_db):
    create(client, admin_headers, "student_0031", wait=False)
    r = client.post(
        "/api/students",
        headers=admin_headers,
        json={"name": "X", "email": "x@example.com", "codeforcesHandle": "STUDENT_0031"},
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {**STUDENT, "email": "not-an-email"},
        {**STUDENT, "name": {"$gt": ""}},
        {**STUDENT, "email": ["a@b.c"]},
        {"name": "x", "codeforcesHandle": "tourist"},
        {**STUDENT, "phone": "call me"},
    ],
)
def test_bad_student_bodies_are_400(client, admin_headers, body):
    r = client.post("/api/students", headers=admin_headers, json=body)
    assert r.status_code == 400 and r.get_json()["statusCode"] == 400


def test_patch_and_delete(client, admin_headers, store_db):
    create(client, admin_headers, "student_0032", wait=False)
    r = client.patch("/api/students/student_0032", headers=admin_headers, json={"name": "Renamed"})
    assert r.status_code == 200 and r.get_json()["name"] == "Renamed"
    assert (
        client.patch("/api/students/student_0032", headers=admin_headers, json={"codeforcesHandle": "x"}).status_code
        == 400
    )
    store_db.submissions.insert_one({"handle": "student_0032", "submissionId": 1})
    get_redis().set(cache.key("info", "student_0032"), "[]")
    assert client.delete("/api/students/student_0032", headers=admin_headers).status_code == 200
    assert client.get("/api/students/student_0032", headers=admin_headers).status_code == 404
    assert store_db.submissions.count_documents({"handle": "student_0032"}) == 0
    assert get_redis().exists(cache.key("info", "student_0032")) == 0


def test_list_sorts_by_rating_and_name_with_pagination(client, admin_headers, store_db):
    import store.students as students_store

    for i, rating in enumerate([1500, None, 2400, 1800, 900]):
        students_store.create(f"Name {chr(69 - i)}", f"s{i}@example.com", f"student_{i:04d}")
        store_db.students.update_one({"handleLower": f"student_{i:04d}"}, {"$set": {"currRating": rating}})
    ratings, cursor = [], None
    while True:
        page = client.get(
            "/api/students?sort=rating&limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=admin_headers
        ).get_json()
        ratings += [s["currRating"] for s in page["students"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ratings == [2400, 1800, 1500, 900, None]
    names = [s["name"] for s in client.get("/api/students?sort=name", headers=admin_headers).get_json()["students"]]
    assert names == sorted(names)
    assert client.get("/api/students?sort=age", headers=admin_headers).status_code == 400
    assert client.get("/api/students?cursor=zzz", headers=admin_headers).status_code == 400


def test_inactive_students(client, admin_headers, store_db):
    import store.students as students_store

    now = datetime.now(UTC)
    for handle, last in (
        ("student_0041", now - timedelta(days=2)),
        ("student_0042", now - timedelta(days=40)),
        ("student_0043", None),
    ):
        students_store.create("N", f"{handle}@example.com", handle)
        store_db.students.update_one({"handleLower": handle}, {"$set": {"lastActiveAt": last}})
    body = client.get("/api/students?inactiveDays=30", headers=admin_headers).get_json()
    assert sorted(s["codeforcesHandle"] for s in body["students"]) == ["student_0042", "student_0043"]
    assert client.get("/api/students?inactiveDays=-3", headers=admin_headers).status_code == 400


def test_submissions_listing_filters_by_verdict(client, admin_headers, worker, simulator):
    create(client, admin_headers, "student_0050")
    page = client.get("/api/students/student_0050/submissions?verdict=OK&limit=3", headers=admin_headers).get_json()
    assert page["count"] == 3 and all(s["verdict"] == "OK" for s in page["submissions"])
    nxt = client.get(
        f"/api/students/student_0050/submissions?verdict=OK&limit=3&cursor={page['next_cursor']}", headers=admin_headers
    ).get_json()
    assert nxt["submissions"][0]["submissionId"] < page["submissions"][-1]["submissionId"]
    assert client.get("/api/students/student_0050/submissions?verdict=$ne", headers=admin_headers).status_code == 400


def test_students_api_requires_admin(client, user_token):
    headers = {"Authorization": f"Bearer {user_token}"}
    assert client.get("/api/students", headers=headers).status_code == 403
    assert client.post("/api/codeforces/sync/tourist", headers=headers).status_code == 403


def test_a_student_created_while_the_queue_is_down_is_201_saying_its_sync_waits(
    client, admin_headers, store_db, monkeypatch
):
    from kombu.exceptions import OperationalError

    from jobs import service

    def broker_down(signature):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(service, "dispatch", broker_down)
    r = client.post(
        "/api/students",
        headers=admin_headers,
        json={"name": "Q", "email": "q@example.com", "codeforcesHandle": "queue_down"},
    )
    body = r.get_json()
    # Saved either way: a 503 would send a retrying client into a 409.
    assert r.status_code == 201 and body["student"]["codeforcesHandle"] == "queue_down" and body["job"] is None
    assert "first sync could not be queued" in body["warning"] and "/api/codeforces/sync/queue_down" in body["warning"]
    again = client.post(
        "/api/students",
        headers=admin_headers,
        json={"name": "Q", "email": "q@example.com", "codeforcesHandle": "queue_down"},
    )
    assert again.status_code == 409
