"""The `jobs` collection: every job from enqueue to its end, outliving Redis results."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

import store
from store.util import utcnow

STATES = ("PENDING", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE")
FINISHED = ("SUCCESS", "FAILURE")
TRIGGERS = ("api", "beat", "cli", "flower")


@store.index_maker
def _indexes(database: Database) -> None:
    database.jobs.create_index([("kind", 1), ("created_at", DESCENDING)])
    database.jobs.create_index([("created_at", DESCENDING)])


def create(job_id: str, kind: str, params: dict[str, Any], trigger: str, *, user: str | None = None,
           total: int | None = None, retry_of: str | None = None,
           guard: str | None = None) -> dict[str, Any]:
    """Record a new PENDING job; returns the document."""
    doc = {
        "_id": job_id, "kind": kind, "state": "PENDING", "params": params, "trigger": trigger,
        "user": user, "progress": {"done": 0, "total": total, "current": None} if total else None,
        "result": None, "error": None, "created_at": utcnow(),
        "finished_at": None, "retry_of": retry_of, "steps": {}, "guard": guard,
    }
    store.db().jobs.insert_one(doc)
    return doc


def ensure(job_id: str, kind: str, params: dict[str, Any], trigger: str) -> None:
    """Record a job that started without one (a task run from Flower); no-op if it exists."""
    now = utcnow()
    try:
        store.db().jobs.update_one(
            {"_id": job_id},
            {"$setOnInsert": {"kind": kind, "state": "PENDING", "params": params, "trigger": trigger,
                              "user": None, "progress": None, "result": None, "error": None,
                              "created_at": now, "finished_at": None,
                              "retry_of": None, "steps": {}}},
            upsert=True)
    except DuplicateKeyError:  # two deliveries raced to create it: one is enough
        pass


def get(job_id: str) -> dict[str, Any] | None:
    """The job document, or None."""
    return store.db().jobs.find_one({"_id": job_id})


def recent(kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs first, optionally of one kind."""
    query = {"kind": kind} if kind else {}
    return list(store.db().jobs.find(query).sort("created_at", DESCENDING).limit(limit))


def _update_running(job_id: str, update: dict[str, Any]) -> None:
    # A finished job never goes back to running (a redelivered task may start again).
    store.db().jobs.update_one({"_id": job_id, "state": {"$nin": list(FINISHED)}}, update)


def mark_started(job_id: str) -> None:
    """STARTED, keeping the first start time across redeliveries."""
    # `started_at` is absent until the first start ($min sets an absent field; a null would win).
    _update_running(job_id, {"$set": {"state": "STARTED"}, "$min": {"started_at": utcnow()}})


def set_progress(job_id: str, done: int, total: int, current: str | None) -> None:
    """PROGRESS with `{done, total, current}`."""
    _update_running(job_id, {"$set": {"state": "PROGRESS",
                                      "progress": {"done": done, "total": total, "current": current}}})


def set_step(job_id: str, step: str, result: Any) -> None:
    """Keep one step's result (a platform of a sync-all, a student of a fan-out)."""
    store.db().jobs.update_one({"_id": job_id}, {"$set": {f"steps.{step}": result}})


def mark_retry(job_id: str, error: str) -> None:
    """RETRY, with the error that caused it."""
    _update_running(job_id, {"$set": {"state": "RETRY", "error": error}})


def finish(job_id: str, result: Any) -> dict[str, Any] | None:
    """SUCCESS with `result`; returns the updated job."""
    return _end(job_id, {"state": "SUCCESS", "result": result, "error": None, "finished_at": utcnow()})


def fail(job_id: str, error: str, *, status: int | None = None, body: Any = None) -> dict[str, Any] | None:
    """FAILURE with a message; `status`/`body` are what `?wait=` answers for it."""
    return _end(job_id, {"state": "FAILURE", "error": error, "error_status": status, "error_body": body,
                         "finished_at": utcnow()})


def _end(job_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    # An update then a read, not one find_one_and_update: nothing else writes a job once it
    # ends, and on the store findAndModify serialises under load (docs/benchmarks-notes.md).
    if store.db().jobs.update_one({"_id": job_id}, {"$set": fields}).matched_count == 0:
        return None
    return store.db().jobs.find_one({"_id": job_id})


def step_done(job_id: str, name: str, error: str | None = None) -> dict[str, Any] | None:
    """Record one fan-out step as done (a set: a redelivered step counts once); returns the job."""
    update: dict[str, Any] = {"$addToSet": {"done": name}}
    if error is not None:
        update["$addToSet"]["failures"] = {"name": name, "error": error[:300]}
    return store.db().jobs.find_one_and_update({"_id": job_id}, update, return_document=ReturnDocument.AFTER)


def set_total(job_id: str, total: int) -> None:
    """Set how many steps a fan-out job has."""
    store.db().jobs.update_one({"_id": job_id}, {"$set": {"progress": {"done": 0, "total": total,
                                                                       "current": None}}})


def advance(job_id: str, done: int, current: str | None) -> None:
    """Move progress forward to `done` (never back: steps finish in any order)."""
    store.db().jobs.update_one({"_id": job_id, "state": {"$nin": list(FINISHED)}},
                               {"$max": {"progress.done": done}, "$set": {"state": "PROGRESS",
                                                                          "progress.current": current}})


def step_result(job_id: str, step: str, result: Any, done: int, total: int) -> dict[str, Any] | None:
    """Keep one step's result and move progress to `done` in one write; returns the job."""
    return store.db().jobs.find_one_and_update(
        {"_id": job_id},
        {"$set": {f"steps.{step}": result, "progress": {"done": done, "total": total, "current": step}}},
        projection={"guard": 1}, return_document=ReturnDocument.AFTER)
