"""The `students` and `submissions` collections.

A student is keyed on `handleLower` (handles match case-insensitively). The full submission
list lives in `submissions`, keyed on `(handle, submissionId)`, so a student with 10,000
submissions keeps a small document (summary + last 50).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

import store
from store.util import update_then_read, utcnow

EDITABLE = ("name", "email", "phone", "reminders")


class StudentExists(Exception):
    """A student with that handle (in any case) already exists."""


class BadCursor(ValueError):
    """A pagination cursor that this API did not hand out."""


@store.index_maker
def _indexes(database: Database) -> None:
    database.students.create_index("handleLower", unique=True)
    database.students.create_index([("currRating", DESCENDING), ("_id", ASCENDING)])
    database.students.create_index([("name", ASCENDING), ("_id", ASCENDING)])
    database.students.create_index("lastActiveAt")
    database.submissions.create_index([("handle", ASCENDING), ("submissionId", ASCENDING)], unique=True)
    database.submissions.create_index([("handle", ASCENDING), ("submissionId", DESCENDING)])


def create(name: str, email: str, handle: str, phone: str | None = None) -> dict[str, Any]:
    """A new student (not yet synced); StudentExists for a taken handle."""
    now = utcnow()
    doc: dict[str, Any] = {
        "name": name,
        "email": email,
        "phone": phone,
        "codeforcesHandle": handle,
        "handleLower": handle.lower(),
        "currRating": None,
        "rank": None,
        "maxRating": None,
        "maxRank": None,
        "contestData": [],
        "submissions": None,
        "lastActiveAt": None,
        "lastSyncedAt": None,
        "reminders": True,
        "remindersSent": 0,
        "createdAt": now,
        "updatedAt": now,
    }
    try:
        store.db().students.insert_one(doc)
    except DuplicateKeyError:
        raise StudentExists(handle) from None
    return doc


def get(handle: str, fields: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """The student with that handle, in any case (only `fields` of it, if given)."""
    projection = dict.fromkeys(fields, 1) if fields else None
    return store.db().students.find_one({"handleLower": handle.lower()}, projection)


def update_fields(handle: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Set editable fields; returns the updated student or None."""
    changes = {k: v for k, v in fields.items() if k in EDITABLE}
    return update_then_read(
        store.db().students, {"handleLower": handle.lower()}, {"$set": {**changes, "updatedAt": utcnow()}}
    )


def delete(handle: str) -> bool:
    """Delete the student and every stored submission of it."""
    deleted = store.db().students.delete_one({"handleLower": handle.lower()}).deleted_count == 1
    store.db().submissions.delete_many({"handle": handle.lower()})
    store.db().student_months.delete_many({"handle": handle.lower()})  # its statistics (store.stats)
    return deleted


