"""How a running job's progress reaches its record (jobs/lifecycle.py, fed by core.signals)."""

from __future__ import annotations

import pytest
from celery import Celery

import store.jobs as jobs_store
from core.signals import report_progress
from jobs import lifecycle

# An app of the test's own, so syncq's app keeps only its syncq.* tasks; the lifecycle listens to
# Celery's signals, which every app's tasks send.
probe_app = Celery("tests-progress", set_as_current=False)


@probe_app.task(name="tests.reports_progress", shared=False)
def reports_progress(job_id: str, reports: list[list[int]], fail: bool = False) -> dict:
    """Report each (done, total) in turn, then end (or fail) — a sync in miniature."""
    for done, total in reports:
        report_progress(done, total, f"item {done}")
    if fail:
        raise RuntimeError("the source went away midway")
    return {"reported": len(reports)}


def _run(job_id: str, reports: list[list[int]], fail: bool = False):
    jobs_store.create(job_id, "ping", {}, "api", total=reports[-1][1])
    return reports_progress.apply(kwargs={"job_id": job_id, "reports": reports, "fail": fail})


def test_progress_is_written_at_most_once_a_period_and_the_last_report_always(store_db, monkeypatch):
    # A period no run outlasts, so the test does not depend on how fast the store writes.
    monkeypatch.setattr(lifecycle, "PROGRESS_EVERY_S", 3600.0)
    _run("progress-burst", [[1, 500], [2, 500], [3, 500], [4, 500]])
    # A burst inside one period writes its first report only...
    assert jobs_store.get("progress-burst")["progress"]["done"] == 1
    _run("progress-done", [[1, 3], [2, 3], [3, 3]])
    # ...but reaching the total is always written, so a finished job never reads "2 of 3".
    assert jobs_store.get("progress-done")["progress"] == {"done": 3, "total": 3, "current": "item 3"}


@pytest.mark.parametrize("fail", [False, True], ids=["finished", "failed midway"])
def test_a_worker_keeps_no_progress_bookkeeping_for_a_job_whose_run_ended(store_db, fail):
    result = _run(f"progress-ended-{fail}", [[1, 10], [2, 10]], fail=fail)
    assert result.failed() is fail
    job = jobs_store.get(f"progress-ended-{fail}")
    assert job["state"] == ("FAILURE" if fail else "SUCCESS") and job["progress"]["done"] == 1
    # The throttle's per-job entry goes when the run ends, however it ended: a worker that runs
    # thousands of jobs which fail midway does not keep one entry for each of them.
    assert f"progress-ended-{fail}" not in lifecycle._last_progress
