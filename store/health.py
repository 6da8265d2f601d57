"""The `source_health` and `source_runs` collections: each source's current health, and its runs.

`source_health` holds one document per source (`_id` = the source's name) with a revision
number `rev`: every write names the revision it was computed from, so a sync recording a run
and a reader marking the source stale never overwrite each other's change. `source_runs` keeps
every run for `RUNS_KEPT_DAYS` days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

import store
from store import versions
from store.util import utcnow

RUNS_KEPT_DAYS = 30


@store.index_maker
def _indexes(database: Database) -> None:
    database.source_runs.create_index([("source", ASCENDING), ("at", DESCENDING)])


def get(source: str) -> dict[str, Any] | None:
    """One source's health document, or None if it never ran."""
    return store.db().source_health.find_one({"_id": source})


def all_states() -> list[dict[str, Any]]:
    """Every source's health document."""
    return list(store.db().source_health.find())


def save(source: str, fields: dict[str, Any], expect_rev: int | None) -> bool:
    """Write `fields` as the source's state if it is still at revision `expect_rev` (None: the
    source has no document yet); False when someone else changed it first."""
    collection = store.db().source_health
    if expect_rev is None:
        try:
            collection.insert_one({**fields, "_id": source, "rev": 1})
        except DuplicateKeyError:
            return False
        versions.move(versions.PLATFORMS)  # GET /platforms shows each source's health
        return True
    result = collection.update_one({"_id": source, "rev": expect_rev}, {"$set": {**fields, "rev": expect_rev + 1}})
    if result.matched_count == 1:
        versions.move(versions.PLATFORMS)
    return result.matched_count == 1


def add_run(run: dict[str, Any]) -> None:
    """Keep one run (`source`, `at`, ...) and forget that source's runs older than RUNS_KEPT_DAYS."""
    collection = store.db().source_runs
    collection.insert_one(dict(run))
    collection.delete_many({"source": run["source"], "at": {"$lt": utcnow() - timedelta(days=RUNS_KEPT_DAYS)}})


def recent_runs(source: str, limit: int = 20) -> list[dict[str, Any]]:
    """The source's latest runs, newest first."""
    return list(store.db().source_runs.find({"source": source}, {"_id": 0}).sort("at", DESCENDING).limit(limit))
