"""The `contests` and `platforms` collections.

Contests are keyed on `(platform, platformId)` (unique index). A sync writes only the
contests that are new (inserted) or whose content changed (compared by a content hash,
upserted), in one unordered bulk write, so an unchanged contest is neither rewritten nor counted.
Each contest carries a `sequence` (0 when first stored), raised by one whenever its start time or
duration changes: the calendar feed's SEQUENCE, which tells calendar apps that an event moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

import store
from store import versions
from store.contest_reads import (  # noqa: F401  (the reads, kept beside the writes' names)
    BadCursor,
    all_contests,
    decode_cursor,
    encode_cursor,
    feed_contests,
    find_contests,
)
from store.util import iso, utcnow

# Fields a platform changes on every call without the contest changing (Codeforces counts
# seconds to the start): kept out of the content hash, or every sync would "update" all.
VOLATILE_RAW = frozenset({"relativeTimeSeconds"})


@store.index_maker
def _indexes(database: Database) -> None:
    database.contests.create_index([("platform", ASCENDING), ("platformId", ASCENDING)], unique=True)
    database.contests.create_index([("startTime", ASCENDING), ("_id", ASCENDING)])
    database.contests.create_index([("platform", ASCENDING), ("startTime", ASCENDING), ("_id", ASCENDING)])
    database.contests.create_index([("endTime", ASCENDING)])  # the calendar's window: what ends from a day on


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def content_hash(doc: dict[str, Any]) -> str:
    """A stable hash of a contest's content, ignoring bookkeeping and volatile raw fields."""
    body = {k: v for k, v in doc.items() if k not in ("_id", "contentHash", "createdAt", "updatedAt")}
    raw = body.get("raw")
    if isinstance(raw, dict) and VOLATILE_RAW & raw.keys():
        body["raw"] = {k: v for k, v in raw.items() if k not in VOLATILE_RAW}
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default).encode()
    return hashlib.sha1(encoded).hexdigest()


def known_hashes(platform: str) -> dict[str, str]:
    """platformId -> content hash of every stored contest of `platform` (one query)."""
    cursor = store.db().contests.find({"platform": platform}, {"platformId": 1, "contentHash": 1, "_id": 0})
    return {doc["platformId"]: doc.get("contentHash", "") for doc in cursor}


@dataclass
class UpsertOutcome:
    """What one bulk upsert did: new, changed and unchanged contests, and the ones that failed."""

    synced: int = 0
    updated: int = 0
    unchanged: int = 0
    written: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def upsert_contests(
    platform: str, docs: Iterable[dict[str, Any]], hashes: dict[str, str] | None = None
) -> UpsertOutcome:
    """Write the new and changed contests of `platform` in one unordered bulk write
    (`hashes`: the stored content hashes, if already read)."""
    outcome = UpsertOutcome()
    hashes = known_hashes(platform) if hashes is None else hashes
    now = utcnow()
    inserts: list[tuple[str, dict[str, Any]]] = []
    updates: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for doc in docs:
        platform_id = doc["platformId"]
        if platform_id in seen:  # a platform listing the same contest twice: keep the first
            continue
        seen.add(platform_id)
        digest = content_hash(doc)
        stored = hashes.get(platform_id)
        if stored == digest:
            outcome.unchanged += 1
            continue
        fields = {**doc, "platform": platform, "contentHash": digest, "updatedAt": now}
        (updates if stored is not None else inserts).append((platform_id, fields))
    # A contest we have not stored is inserted, not upserted: an insert skips the lookup an
    # upsert makes first.
    operations: list[Any] = [InsertOne({**fields, "createdAt": now, "sequence": 0}) for _, fields in inserts]
    ids = [platform_id for platform_id, _ in inserts]
    stored_times = _times(platform, [platform_id for platform_id, _ in updates])
    for platform_id, fields in updates:
        operations.append(_update(platform, fields, stored_times.get(platform_id)))
        ids.append(platform_id)
    raced = _write(operations, ids, outcome, raced_below=len(inserts))
    if raced:  # stored by someone else since we read the hashes: compare again, update the changed
        fresh = _times(platform, sorted(raced))
        retry = [
            (platform_id, fields)
            for platform_id, fields in inserts
            if platform_id in raced and (fresh.get(platform_id) or {}).get("contentHash") != fields["contentHash"]
        ]
        outcome.unchanged += len(raced) - len(retry)
        _write(
            [_update(platform, fields, fresh.get(platform_id)) for platform_id, fields in retry],
            [platform_id for platform_id, _ in retry],
            outcome,
            raced_below=0,
        )
    outcome.written = outcome.synced + outcome.updated
    if outcome.written:
        versions.move_contests(platform)
    return outcome


