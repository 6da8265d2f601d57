"""The job contract: a trigger answers its job's own body by default (the seeds' contract),
`Prefer: respond-async` answers 202 at once, polling, listing, retry, 404s, and the job's life."""

from __future__ import annotations

import threading
import time

import pytest

import store.jobs as jobs_store

ENVELOPE_KEYS = {"job_id", "kind", "state", "progress", "result", "error", "trigger", "created_at", "finished_at"}
ASYNC = {"Prefer": "respond-async"}


def test_a_trigger_with_no_preference_waits_and_answers_the_result_body(seed_wait, client, admin_headers, worker):
    r = client.post("/jobs/ping", headers=admin_headers, json={"echo": "hi"})
    assert r.status_code == 200 and r.get_json()["pong"] is True and r.get_json()["echo"] == "hi"
    assert "job_id" not in r.get_json() and "Preference-Applied" not in r.headers


def test_respond_async_answers_202_with_envelope_location_and_retry_after(client, admin_headers, worker):
    r = client.post("/jobs/ping", headers={**admin_headers, **ASYNC})
    assert r.status_code == 202
    body = r.get_json()
    assert set(body) == {"job_id", "kind", "state", "status_url"}
    assert body["kind"] == "ping" and body["state"] == "PENDING"
    assert r.headers["Location"] == body["status_url"] == f"/jobs/{body['job_id']}"
    assert r.headers["Preference-Applied"] == "respond-async" and int(r.headers["Retry-After"]) >= 1


def test_prefer_wait_bounds_the_wait_and_says_so(client, admin_headers, worker):
    r = client.post("/jobs/ping", headers={**admin_headers, "Prefer": "wait=0.3"}, json={"delay": 3})
    assert r.status_code == 202 and r.headers["Preference-Applied"] == "wait=0.3"
    r = client.get(r.headers["Location"], headers={**admin_headers, "Prefer": "wait=20"})
    assert r.status_code == 200 and r.get_json()["pong"] is True and r.headers["Preference-Applied"] == "wait=20"


def test_the_default_wait_is_bounded_by_the_sync_wait_setting(app, client, admin_headers, worker):
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(sync_wait=0.3)
    started = time.monotonic()
    r = client.post("/jobs/ping", headers=admin_headers, json={"delay": 3})
    assert r.status_code == 202 and time.monotonic() - started < 2.5
    assert r.headers["Location"].startswith("/jobs/") and r.headers["Retry-After"].isdigit()


def test_the_status_url_keeps_the_prefix_the_api_is_mounted_under(client, admin_headers, worker):
    # Behind a proxy that mounts the API under /syncq (SCRIPT_NAME), pollers must follow /syncq/jobs/<id>.
    r = client.post("/jobs/ping", headers={**admin_headers, **ASYNC}, base_url="http://localhost/syncq")
    assert r.status_code == 202
    assert r.headers["Location"] == r.get_json()["status_url"] == f"/syncq/jobs/{r.get_json()['job_id']}"
    followed = client.get(
        r.headers["Location"].removeprefix("/syncq"), headers=admin_headers, base_url="http://localhost/syncq"
    )
    assert followed.status_code == 200 and followed.get_json()["job_id"] == r.get_json()["job_id"]


def test_job_is_recorded_in_mongodb_when_enqueued(client, admin_headers, store_db, worker):
    job_id = client.post("/jobs/ping", headers={**admin_headers, **ASYNC}).get_json()["job_id"]
    doc = store_db.jobs.find_one({"_id": job_id})
    assert doc is not None and doc["trigger"] == "api" and doc["user"] == "admin"


