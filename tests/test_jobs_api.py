"""The job contract: 202 + Location on trigger, polling, ?wait, listing, retry, 404s."""

from __future__ import annotations

import time

import pytest

import store.jobs as jobs_store

ENVELOPE_KEYS = {"job_id", "kind", "state", "progress", "result", "error", "trigger", "created_at",
                 "finished_at"}


def test_trigger_answers_202_with_envelope_and_location(client, admin_headers, worker):
    r = client.post("/jobs/ping", headers=admin_headers)
    assert r.status_code == 202
    body = r.get_json()
    assert set(body) == {"job_id", "kind", "state", "status_url"}
    assert body["kind"] == "ping" and body["state"] == "PENDING"
    assert r.headers["Location"] == body["status_url"] == f"/jobs/{body['job_id']}"


def test_the_status_url_keeps_the_prefix_the_api_is_mounted_under(client, admin_headers, worker):
    # Behind a proxy that mounts the API under /syncq (SCRIPT_NAME), pollers must follow /syncq/jobs/<id>.
    r = client.post("/jobs/ping", headers=admin_headers, base_url="http://localhost/syncq")
    assert r.status_code == 202
    assert r.headers["Location"] == r.get_json()["status_url"] == f"/syncq/jobs/{r.get_json()['job_id']}"
    followed = client.get(r.headers["Location"].removeprefix("/syncq"), headers=admin_headers,
                          base_url="http://localhost/syncq")
    assert followed.status_code == 200 and followed.get_json()["job_id"] == r.get_json()["job_id"]


def test_job_is_recorded_in_mongodb_when_enqueued(client, admin_headers, store_db, worker):
    job_id = client.post("/jobs/ping", headers=admin_headers).get_json()["job_id"]
    doc = store_db.jobs.find_one({"_id": job_id})
    assert doc is not None and doc["trigger"] == "api" and doc["user"] == "admin"


