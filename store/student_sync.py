"""The `student_sync` collection: what the background student sync remembers between runs.

One document `_id: "state"` holds when the last background sync started; one document per
Codeforces contest whose rating changes were applied (`_id: "contest:<id>"`), so a contest is
never applied twice, and an unrated one is not asked about again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import store
from store.util import utcnow

STATE = "state"


def last_background_sync() -> datetime | None:
    """When the last finished background sync started, or None before the first."""
    doc = store.db().student_sync.find_one({"_id": STATE})
    return doc.get("lastBackgroundSyncAt") if doc else None


def set_last_background_sync(at: datetime) -> None:
    """Record that a background sync that started at `at` has finished."""
    store.db().student_sync.update_one({"_id": STATE}, {"$set": {"lastBackgroundSyncAt": at}}, upsert=True)


def applied_contests(contest_ids: list[int]) -> set[int]:
    """Which of these contests were already applied (or found unrated)."""
    docs = store.db().student_sync.find({"_id": {"$in": [f"contest:{c}" for c in contest_ids]}}, {"contestId": 1})
    return {d["contestId"] for d in docs}


def record_contest(contest_id: int, *, rated: bool, participants: int, tracked: int) -> None:
    """Remember that a contest's rating changes were applied (or that it has none)."""
    doc: dict[str, Any] = {
        "contestId": contest_id,
        "rated": rated,
        "participants": participants,
        "tracked": tracked,
        "appliedAt": utcnow(),
    }
    store.db().student_sync.update_one({"_id": f"contest:{contest_id}"}, {"$set": doc}, upsert=True)