def test_polling_shows_success_and_result(client, admin_headers, worker):
    job_id = client.post("/jobs/ping", headers={**admin_headers, **ASYNC}).get_json()["job_id"]
    r = client.get(f"/jobs/{job_id}?wait=15", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["pong"] is True
    body = client.get(f"/jobs/{job_id}", headers=admin_headers).get_json()
    assert set(body) >= ENVELOPE_KEYS
    assert body["state"] == "SUCCESS" and body["result"]["pong"] is True and body["error"] is None
    assert body["finished_at"].endswith("Z") and body["created_at"] <= body["started_at"] <= body["finished_at"]


def test_a_query_wait_that_runs_out_answers_202_with_the_envelope(client, admin_headers, worker):
    r = client.post("/jobs/ping?wait=0.2", headers=admin_headers, json={"delay": 3})
    assert r.status_code == 202 and r.get_json()["state"] in ("PENDING", "STARTED")
    job_id = r.get_json()["job_id"]
    r = client.get(f"/jobs/{job_id}?wait=0.2", headers=admin_headers)
    assert r.status_code == 202 and set(r.get_json()) >= ENVELOPE_KEYS
    r = client.get(f"/jobs/{job_id}?wait=20", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["pong"] is True


@pytest.mark.parametrize("body", [{"delay": -1}, {"delay": 31}, {"delay": "1"}, {"delay": True}])
def test_ping_rejects_a_bad_delay(client, admin_headers, body):
    assert client.post("/jobs/ping", headers=admin_headers, json=body).status_code == 400


@pytest.mark.parametrize("value", ["-1", "61", "abc", "nan", "1e9"])
def test_wait_out_of_range_is_400(client, admin_headers, value):
    r = client.post(f"/jobs/ping?wait={value}", headers=admin_headers)
    assert r.status_code == 400 and "wait" in r.get_json()["message"]


@pytest.mark.parametrize("value", ["soon", "-3", "nan", "inf"])
def test_a_prefer_wait_that_is_not_seconds_is_ignored_as_rfc_7240_asks(client, admin_headers, value):
    # A preference the server cannot honour is ignored, never an error: here respond-async applies.
    r = client.post("/jobs/ping", headers={**admin_headers, "Prefer": f"respond-async, wait={value}"})
    assert r.status_code == 202 and r.headers["Preference-Applied"] == "respond-async"
    assert "Prefer" in r.headers["Vary"]  # the answer depends on it: caches must not mix them


def test_unknown_job_id_is_404_not_pending(client, admin_headers):
    r = client.get("/jobs/00000000-0000-0000-0000-000000000000", headers=admin_headers)
    assert r.status_code == 404 and r.get_json()["statusCode"] == 404


def test_odd_job_id_is_404(client, admin_headers):
    assert client.get("/jobs/..%2F..%2Fetc", headers=admin_headers).status_code == 404


def test_list_is_newest_first_and_filters_by_kind(client, admin_headers, store_db):
    ids = [client.post("/jobs/ping", headers={**admin_headers, **ASYNC}).get_json()["job_id"] for _ in range(3)]
    jobs_store.create("other-1", "contests.sync_all", {}, "beat")
    body = client.get("/jobs?kind=ping&limit=2", headers=admin_headers).get_json()
    assert [job["job_id"] for job in body["jobs"]] == ids[::-1][:2] and body["count"] == 2
    all_jobs = client.get("/jobs", headers=admin_headers).get_json()["jobs"]
    assert all_jobs[0]["job_id"] == "other-1" and all_jobs[0]["trigger"] == "beat"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "kind=$where"])
def test_list_bad_parameters_are_400(client, admin_headers, query):
    assert client.get(f"/jobs?{query}", headers=admin_headers).status_code == 400


def test_retry_reruns_a_finished_job_as_a_new_linked_job(seed_wait, client, admin_headers, worker):
    assert client.post("/jobs/ping", headers=admin_headers).status_code == 200
    old_id = client.get("/jobs?kind=ping&limit=1", headers=admin_headers).get_json()["jobs"][0]["job_id"]
    r = client.post(f"/jobs/{old_id}/retry", headers={**admin_headers, **ASYNC})
    assert r.status_code == 202
    new_id = r.get_json()["job_id"]
    assert new_id != old_id
    assert client.get(f"/jobs/{new_id}?wait=15", headers=admin_headers).status_code == 200
    assert client.get(f"/jobs/{new_id}", headers=admin_headers).get_json()["retry_of"] == old_id


def test_retry_of_an_unfinished_job_is_409(client, admin_headers, store_db):
    jobs_store.create("running-1", "ping", {}, "api")
    assert client.post("/jobs/running-1/retry", headers=admin_headers).status_code == 409


def test_cli_trigger_header_is_recorded(client, admin_headers, store_db):
    r = client.post("/jobs/ping", headers={**admin_headers, **ASYNC, "X-Syncq-Trigger": "cli"})
    assert jobs_store.get(r.get_json()["job_id"])["trigger"] == "cli"


def test_a_task_run_without_a_job_records_one_with_trigger_flower(worker, store_db):
    from jobs.service import wait_for
    from tests.procs import wait_until
    from workers.system import ping

    result = ping.apply_async(kwargs={"echo": "from flower"})
    wait_until(lambda: jobs_store.get(result.id), 15, "the worker to record the run as a job")
    doc = wait_for(result.id, 15)
    assert doc["trigger"] == "flower" and doc["kind"] == "ping" and doc["state"] == "SUCCESS"
    assert doc["result"]["echo"] == "from flower"