def test_polling_shows_success_and_result(client, admin_headers, worker):
    job_id = client.post("/jobs/ping", headers=admin_headers).get_json()["job_id"]
    r = client.get(f"/jobs/{job_id}?wait=15", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["pong"] is True
    r = client.get(f"/jobs/{job_id}", headers=admin_headers)
    body = r.get_json()
    assert ENVELOPE_KEYS <= set(body)
    assert body["state"] == "SUCCESS" and body["result"]["pong"] is True and body["error"] is None
    assert body["finished_at"].endswith("Z") and body["created_at"] <= body["finished_at"]


def test_wait_on_trigger_returns_the_result_body_itself(client, admin_headers, worker):
    r = client.post("/jobs/ping?wait=15", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["pong"] is True and "job_id" not in r.get_json()


def test_wait_that_runs_out_answers_202_with_the_envelope(client, admin_headers, worker):
    r = client.post("/jobs/ping?wait=0.2", headers=admin_headers, json={"delay": 3})
    assert r.status_code == 202 and r.get_json()["state"] in ("PENDING", "STARTED")
    job_id = r.get_json()["job_id"]
    r = client.get(f"/jobs/{job_id}?wait=0.2", headers=admin_headers)
    assert r.status_code == 202 and ENVELOPE_KEYS <= set(r.get_json())
    # ...and the same wait, long enough, gives the result body.
    r = client.get(f"/jobs/{job_id}?wait=20", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["pong"] is True


@pytest.mark.parametrize("body", [{"delay": -1}, {"delay": 31}, {"delay": "1"}, {"delay": True}])
def test_ping_rejects_a_bad_delay(client, admin_headers, body):
    assert client.post("/jobs/ping", headers=admin_headers, json=body).status_code == 400


@pytest.mark.parametrize("value", ["-1", "61", "abc", "nan", "1e9"])
def test_wait_out_of_range_is_400(client, admin_headers, value):
    r = client.post(f"/jobs/ping?wait={value}", headers=admin_headers)
    assert r.status_code == 400 and "wait" in r.get_json()["message"]


def test_unknown_job_id_is_404_not_pending(client, admin_headers):
    r = client.get("/jobs/00000000-0000-0000-0000-000000000000", headers=admin_headers)
    assert r.status_code == 404 and r.get_json()["statusCode"] == 404


def test_odd_job_id_is_404(client, admin_headers):
    r = client.get("/jobs/..%2F..%2Fetc", headers=admin_headers)
    assert r.status_code == 404


def test_list_is_newest_first_and_filters_by_kind(client, admin_headers, store_db):
    ids = [client.post("/jobs/ping", headers=admin_headers).get_json()["job_id"] for _ in range(3)]
    jobs_store.create("other-1", "contests.sync_all", {}, "beat")
    body = client.get("/jobs?kind=ping&limit=2", headers=admin_headers).get_json()
    assert [job["job_id"] for job in body["jobs"]] == ids[::-1][:2] and body["count"] == 2
    all_jobs = client.get("/jobs", headers=admin_headers).get_json()["jobs"]
    assert all_jobs[0]["job_id"] == "other-1" and all_jobs[0]["trigger"] == "beat"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "kind=$where"])
def test_list_bad_parameters_are_400(client, admin_headers, query):
    assert client.get(f"/jobs?{query}", headers=admin_headers).status_code == 400


def test_retry_reruns_a_finished_job_as_a_new_linked_job(client, admin_headers, worker):
    first = client.post("/jobs/ping?wait=15", headers=admin_headers)
    assert first.status_code == 200
    old_id = client.get("/jobs?kind=ping&limit=1", headers=admin_headers).get_json()["jobs"][0]["job_id"]
    r = client.post(f"/jobs/{old_id}/retry", headers=admin_headers)
    assert r.status_code == 202
    new_id = r.get_json()["job_id"]
    assert new_id != old_id
    done = client.get(f"/jobs/{new_id}?wait=15", headers=admin_headers)
    assert done.status_code == 200
    assert client.get(f"/jobs/{new_id}", headers=admin_headers).get_json()["retry_of"] == old_id


def test_retry_of_an_unfinished_job_is_409(client, admin_headers, store_db):
    jobs_store.create("running-1", "ping", {}, "api")
    job_id = "running-1"
    r = client.post(f"/jobs/{job_id}/retry", headers=admin_headers)
    assert r.status_code == 409


def test_cli_trigger_header_is_recorded(client, admin_headers, store_db):
    r = client.post("/jobs/ping", headers={**admin_headers, "X-Syncq-Trigger": "cli"})
    assert jobs_store.get(r.get_json()["job_id"])["trigger"] == "cli"


def test_task_run_without_a_job_records_one_with_trigger_flower(worker, store_db):
    from workers.system import ping

    from workers.jobs import wait_for

    result = ping.apply_async(kwargs={"echo": "from flower"})
    deadline = time.monotonic() + 15
    while jobs_store.get(result.id) is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the worker records the job when it starts the task
    doc = wait_for(result.id, 15)
    assert doc["trigger"] == "flower" and doc["kind"] == "ping" and doc["state"] == "SUCCESS"
    assert doc["result"]["echo"] == "from flower"


def test_a_jobs_result_lives_in_its_record_and_celery_keeps_only_failures(worker, store_db, redis_url):
    import redis

    from celery.result import AsyncResult

    from workers.celery_app import app
    from workers.jobs import enqueue, wait_for

    ok = enqueue("ping", {"echo": 1}).job["_id"]
    assert wait_for(ok, 15)["state"] == "SUCCESS"
    failed = enqueue("ping", {"delay": "not a number"}).job["_id"]
    job = wait_for(failed, 15)
    assert job["state"] == "FAILURE" and "ValueError" in job["error"]
    # No copy of a success in Redis; a failure is kept there (what reconcile reads if MongoDB was down).
    assert redis.Redis.from_url(redis_url).get(f"celery-task-meta-{ok}") is None
    kept = AsyncResult(failed, app=app)
    assert kept.state == "FAILURE" and isinstance(kept.result, ValueError)


def test_beat_launcher_records_trigger_beat(worker, store_db):
    from workers.system import launch

    out = launch.apply_async(kwargs={"kind": "ping"}).get(timeout=15)
    doc = jobs_store.get(out["job_id"])
    assert doc["trigger"] == "beat" and doc["kind"] == "ping"


def test_a_failure_celery_saw_while_the_store_was_down_lands_on_the_job(client, admin_headers, store_db,
                                                                         celery_app_under_test, monkeypatch):
    from workers import jobs

    jobs_store.create("lost-failure-1", "ping", {}, "api")
    jobs_store.mark_started("lost-failure-1")
    celery_app_under_test.backend.mark_as_failure("lost-failure-1", RuntimeError("store unreachable after 4 retries"))
    monkeypatch.setattr(jobs, "reconcile_after", lambda: 0.0)  # as if the worker's own write never came
    body = client.get("/jobs/lost-failure-1", headers=admin_headers).get_json()
    # The same words the worker writes for a failure (workers.base.error_message).
    assert body["state"] == "FAILURE" and body["error"] == "RuntimeError: store unreachable after 4 retries"
    assert jobs_store.get("lost-failure-1")["state"] == "FAILURE"


def test_a_failure_celery_just_recorded_is_left_for_the_worker_to_write(client, admin_headers, store_db,
                                                                        celery_app_under_test):
    from workers.base import JobFailed

    # Celery records a failure a moment before the worker writes it onto the job with what the
    # job's kind answers; a read in that moment must not answer Celery's copy (a 500) instead.
    jobs_store.create("failing-now", "ping", {}, "api")
    jobs_store.mark_started("failing-now")
    celery_app_under_test.backend.mark_as_failure("failing-now", JobFailed("Codeforces is down", status=502))
    body = client.get("/jobs/failing-now", headers=admin_headers).get_json()
    assert body["state"] == "STARTED" and jobs_store.get("failing-now")["state"] == "STARTED"
    jobs_store.fail("failing-now", "Codeforces is down", status=502, body={"message": "Codeforces is down"})
    job = client.get("/jobs/failing-now", headers=admin_headers).get_json()
    assert job["state"] == "FAILURE" and job["error"] == "Codeforces is down"


def test_a_redelivered_job_keeps_its_first_start_time(store_db):
    jobs_store.create("j-redelivered", "ping", {}, "api")
    assert jobs_store.get("j-redelivered").get("started_at") is None
    jobs_store.mark_started("j-redelivered")
    first = jobs_store.get("j-redelivered")["started_at"]
    jobs_store.mark_started("j-redelivered")
    job = jobs_store.get("j-redelivered")
    assert first is not None and job["started_at"] == first and job["state"] == "STARTED"
    assert jobs_store.finish("j-redelivered", {"ok": 1}) and jobs_store.get("j-redelivered")["state"] == "SUCCESS"
    assert jobs_store.finish("no-such-job", {}) is False


def test_a_finished_job_is_served_from_recent_reads_and_a_running_one_is_not(store_db):
    jobs_store.create("j-polled", "ping", {}, "api")
    jobs_store.get("j-polled")
    store_db.jobs.update_one({"_id": "j-polled"}, {"$set": {"state": "STARTED"}})  # another process moves it
    assert jobs_store.get("j-polled")["state"] == "STARTED"  # running: always read afresh
    assert jobs_store.get("j-polled", max_age=60)["state"] == "STARTED"  # unless the caller accepts an older read
    jobs_store.finish("j-polled", {"ok": 1})
    assert jobs_store.get("j-polled")["state"] == "SUCCESS"
    store_db.jobs.delete_one({"_id": "j-polled"})
    assert jobs_store.get("j-polled")["result"] == {"ok": 1}  # finished: no store call needed
    jobs_store.fail("j-polled", "ended again by a redelivered task")  # this process forgets its copy
    assert jobs_store.get("j-polled") is None



def test_ending_a_job_drops_only_its_own_guard_and_tells_its_waiters(store_db):
    from core.redisconn import get_redis
    from workers import jobs

    client = get_redis()
    assert jobs._take_guard(client, "test-end", "job-a") is None
    assert jobs._take_guard(client, "test-end", "job-b") == "job-a"  # held: its holder answers
    pubsub = client.pubsub()
    pubsub.subscribe("syncq:job-done:job-a")
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"  # subscribed before it ends
        jobs.job_ended("job-a", "SUCCESS")
        message = pubsub.get_message(timeout=5)
    finally:
        pubsub.close()
    assert message["type"] == "message" and message["data"] == "SUCCESS"
    assert client.get("syncq:guard:test-end") is None and client.get("syncq:guard-of:job-a") is None
    # A job whose guard expired and was taken by another run leaves that run's guard alone.
    assert jobs._take_guard(client, "test-end", "job-c") is None
    client.set("syncq:guard-of:job-a", "test-end")
    jobs.job_ended("job-a", "FAILURE")
    assert client.get("syncq:guard:test-end") == "job-c" and client.get("syncq:guard-of:job-a") is None
    jobs.job_ended("job-c", "SUCCESS")
    assert client.get("syncq:guard:test-end") is None
