"""A job's STARTED mark: written once the job has run a moment, or with its end if it ends sooner."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import store.jobs as jobs_store
from tests.procs import wait_until
from workers.startmarks import StartMarks

AT = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=timezone.utc)


def test_a_job_that_ends_before_its_mark_is_due_is_never_marked_and_keeps_its_start_time():
    written = []
    marks = StartMarks(lambda job_id, at: written.append((job_id, at)), delay=3600)
    marks.started("j1", AT)
    assert marks.pending() == {"j1"}
    assert marks.ended("j1") == AT
    assert marks.pending() == set() and written == []
    assert marks.ended("j1") is None  # ending twice gives nothing more


def test_a_job_still_running_when_its_mark_is_due_is_marked_once_with_its_start_time():
    written, done = [], threading.Event()

    def write(job_id, at):
        written.append((job_id, at))
        done.set()

    marks = StartMarks(write, delay=0.01, tick=0.01)
    marks.started("j2", AT)
    assert done.wait(10)
    assert written == [("j2", AT)] and marks.pending() == set()
    assert marks.ended("j2") == AT  # its end still knows when it began


def test_a_failing_mark_does_not_stop_the_marks_after_it():
    written, done = [], threading.Event()

    def write(job_id, at):
        if job_id == "bad":
            raise RuntimeError("store down")
        written.append(job_id)
        done.set()

    marks = StartMarks(write, delay=0.01, tick=0.01)
    marks.started("bad", AT)
    marks.started("good", AT)
    assert done.wait(10) and written == ["good"]


def test_a_quick_job_goes_from_pending_to_success_with_its_start_recorded(client, admin_headers, store_db, worker):
    assert client.post("/jobs/ping?wait=15", headers=admin_headers).status_code == 200
    job = store_db.jobs.find_one({"kind": "ping"})
    assert job["state"] == "SUCCESS"
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]


def test_a_job_running_longer_shows_started_while_it_runs(client, admin_headers, store_db, worker):
    job_id = client.post("/jobs/ping", headers=admin_headers, json={"delay": 3}).get_json()["job_id"]

    def started():
        body = client.get(f"/jobs/{job_id}", headers=admin_headers).get_json()
        return body if body["state"] != "PENDING" else None

    running = wait_until(started, 10, "the job to leave PENDING")
    assert running["state"] == "STARTED" and running["started_at"] is not None
    assert client.get(f"/jobs/{job_id}?wait=20", headers=admin_headers).status_code == 200
    job = store_db.jobs.find_one({"_id": job_id})
    assert job["state"] == "SUCCESS" and job["started_at"] <= job["finished_at"]


def test_a_late_mark_never_moves_a_job_back_from_progress_or_its_end(store_db):
    jobs_store.create("j-progress", "ping", {}, "api")
    jobs_store.set_progress("j-progress", 1, 4, "x")
    jobs_store.mark_started("j-progress", AT, keep_progress=True)
    assert jobs_store.get("j-progress")["state"] == "PROGRESS"
    jobs_store.create("j-ended", "ping", {}, "api")
    jobs_store.finish("j-ended", {"ok": True}, started_at=AT)
    jobs_store.mark_started("j-ended", datetime.now(timezone.utc), keep_progress=True)
    job = jobs_store.get("j-ended")
    assert job["state"] == "SUCCESS" and job["started_at"] == AT


def test_a_run_that_retries_before_its_mark_keeps_its_start_time(store_db):
    jobs_store.create("j-retry", "ping", {}, "api")
    jobs_store.mark_retry("j-retry", "store hiccup", started_at=AT)
    later = datetime(2026, 1, 2, 3, 5, tzinfo=timezone.utc)
    jobs_store.mark_started("j-retry", later, keep_progress=True)  # the retry's own run
    job = jobs_store.get("j-retry")
    assert job["state"] == "STARTED" and job["started_at"] == AT  # the first run's start is kept