def test_a_jobs_result_and_failure_live_in_its_record_and_celery_keeps_neither(worker, store_db, redis_url):
    import redis

    from jobs.service import enqueue, wait_for

    ok = enqueue("ping", {"echo": 1}).job["_id"]
    assert wait_for(ok, 15)["state"] == "SUCCESS"
    failed = enqueue("ping", {"delay": "not a number"}).job["_id"]
    job = wait_for(failed, 15)
    assert job["state"] == "FAILURE" and "ValueError" in job["error"]
    keys = redis.Redis.from_url(redis_url)
    assert keys.get(f"celery-task-meta-{ok}") is None and keys.get(f"celery-task-meta-{failed}") is None


def test_beat_launcher_records_trigger_beat(worker, store_db):
    from jobs.launch import launch
    from jobs.service import wait_for

    out = launch.run(kind="ping")
    assert wait_for(out["job_id"], 15)["state"] == "SUCCESS"
    doc = jobs_store.get(out["job_id"])
    assert doc["trigger"] == "beat" and doc["kind"] == "ping"


def test_an_end_mongodb_was_down_for_is_written_by_the_worker_once_it_is_back(worker, store_db, monkeypatch):
    from pymongo.errors import ServerSelectionTimeoutError

    from jobs.service import enqueue, wait_for

    real_finish, calls = jobs_store.finish, []

    def finish_while_down(job_id, result):
        calls.append(job_id)
        if len(calls) == 1:
            raise ServerSelectionTimeoutError("store unreachable")
        return real_finish(job_id, result)

    monkeypatch.setattr(jobs_store, "finish", finish_while_down)
    job_id = enqueue("ping", {"echo": "kept"}).job["_id"]
    job = wait_for(job_id, 20)
    assert job["state"] == "SUCCESS" and job["result"]["echo"] == "kept" and len(calls) == 2


def test_a_chained_job_ends_exactly_once_even_when_its_last_step_is_delivered_twice(store_db):
    from core.redisconn import get_redis
    from jobs import lifecycle

    jobs_store.create("chain-1", "contests.sync_all", {}, "api", total=2, plan=["a", "b"])
    pubsub = get_redis().pubsub()
    pubsub.subscribe("syncq:job-done:chain-1")
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"  # subscribed before it ends
        lifecycle.end_step("chain-1", "a", {"synced": 1, "updated": 0, "failed": 0})
        assert jobs_store.get("chain-1")["state"] == "PENDING"
        threads = [
            threading.Thread(target=lifecycle.end_step, args=("chain-1", "b", {"synced": 2, "updated": 0, "failed": 0}))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        notices = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            notices.append(message["data"])
    finally:
        pubsub.close()
    job = jobs_store.get("chain-1")
    assert job["state"] == "SUCCESS" and notices == ["SUCCESS"]
    assert job["result"] == {
        "message": "Sync completed for all platforms",
        "results": {"a": {"synced": 1, "updated": 0, "failed": 0}, "b": {"synced": 2, "updated": 0, "failed": 0}},
    }
    assert list(job["result"]["results"]) == ["a", "b"] and job["progress"]["done"] == 2


def test_a_redelivered_job_keeps_its_first_start_time_and_ends_once(store_db):
    jobs_store.create("j-redelivered", "ping", {}, "api")
    assert jobs_store.get("j-redelivered").get("started_at") is None
    jobs_store.mark_started("j-redelivered")
    first = jobs_store.get("j-redelivered")["started_at"]
    jobs_store.mark_started("j-redelivered")
    job = jobs_store.get("j-redelivered")
    assert first is not None and job["started_at"] == first and job["state"] == "STARTED"
    assert jobs_store.finish("j-redelivered", {"ok": 1}) and jobs_store.get("j-redelivered")["state"] == "SUCCESS"
    assert jobs_store.fail("j-redelivered", "ended again") is False  # the first end stands
    assert jobs_store.get("j-redelivered")["result"] == {"ok": 1}
    assert jobs_store.finish("no-such-job", {}) is False


def test_a_guard_is_a_lock_owned_by_its_job_and_released_only_by_it(store_db):
    from jobs import guards

    assert guards.take("test-guard", "job-a") is None
    assert guards.take("test-guard", "job-b") == "job-a"  # held: its holder answers
    assert guards.release("test-guard", "job-b") is False and guards.holder("test-guard") == "job-a"
    assert guards.release("test-guard", "job-a") is True and guards.holder("test-guard") is None
    assert guards.take("test-guard", "job-c") is None
    guards.release("test-guard", "job-c")


def test_a_guard_whose_job_was_never_recorded_is_taken_over_once_it_is_old(
    client, admin_headers, store_db, monkeypatch
):
    from core.redisconn import get_redis
    from core.settings import get_settings
    from jobs import guards, service

    # Recorded, never run: a worker left running by an earlier test must not start (or end) them.
    monkeypatch.setattr(service, "dispatch", lambda signature: None)

    assert guards.take("raida.sync", "died-before-its-record") is None
    r = client.post("/api/admin/sync", headers={**admin_headers, **ASYNC})
    assert r.status_code == 202 and r.get_json()["job_id"] == "died-before-its-record"  # young: may be written yet
    ttl = get_settings().job_lock_ttl
    get_redis().pexpire("syncq:guard:raida.sync", int((ttl - service.ORPHAN_AFTER - 1) * 1000))
    r = client.post("/api/admin/sync", headers={**admin_headers, **ASYNC})
    job_id = r.get_json()["job_id"]
    assert r.status_code == 202 and job_id != "died-before-its-record" and not r.get_json().get("deduplicated")
    assert guards.holder("raida.sync") == job_id and jobs_store.get(job_id)["state"] == "PENDING"
    get_redis().pexpire("syncq:guard:raida.sync", int((ttl - service.ORPHAN_AFTER - 1) * 1000))
    recorded = client.post("/api/admin/sync", headers={**admin_headers, **ASYNC}).get_json()
    assert recorded["job_id"] == job_id and recorded["deduplicated"]  # a recorded holder is never taken over


def test_a_deduplicated_trigger_waits_on_the_running_job(seed_wait, client, admin_headers, store_db):
    from jobs import guards, lifecycle

    jobs_store.create("raida-running", "raida.sync", {}, "beat", guard="raida.sync")
    assert guards.take("raida.sync", "raida-running") is None
    r = client.post("/api/admin/sync", headers={**admin_headers, **ASYNC})
    assert r.status_code == 202 and r.get_json()["job_id"] == "raida-running" and r.get_json()["deduplicated"]
    body = {"status": "success", "users_synced": 3, "servers_synced": 2, "timestamp": "2026-12-01T00:00:00.000Z"}
    threading.Timer(0.5, lifecycle.finish, args=("raida-running", body)).start()
    r = client.post("/api/admin/sync", headers=admin_headers)
    assert r.status_code == 200 and r.get_json() == body
    assert guards.holder("raida.sync") is None  # the end released it


def test_cors_allows_only_listed_origins_with_the_headers_panels_need(store_db):
    from api import create_app
    from core.settings import get_settings

    app = create_app(get_settings().replace(cors_origins=("http://localhost:5173",)))
    client = app.test_client()
    pre = client.options(
        "/contests/sync/all",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Prefer",
        },
    )
    assert pre.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    allowed = pre.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "prefer" in allowed
    r = client.get("/health", headers={"Origin": "http://localhost:5173"})
    exposed = r.headers["Access-Control-Expose-Headers"]
    assert all(name in exposed for name in ("Location", "Retry-After", "Preference-Applied"))
    other = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    closed = create_app(get_settings()).test_client().get("/health", headers={"Origin": "http://localhost:5173"})
    assert "Access-Control-Allow-Origin" not in closed.headers


