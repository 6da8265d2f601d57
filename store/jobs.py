"""The `jobs` collection: every job from enqueue to its end (written by jobs.lifecycle)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

import store
from store.util import update_then_read, utcnow

STATES = ("PENDING", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE")
FINISHED = ("SUCCESS", "FAILURE")
TRIGGERS = ("api", "beat", "cli", "flower")
_RUNNING = {"$nin": list(FINISHED)}


@store.index_maker
def _indexes(database: Database) -> None:
    database.jobs.create_index([("kind", 1), ("created_at", DESCENDING)])
    database.jobs.create_index([("created_at", DESCENDING)])


def create(
    job_id: str,
    kind: str,
    params: dict[str, Any],
    trigger: str,
    *,
    user: str | None = None,
    total: int | None = None,
    retry_of: str | None = None,
    guard: str | None = None,
    plan: list[str] | None = None,
) -> dict[str, Any]:
    """Record a new PENDING job (`plan`: the step names of a chained job); returns the document."""
    doc = {
        "_id": job_id,
        "kind": kind,
        "state": "PENDING",
        "params": params,
        "trigger": trigger,
        "user": user,
        "progress": {"done": 0, "total": total, "current": None} if total else None,
        "result": None,
        "error": None,
        "created_at": utcnow(),
        "finished_at": None,
        "retry_of": retry_of,
        "plan": plan,
        "steps": {},
        "guard": guard,
    }
    store.db().jobs.insert_one(doc)
    return doc


def ensure(job_id: str, kind: str, params: dict[str, Any], trigger: str) -> None:
    """Record a job that started without one (a task run from Flower); no-op if it exists."""
    try:
        store.db().jobs.update_one(
            {"_id": job_id},
            {
                "$setOnInsert": {
                    "kind": kind,
                    "state": "PENDING",
                    "params": params,
                    "trigger": trigger,
                    "user": None,
                    "progress": None,
                    "result": None,
                    "error": None,
                    "created_at": utcnow(),
                    "finished_at": None,
                    "retry_of": None,
                    "plan": None,
                    "steps": {},
                    "guard": None,
                }
            },
            upsert=True,
        )
    except DuplicateKeyError:  # two deliveries raced to create it: one is enough
        pass


def get(job_id: str) -> dict[str, Any] | None:
    """The job document, or None."""
    return store.db().jobs.find_one({"_id": job_id})


def prune(before: datetime) -> int:
    """Forget the finished jobs created before `before`; how many were removed."""
    return store.db().jobs.delete_many({"created_at": {"$lt": before}, "state": {"$in": list(FINISHED)}}).deleted_count


def recent(kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs first, optionally of one kind."""
    query = {"kind": kind} if kind else {}
    return list(store.db().jobs.find(query).sort("created_at", DESCENDING).limit(limit))


def mark_started(job_id: str) -> None:
    """STARTED, keeping the first start time across redeliveries (a job that ended stays ended)."""
    # $min sets an absent field, and keeps the earlier time when a redelivered task starts again.
    store.db().jobs.update_one(
        {"_id": job_id, "state": _RUNNING}, {"$set": {"state": "STARTED"}, "$min": {"started_at": utcnow()}}
    )


def step_started(job_id: str, step: str) -> dict[str, Any] | None:
    """PROGRESS: `step` of a chained job is running (progress.done counts the steps ended);
    returns the job's guard key (`{"guard": ...}`), None if the job is not running."""
    return update_then_read(
        store.db().jobs,
        {"_id": job_id, "state": _RUNNING},
        {"$set": {"state": "PROGRESS", "progress.current": step}, "$min": {"started_at": utcnow()}},
        projection={"guard": 1},
    )


def set_progress(job_id: str, done: int, total: int | None, current: str | None) -> dict[str, Any] | None:
    """PROGRESS with `{done, total, current}`; returns the job's guard key (`{"guard": ...}`)."""
    return update_then_read(
        store.db().jobs,
        {"_id": job_id, "state": _RUNNING},
        {"$set": {"state": "PROGRESS", "progress": {"done": done, "total": total, "current": current}}},
        projection={"guard": 1},
    )


def mark_retry(job_id: str, error: str) -> None:
    """RETRY, with the error that caused it."""
    store.db().jobs.update_one({"_id": job_id, "state": _RUNNING}, {"$set": {"state": "RETRY", "error": error}})


def record_step(job_id: str, step: str, result: Any) -> dict[str, Any] | None:
    """Keep one step's result (a redelivered step writes the same key) and count it; returns the job."""
    jobs = store.db().jobs
    jobs.update_one({"_id": job_id}, {"$set": {f"steps.{step}": result}})
    job = jobs.find_one({"_id": job_id})
    if job is not None and job.get("state") not in FINISHED:
        done = len(job.get("steps") or {})
        jobs.update_one({"_id": job_id, "state": _RUNNING}, {"$max": {"progress.done": done}})
    return job


def finish(job_id: str, result: Any) -> bool:
    """SUCCESS with `result`; False if the job does not exist or already ended."""
    return _end(job_id, {"state": "SUCCESS", "result": result, "error": None})


def fail(job_id: str, error: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> bool:
    """FAILURE with a message, a machine-readable `code` and `details` (what the API needs to
    answer as the kind documents); False if the job does not exist or already ended."""
    return _end(job_id, {"state": "FAILURE", "error": error, "error_code": code, "error_details": details})


def _end(job_id: str, fields: dict[str, Any]) -> bool:
    # Conditional: the first end written wins, so a job ends exactly once.
    now = utcnow()
    update = {"$set": {**fields, "finished_at": now}, "$min": {"started_at": now}}
    return store.db().jobs.update_one({"_id": job_id, "state": _RUNNING}, update).modified_count == 1