def save_sync(handle: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Write a sync's results onto the student (a handle marked not found is found again);
    returns the updated document."""
    return update_then_read(
        store.db().students,
        {"handleLower": handle.lower()},
        {
            "$set": {**fields, "lastSyncedAt": utcnow(), "updatedAt": utcnow()},
            "$unset": {"handleStatus": "", "handleNotFoundAt": ""},
        },
    )


def upsert_submissions(records: list[dict[str, Any]]) -> int:
    """Write submissions in one unordered bulk upsert; returns how many were new."""
    if not records:
        return 0
    ops = [
        UpdateOne({"handle": r["handle"], "submissionId": r["submissionId"]}, {"$set": r}, upsert=True) for r in records
    ]
    return store.db().submissions.bulk_write(ops, ordered=False).upserted_count


def newest_submission_id(handle: str) -> int | None:
    """The newest stored submission id of `handle`, or None when none is stored."""
    doc = store.db().submissions.find_one(
        {"handle": handle.lower()}, {"submissionId": 1}, sort=[("submissionId", DESCENDING)]
    )
    return doc["submissionId"] if doc else None


def _encode(values: list[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, ObjectId) else v for v in values]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        return json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode())
    except Exception:  # anything malformed is the caller's 400
        raise BadCursor("cursor is not one this API handed out") from None


def list_students(
    sort: str = "name",
    limit: int = 50,
    cursor: str | None = None,
    inactive_days: int | None = None,
    min_rating: int | None = None,
    max_rating: int | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Students by name (A-Z), rating or problems solved (highest first), a page at a time;
    `inactive_days` keeps those with no OK submission in that many days (or none at all), and
    `min_rating`/`max_rating` those rated within that range (inclusive)."""
    query: dict[str, Any] = {}
    if inactive_days is not None:
        since = datetime.now(UTC) - timedelta(days=inactive_days)
        query["$or"] = [{"lastActiveAt": None}, {"lastActiveAt": {"$lt": since}}]
    if min_rating is not None or max_rating is not None:
        query["currRating"] = {k: v for k, v in (("$gte", min_rating), ("$lte", max_rating)) if v is not None}
    if sort == "solved":
        order = [("solvedKey", DESCENDING), ("_id", ASCENDING)]
        field = "solvedKey"
    elif sort == "rating":
        # Unrated students sort last: rating -1 stands in for "none".
        order = [("ratingKey", DESCENDING), ("_id", ASCENDING)]
        field = "ratingKey"
    else:
        order = [("nameKey", ASCENDING), ("_id", ASCENDING)]
        field = "nameKey"
    pipeline: list[dict[str, Any]] = [
        {"$match": query},
        {
            "$addFields": {
                "ratingKey": {"$ifNull": ["$currRating", -1]},
                "nameKey": {"$toLower": "$name"},
                "solvedKey": {"$ifNull": ["$submissions.solvedCount", -1]},
            }
        },
    ]
    if cursor:
        value, oid = _decode(cursor)
        try:
            oid = ObjectId(oid)
        except Exception:
            raise BadCursor("cursor is not one this API handed out") from None
        op = "$lt" if sort in ("rating", "solved") else "$gt"
        pipeline.append({"$match": {"$or": [{field: {op: value}}, {field: value, "_id": {"$gt": oid}}]}})
    pipeline += [{"$sort": dict(order)}, {"$limit": limit + 1}]
    docs = list(store.db().students.aggregate(pipeline))
    next_cursor = _encode([docs[limit - 1][field], docs[limit - 1]["_id"]]) if len(docs) > limit else None
    for doc in docs:
        for key in ("ratingKey", "nameKey", "solvedKey"):
            doc.pop(key, None)
    return docs[:limit], next_cursor


def list_submissions(handle: str, verdict: str | None, limit: int, after: int | None) -> tuple[list[dict], int | None]:
    """A student's submissions, newest first, optionally of one verdict; cursor = last id seen."""
    query: dict[str, Any] = {"handle": handle.lower()}
    if verdict:
        query["verdict"] = verdict
    if after is not None:
        query["submissionId"] = {"$lt": after}
    docs = list(store.db().submissions.find(query, {"_id": 0}).sort("submissionId", DESCENDING).limit(limit + 1))
    next_cursor = docs[limit - 1]["submissionId"] if len(docs) > limit else None
    return docs[:limit], next_cursor


# --- inactivity reminders (syncs.reminders) ------------------------------------------------


def inactive(since: datetime) -> list[dict[str, Any]]:
    """Synced students with no OK submission since `since` (or none at all)."""
    query = {"lastSyncedAt": {"$ne": None}, "$or": [{"lastActiveAt": None}, {"lastActiveAt": {"$lt": since}}]}
    return list(
        store.db().students.find(
            query,
            {
                "codeforcesHandle": 1,
                "name": 1,
                "email": 1,
                "lastActiveAt": 1,
                "reminders": 1,
                "inactiveStreak": 1,
                "reminderStreak": 1,
                "remindersSent": 1,
                "createdAt": 1,
            },
        )
    )


def claim_streak(handle: str, field: str, streak: str) -> bool:
    """Set `field` (inactiveStreak or reminderStreak) to `streak` unless it already says so:
    True for the one caller that did, so a streak is announced and emailed once."""
    result = store.db().students.update_one(
        {"handleLower": handle.lower(), field: {"$ne": streak}}, {"$set": {field: streak}}
    )
    return result.modified_count == 1


def release_streak(handle: str, field: str, streak: str) -> None:
    """Undo `claim_streak` (the email could not be sent: the next run tries again)."""
    store.db().students.update_one({"handleLower": handle.lower(), field: streak}, {"$set": {field: None}})


def count_reminder(handle: str) -> None:
    """One more reminder sent to the student."""
    store.db().students.update_one(
        {"handleLower": handle.lower()}, {"$inc": {"remindersSent": 1}, "$set": {"lastReminderAt": utcnow()}}
    )


def end_streaks(since: datetime) -> int:
    """Students active since `since` are no longer in an inactive streak; how many were."""
    result = store.db().students.update_many(
        {
            "lastActiveAt": {"$gte": since},
            "$or": [{"inactiveStreak": {"$nin": [None]}}, {"reminderStreak": {"$nin": [None]}}],
        },
        {"$set": {"inactiveStreak": None, "reminderStreak": None}},
    )
    return result.modified_count


# --- the background sync ------------------------------------------------------------------------

BACKGROUND_FIELDS = {
    "codeforcesHandle": 1,
    "handleLower": 1,
    "currRating": 1,
    "profile": 1,
    "lastSyncedAt": 1,
    "submissions.total": 1,
    "lastActiveAt": 1,
    "handleStatus": 1,
}


def background_candidates() -> list[dict[str, Any]]:
    """Students the background sync checks (all but those whose handle Codeforces does not know),
    with only the fields it compares."""
    return list(store.db().students.find({"handleStatus": {"$ne": "not_found"}}, BACKGROUND_FIELDS).sort("_id", 1))


def not_found_handles() -> list[str]:
    """Handles marked not found (skipped by the background sync until a manual sync or a new handle)."""
    return sorted(
        d["codeforcesHandle"] for d in store.db().students.find({"handleStatus": "not_found"}, {"codeforcesHandle": 1})
    )


def mark_not_found(handles: list[str], at: datetime) -> int:
    """Mark students whose handle Codeforces does not know; their data stays."""
    if not handles:
        return 0
    return (
        store.db()
        .students.update_many(
            {"handleLower": {"$in": [h.lower() for h in handles]}},
            {"$set": {"handleStatus": "not_found", "handleNotFoundAt": at, "updatedAt": at}},
        )
        .modified_count
    )


def mark_checked(handles: list[str], at: datetime) -> None:
    """Record that these students were checked against Codeforces at `at` (nothing else changed)."""
    if handles:
        store.db().students.update_many(
            {"handleLower": {"$in": [h.lower() for h in handles]}}, {"$set": {"lastSyncedAt": at}}
        )


def save_background(updates: list[tuple[str, dict[str, Any]]], at: datetime) -> None:
    """Write the background sync's per-student fields in one unordered bulk write; what it stored
    for students deleted or renamed meanwhile is swept."""
    if updates:
        ops = [
            UpdateOne({"handleLower": handle.lower()}, {"$set": {**fields, "lastSyncedAt": at, "updatedAt": at}})
            for handle, fields in updates
        ]
        store.db().students.bulk_write(ops, ordered=False)
        sweep_submissions([handle for handle, fields in updates if "submissions" in fields])


def sweep_submissions(handles: list[str]) -> int:
    """Delete the submissions stored under those of `handles` that no student has any more: a
    sync that fetched them while its student was deleted or renamed wrote them under the old
    handle. How many were deleted."""
    wanted = {h.lower() for h in handles}
    if not wanted:
        return 0
    kept = {
        d["handleLower"] for d in store.db().students.find({"handleLower": {"$in": list(wanted)}}, {"handleLower": 1})
    }
    gone = sorted(wanted - kept)
    return store.db().submissions.delete_many({"handle": {"$in": gone}}).deleted_count if gone else 0


def apply_rating_changes(contest_id: int, changes: dict[str, dict[str, Any]]) -> list[str]:
    """Append one contest's rating change to every tracked student who took part and does not
    have it yet (so applying a contest twice changes nothing); returns the handles changed."""
    if not changes:
        return []
    tracked = [
        d["handleLower"]
        for d in store.db().students.find(
            {"handleLower": {"$in": list(changes)}, "contestData.contestId": {"$ne": contest_id}}, {"handleLower": 1}
        )
    ]
    ops = [
        UpdateOne(
            {"handleLower": h, "contestData.contestId": {"$ne": contest_id}},
            {"$push": {"contestData": changes[h]}, "$set": {"currRating": changes[h]["newRating"]}},
        )
        for h in tracked
    ]
    if ops:
        store.db().students.bulk_write(ops, ordered=False)
    return tracked


def change_handle(handle: str, new_handle: str) -> dict[str, Any] | None:
    """Give a student a new Codeforces handle (a renamed account): its submissions follow, and a
    `not_found` mark is cleared. StudentExists when another student has that handle."""
    now = utcnow()
    try:
        result = store.db().students.update_one(
            {"handleLower": handle.lower()},
            {
                "$set": {"codeforcesHandle": new_handle, "handleLower": new_handle.lower(), "updatedAt": now},
                "$unset": {"handleStatus": "", "handleNotFoundAt": ""},
            },
        )
    except DuplicateKeyError:
        raise StudentExists(new_handle) from None
    if result.matched_count == 0:
        return None
    if new_handle.lower() != handle.lower():
        store.db().submissions.update_many({"handle": handle.lower()}, {"$set": {"handle": new_handle.lower()}})
        store.db().student_months.update_many({"handle": handle.lower()}, {"$set": {"handle": new_handle.lower()}})
    return get(new_handle)