def test_a_guard_left_by_a_job_that_ended_is_taken_over_by_the_next_trigger(
    client, admin_headers, store_db, monkeypatch
):
    from jobs import guards, service

    monkeypatch.setattr(service, "dispatch", lambda signature: None)  # recorded, never run
    # A job ended while its end could not release the guard (Redis, or MongoDB between the end
    # and the read of the guard's key, was down): the guard outlives the job.
    jobs_store.create("ended-holding", "raida.sync", {}, "beat", guard="raida.sync")
    jobs_store.finish("ended-holding", {"status": "success"})
    assert guards.take("raida.sync", "ended-holding") is None
    r = client.post("/api/admin/sync", headers={**admin_headers, **ASYNC})
    job_id = r.get_json()["job_id"]
    assert r.status_code == 202 and job_id != "ended-holding" and not r.get_json().get("deduplicated")
    assert guards.holder("raida.sync") == job_id and jobs_store.get(job_id)["state"] == "PENDING"


def test_each_step_of_a_chained_job_gives_its_guard_its_full_lifetime_again(store_db):
    from core.redisconn import get_redis
    from jobs import guards, lifecycle

    jobs_store.create(
        "chain-long", "contests.sync_all", {}, "beat", total=2, plan=["a", "b"], guard="contests.sync_all"
    )
    assert guards.take("contests.sync_all", "chain-long") is None
    get_redis().pexpire("syncq:guard:contests.sync_all", 5_000)  # nearly lapsed: the chain has run long
    lifecycle.started("chain-long", "b")
    assert guards.holder("contests.sync_all") == "chain-long" and guards.age("contests.sync_all") < 5
    assert jobs_store.get("chain-long")["progress"]["current"] == "b"