def _update(platform: str, fields: dict[str, Any], stored: dict[str, Any] | None) -> UpdateOne:
    """The update of a stored contest, by its unique key; `sequence` is raised when it moved (its
    start or duration differs from `stored`). Decided here, not in the filter: the filter stays the
    unique key, which every store answers through its index."""
    update: dict[str, Any] = {"$set": fields}
    if stored is not None and _moved(stored, fields):
        update["$inc"] = {"sequence": 1}
    return UpdateOne({"platform": platform, "platformId": fields["platformId"]}, update)


def _moved(stored: dict[str, Any], fields: dict[str, Any]) -> bool:
    def when(value: Any) -> Any:
        return iso(value) if isinstance(value, datetime) else value  # the store keeps milliseconds

    return when(stored.get("startTime")) != when(fields.get("startTime")) or stored.get(
        "durationSeconds"
    ) != fields.get("durationSeconds")


def _times(platform: str, platform_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored start and duration of some contests of `platform` (what `_update` compares)."""
    if not platform_ids:
        return {}
    return {
        doc["platformId"]: doc
        for doc in store.db().contests.find(
            {"platform": platform, "platformId": {"$in": platform_ids}},
            {"platformId": 1, "startTime": 1, "durationSeconds": 1, "contentHash": 1},
        )
    }


def _write(operations: list[Any], ids: list[str], outcome: UpsertOutcome, *, raced_below: int) -> set[str]:
    """Run one unordered bulk write and add its counts to `outcome`; return the ids of the first
    `raced_below` operations (the inserts) that hit the unique key, to be retried as upserts."""
    if not operations:
        return set()
    raced: set[str] = set()
    try:
        result = store.db().contests.bulk_write(operations, ordered=False)
        counts: Mapping[str, Any] = {
            "nInserted": result.inserted_count,
            "nUpserted": result.upserted_count,
            "nModified": result.modified_count,
        }
        errors: list[dict[str, Any]] = []
    except BulkWriteError as exc:
        counts, errors = exc.details, exc.details.get("writeErrors", [])
    outcome.synced += counts.get("nInserted", 0) + counts.get("nUpserted", 0)
    outcome.updated += counts.get("nModified", 0)
    for error in errors:
        index = error.get("index", -1)
        item = ids[index] if 0 <= index < len(ids) else None
        if error.get("code") == 11000 and 0 <= index < raced_below:
            raced.add(ids[index])
        else:
            outcome.failed.append({"item": item, "error": error.get("errmsg", "write failed")[:200]})
    return raced


def record_attempt(platform: str, result: dict[str, Any], *, success: bool) -> None:
    """Keep `lastAttemptAt`, `lastResult`, `lastError`, and `lastSyncedAt` for successful syncs."""
    now = utcnow()
    fields: dict[str, Any] = {"lastAttemptAt": now, "lastResult": result, "lastError": result.get("error")}
    if success:
        fields["lastSyncedAt"] = now
    store.db().platforms.update_one({"_id": platform}, {"$set": fields}, upsert=True)
    versions.move(versions.PLATFORMS)


def platform_states() -> dict[str, dict[str, Any]]:
    """The `platforms` documents by platform name."""
    return {doc["_id"]: doc for doc in store.db().platforms.find()}


def get_contest(platform: str, platform_id: str) -> dict[str, Any] | None:
    """One contest, or None."""
    return store.db().contests.find_one({"platform": platform, "platformId": platform_id}, {"contentHash": 0})


# --- cancellation: upcoming contests a platform stopped listing ------------------------------------

CANCELLED = "CANCELLED"  # the phase of a contest its platform stopped listing before it ran
MISSES_TO_CANCEL = 2


def count_missing_upcoming(
    platform: str,
    listed: set[str],
    *,
    misses: int = MISSES_TO_CANCEL,
    stored: Mapping[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Count one more miss for every stored upcoming contest of `platform` not in `listed` (the
    platform's complete list, from a successful sync that looked right); mark those missed `misses`
    times in a row CANCELLED (kept, never deleted). Returns the ids cancelled now.

    `stored`: the platform's contests as `watched` read them before this sync wrote (a sync
    leaves unlisted contests as they were), which spares reading them all again."""
    contests = store.db().contests
    upcoming = (
        contests.find({"platform": platform, "phase": "UPCOMING"}, {"platformId": 1, "missingSyncs": 1})
        if stored is None
        else (doc for doc in stored.values() if doc.get("phase") == "UPCOMING")
    )
    missing = [doc for doc in upcoming if doc["platformId"] not in listed]
    cancel = [doc["platformId"] for doc in missing if (doc.get("missingSyncs") or 0) + 1 >= misses]
    count = [doc["platformId"] for doc in missing if (doc.get("missingSyncs") or 0) + 1 < misses]
    now = utcnow()
    if count:
        contests.update_many({"platform": platform, "platformId": {"$in": count}}, {"$inc": {"missingSyncs": 1}})
    if cancel:
        # A content hash no listing can match: when the platform lists the contest again, the sync
        # sees it as changed and writes it back with its listed phase.
        contests.update_many(
            {"platform": platform, "platformId": {"$in": cancel}},
            {
                "$set": {"phase": CANCELLED, "cancelledAt": now, "updatedAt": now, "contentHash": CANCELLED},
                "$unset": {"missingSyncs": ""},
            },
        )
    if count or cancel:
        versions.move_contests(platform)
    return cancel


def clear_missing(platform: str, listed: set[str], stored: Mapping[str, dict[str, Any]] | None = None) -> list[str]:
    """Forget the misses and the cancellation of every contest `platform` lists again (after the
    sync wrote them back); returns the ids that were CANCELLED and are listed again.

    `stored`: as for `count_missing_upcoming` (a sync's write leaves both marks as they were)."""
    contests = store.db().contests
    marked = (
        contests.find(
            {"platform": platform, "$or": [{"missingSyncs": {"$exists": True}}, {"cancelledAt": {"$exists": True}}]},
            {"platformId": 1, "cancelledAt": 1},
        )
        if stored is None
        else (doc for doc in stored.values() if "missingSyncs" in doc or "cancelledAt" in doc)
    )
    back = [doc for doc in marked if doc["platformId"] in listed]
    if back:
        contests.update_many(
            {"platform": platform, "platformId": {"$in": [doc["platformId"] for doc in back]}},
            {"$unset": {"missingSyncs": "", "cancelledAt": ""}},
        )
        versions.move_contests(platform)
    return [doc["platformId"] for doc in back if doc.get("cancelledAt") is not None]


def watched(platform: str) -> dict[str, dict[str, Any]]:
    """platformId -> stored contest (without raw payload and hash) of `platform`: what a sync
    compares its fresh records with to announce created, changed and cancelled contests."""
    cursor = store.db().contests.find({"platform": platform}, {"raw": 0, "contentHash": 0, "_id": 0})
    return {doc["platformId"]: doc for doc in cursor}


def rename_contests(
    platform: str,
    renamed: Mapping[str, str],
    hashes: dict[str, str] | None = None,
    stored: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Move each stored contest of `platform` from its old key to its new one (`renamed`: new ->
    old), where the old one is stored and the new one is not; `hashes` and `stored` (a sync's
    reads) are moved with them. Returns the new keys moved to."""
    moved = []
    for new, old in renamed.items():
        if hashes is not None and (old not in hashes or new in hashes):
            continue
        result = store.db().contests.update_one(
            {"platform": platform, "platformId": old}, {"$set": {"platformId": new, "updatedAt": utcnow()}}
        )
        if not result.modified_count:
            continue
        moved.append(new)
        if hashes is not None:
            hashes[new] = hashes.pop(old)
        if stored is not None and old in stored:
            stored[new] = {**stored.pop(old), "platformId": new}
    if moved:
        versions.move_contests(platform)
    return moved
