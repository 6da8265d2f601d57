"""The `jobs` collection: every job from enqueue to its end, outliving Redis results."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
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


class _RecentReads:
    """Job documents this process read lately, so that hot polls skip the store.

    A job that has ended is not written again (short of a redelivered task ending it a second
    time, which this process forgets at once and others within FINISHED_TTL), so polling a
    finished job is served from here; a running job only when the caller accepts `max_age`.
    """

    FINISHED_TTL = 30.0
    SIZE = 4096

    def __init__(self) -> None:
        self._docs: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], max_age: float) -> dict[str, Any] | None:
        with self._lock:
            entry = self._docs.get(key)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        finished = entry[1].get("state") in FINISHED
        return dict(entry[1]) if age <= max_age or (finished and age <= self.FINISHED_TTL) else None

    def put(self, key: tuple[str, str], doc: dict[str, Any]) -> None:
        with self._lock:
            self._docs[key] = (time.monotonic(), doc)
            self._docs.move_to_end(key)
            while len(self._docs) > self.SIZE:
                self._docs.popitem(last=False)

    def forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._docs.pop(key, None)


_recent = _RecentReads()


def get(job_id: str, max_age: float = 0.0) -> dict[str, Any] | None:
    """The job document, or None; a finished job (or one read within `max_age` s) may come
    from this process's recent reads."""
    key = (store.db().name, job_id)
    doc = _recent.get(key, max_age)
    if doc is None:
        doc = store.db().jobs.find_one({"_id": job_id})
        if doc is not None:
            _recent.put(key, doc)
    return doc


def recent(kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs first, optionally of one kind."""
    query = {"kind": kind} if kind else {}
    return list(store.db().jobs.find(query).sort("created_at", DESCENDING).limit(limit))


def _update_running(job_id: str, update: dict[str, Any], *, only: tuple[str, ...] | None = None) -> None:
    # A finished job never goes back to running (a redelivered task may start again); `only`
    # narrows the states the update may move the job from.
    state = {"$in": list(only)} if only else {"$nin": list(FINISHED)}
    store.db().jobs.update_one({"_id": job_id, "state": state}, update)


def mark_started(job_id: str, at: datetime | None = None, *, keep_progress: bool = False) -> None:
    """STARTED (at `at`, default now), keeping the first start time across redeliveries;
    `keep_progress`: leave a job that already reports PROGRESS as it is (a mark written late)."""
    # `started_at` is absent until the first start ($min sets an absent field; a null would win).
    _update_running(job_id, {"$set": {"state": "STARTED"}, "$min": {"started_at": at or utcnow()}},
                    only=("PENDING", "RETRY", "STARTED") if keep_progress else None)


def set_progress(job_id: str, done: int, total: int, current: str | None) -> None:
    """PROGRESS with `{done, total, current}`."""
    _update_running(job_id, {"$set": {"state": "PROGRESS",
                                      "progress": {"done": done, "total": total, "current": current}}})


def set_step(job_id: str, step: str, result: Any) -> None:
    """Keep one step's result (a platform of a sync-all, a student of a fan-out)."""
    store.db().jobs.update_one({"_id": job_id}, {"$set": {f"steps.{step}": result}})


def mark_retry(job_id: str, error: str, *, started_at: datetime | None = None) -> None:
    """RETRY, with the error that caused it (`started_at`: when the failed run began, if not yet
    recorded)."""
    _update_running(job_id, _with_start({"$set": {"state": "RETRY", "error": error}}, started_at))


def _with_start(update: dict[str, Any], started_at: datetime | None) -> dict[str, Any]:
    # A run that stopped before its STARTED mark was due records its start with what it writes
    # instead (workers.startmarks); $min keeps the first run's across redeliveries.
    if started_at is not None:
        update["$min"] = {"started_at": started_at}
    return update


def finish(job_id: str, result: Any, *, started_at: datetime | None = None) -> bool:
    """SUCCESS with `result` (`started_at`: when its run began, if not yet recorded); False if
    there is no such job."""
    return _end(job_id, {"state": "SUCCESS", "result": result, "error": None, "finished_at": utcnow()},
                started_at)


def fail(job_id: str, error: str, *, status: int | None = None, body: Any = None,
         started_at: datetime | None = None) -> bool:
    """FAILURE with a message (`status`/`body`: what `?wait=` answers; `started_at` as for
    `finish`); False if there is no such job."""
    return _end(job_id, {"state": "FAILURE", "error": error, "error_status": status, "error_body": body,
                         "finished_at": utcnow()}, started_at)


def _end(job_id: str, fields: dict[str, Any], started_at: datetime | None) -> bool:
    # One plain update, nothing read back: ending a job is one store call of the few every
    # job costs (the guard it held is found in Redis, workers.jobs.job_ended).
    _recent.forget((store.db().name, job_id))
    return store.db().jobs.update_one({"_id": job_id}, _with_start({"$set": fields}, started_at)).matched_count == 1


def step_done(job_id: str, name: str, error: str | None = None) -> dict[str, Any] | None:
    """Record one fan-out step as done (a set: a redelivered step counts once); returns the job."""
    update: dict[str, Any] = {"$addToSet": {"done": name}}
    if error is not None:
        update["$addToSet"]["failures"] = {"name": name, "error": error[:300]}
    return update_then_read(store.db().jobs, {"_id": job_id}, update)


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
    return update_then_read(
        store.db().jobs, {"_id": job_id},
        {"$set": {f"steps.{step}": result, "progress": {"done": done, "total": total, "current": step}}},
        projection={"guard": 1})
