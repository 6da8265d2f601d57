"""Concurrency: 50 simultaneous triggers make one run; one platform is never synced twice at once."""

from __future__ import annotations

import concurrent.futures
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from tests.contest_stubs import install
from tests.procs import wait_until


@pytest.fixture()
def live_api(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_fifty_simultaneous_sync_all_triggers_make_exactly_one_run(
    live_api, admin_token, worker, monkeypatch, store_db
):
    stubs = install(monkeypatch)
    gate = threading.Event()
    stubs["codeforces"].gate = gate  # keep the run going while the triggers arrive
    barrier = threading.Barrier(50)

    def trigger(_):
        barrier.wait(10)
        return httpx.post(
            f"{live_api}/contests/sync/all", headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
        )

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(trigger, range(50)))
    gate.set()
    assert all(r.status_code == 202 for r in responses)
    ids = {r.json()["job_id"] for r in responses}
    assert len(ids) == 1
    assert sum(1 for r in responses if r.json().get("deduplicated")) == 49
    assert store_db.jobs.count_documents({"kind": "contests.sync_all"}) == 1
    done = httpx.get(
        f"{live_api}/jobs/{ids.pop()}",
        params={"wait": 30},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=40,
    )
    assert done.status_code == 200 and stubs["codeforces"].calls == 1


def test_two_workers_never_sync_the_same_platform_at_once(worker, simulator, store_db):
    from jobs.service import wait_for
    from store import jobs as jobs_store
    from workers.contests import sync_platform

    simulator.set_latency("codechef", 700)
    # Two runs of one platform at once (e.g. from Flower): the second waits for the first.
    first, second = sync_platform.apply_async(("codechef",)), sync_platform.apply_async(("codechef",))
    for result in (first, second):
        # A run started outside the API is recorded as a job when a worker starts it.
        wait_until(lambda result=result: jobs_store.get(result.id), 30, "the worker to record the run as a job")
        assert wait_for(result.id, 60)["state"] == "SUCCESS"
    fetches = sorted((e["start"], e["end"], e["path"]) for e in simulator.log() if e["service"] == "codechef")
    runs = [start for start, _end, path in fetches if path.endswith("/all")]  # each run lists /all first
    assert len(runs) == 2
    assert all(end <= runs[1] for start, end, _path in fetches if start < runs[1])  # the first ended before


def test_a_platform_still_synced_elsewhere_after_its_last_retry_is_reported_not_raised(store_db, monkeypatch):
    from jobs import guards, kinds
    from workers import contests as contest_tasks

    monkeypatch.setattr(contest_tasks, "MUTEX_WAIT_S", 0.2)
    key = kinds.platform_guard("codechef")
    assert guards.take(key, "another-run") is None  # another worker's run holds the platform
    try:
        # The last try (a sync-all's step must end with a result, or the chain stops there).
        outcome = contest_tasks.sync_platform.apply(args=("codechef",), retries=contest_tasks.sync_platform.max_retries)
    finally:
        guards.release(key, "another-run")
    assert outcome.successful(), outcome.traceback
    result = outcome.get()
    assert result["failed"] == 1 and result["synced"] == 0
    assert "codechef: still being synced elsewhere" in result["error"]
