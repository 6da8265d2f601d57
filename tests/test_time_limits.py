"""Every task kind has Celery soft and hard time limits: a stuck run ends, releases its guard and
is reported (a prefork worker enforces them, as in production)."""

from __future__ import annotations

import time

import pytest

from tests.procs import Api, Worker, stack_env

pytestmark = pytest.mark.slow


@pytest.fixture()
def limited_stack(simulator, store_db, mongo_uri, admin_token):
    env = stack_env(
        mongo_uri,
        store_db.name,
        SYNCQ_HTTP_RETRIES="0",
        SYNCQ_CONTEST_TIME_LIMIT="5",
        SYNCQ_RAIDA_TIME_LIMIT="5",
        SYNCQ_HTTP_TIMEOUT="60",
        SYNCQ_RAIDA_ECHO="http",
        SYNCQ_RAIDA_TIMEOUT="60",
    )
    api, worker = Api(env), Worker(env)
    yield api.client(admin_token), simulator
    worker.stop()
    api.stop()


def test_a_stuck_platform_is_stopped_at_its_time_limit_and_the_sync_all_goes_on(limited_stack, store_db):
    http, sim = limited_stack
    sim.set_latency("codechef", 30000)
    started = time.monotonic()
    job_id = http.post("/contests/sync/all").json()["job_id"]
    done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    assert done.status_code == 200, done.text
    results = done.json()["results"]
    assert results["codechef"]["failed"] == 1 and "time limit of 5 s" in results["codechef"]["error"]
    assert results["atcoder"]["failed"] == 0 and results["atcoder"]["synced"] > 0
    assert time.monotonic() - started < 50
    assert http.post("/contests/sync/all").json()["job_id"] != job_id  # its guard was released


def test_a_stuck_raida_sync_fails_with_the_reason_and_releases_its_guard(limited_stack):
    http, sim = limited_stack
    sim.set_latency("raida", 30000)
    job_id = http.post("/api/admin/sync").json()["job_id"]
    done = http.get(f"/jobs/{job_id}", params={"wait": 60})
    assert done.status_code == 502, done.text
    assert done.json()["status"] == "error" and "time limit" in done.json()["message"]
    assert http.get(f"/jobs/{job_id}").json()["state"] == "FAILURE"
    sim.set_latency("raida", 0)
    again = http.post("/api/admin/sync").json()
    assert again["job_id"] != job_id and not again.get("deduplicated")
