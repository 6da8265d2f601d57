"""History retention: jobs, events and webhook deliveries older than SYNCQ_HISTORY_DAYS are pruned
once a day; state, running jobs and pending deliveries never are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bson import ObjectId

import store.events as events_store
import store.jobs as jobs_store
import store.webhooks as webhooks_store
from core.settings import reload_settings
from store.util import utcnow
from tests.procs import wait_until

OLD = timedelta(days=91)


@pytest.fixture()
def history(store_db):
    """Two of each: one older than the 90-day default window, one from now."""
    db = store_db
    for job_id, state, age in (
        ("old-done", "SUCCESS", OLD),
        ("old-failed", "FAILURE", OLD),
        ("old-running", "STARTED", OLD),
        ("new-done", "SUCCESS", timedelta(0)),
    ):
        jobs_store.create(job_id, "ping", {}, "api")
        db.jobs.update_one({"_id": job_id}, {"$set": {"state": state, "created_at": utcnow() - age}})
    db.events.insert_one(
        {
            "_id": ObjectId.from_datetime(utcnow() - OLD),
            "type": "source.health_changed",
            "data": {},
            "at": utcnow() - OLD,
        }
    )
    events_store.record("source.health_changed", {})
    ids = webhooks_store.create_deliveries("msg_1", "job.failed", "{}", ["ep_a", "ep_b", "ep_c"])
    for delivery_id, status, age in zip(ids, ("delivered", "pending", "delivered"), (OLD, OLD, timedelta(0))):
        db.webhook_deliveries.update_one(
            {"_id": delivery_id}, {"$set": {"status": status, "createdAt": utcnow() - age}}
        )
    db.webhook_marks.insert_many(
        [
            {"_id": "old", "endpointId": "ep_a", "at": utcnow() - OLD},
            {"_id": "new", "endpointId": "ep_a", "at": utcnow()},
        ]
    )
    return db, ids


def test_pruning_forgets_finished_jobs_events_and_settled_deliveries_past_the_window(history):
    from syncs import history as retention

    db, ids = history
    result = retention.prune()
    assert (result["jobs"], result["events"], result["webhook_deliveries"]) == (2, 1, 1)
    assert sorted(job["_id"] for job in db.jobs.find()) == ["new-done", "old-running"]  # a running job stays
    assert db.events.count_documents({}) == 1 and db.events.find_one()["at"] > utcnow() - timedelta(days=1)
    assert sorted(d["_id"] for d in db.webhook_deliveries.find()) == sorted(ids[1:])  # a pending one stays
    assert [mark["_id"] for mark in db.webhook_marks.find()] == ["new"]


def test_history_days_zero_keeps_everything(history, monkeypatch):
    from syncs import history as retention

    db, _ids = history
    monkeypatch.setenv("SYNCQ_HISTORY_DAYS", "0")
    reload_settings()
    try:
        assert retention.prune() == {"kept": "for ever"}
        assert db.jobs.count_documents({}) == 4 and db.webhook_deliveries.count_documents({}) == 3
    finally:
        monkeypatch.undo()
        reload_settings()


def test_a_worker_prunes_when_beat_sends_the_daily_entry(history, worker, celery_app_under_test):
    import schedules
    from core.settings import get_settings

    entry = next(e for e in schedules.entries(get_settings()) if e["name"] == "prune-history")
    assert entry["enabled"] and entry["task"] == "syncq.maintenance.prune" and entry["cron"] == "17 4 * * *"
    db, _ids = history
    celery_app_under_test.send_task(entry["task"])
    wait_until(
        lambda: db.jobs.count_documents({}) == 2 and db.events.count_documents({}) == 1,
        30,
        "the worker to prune the old history",
    )
