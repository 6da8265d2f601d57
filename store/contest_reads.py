"""Reads of the `contests` collection: pages by start time, the calendar's window, the CSV's all.

Every query here is a range on an indexed time (startTime or endTime), never an open sort with a
limit: the embedded store (SecantusDB) answers a range through its index at a cost that follows
the documents in the range, but pays for the whole collection for a sort with a limit (it does
not stop at the limit). A page is therefore read in windows of start time that double until they
hold the page (docs/benchmarks-notes.md: where a cold page's time goes); real MongoDB answers the
same queries from the same indexes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

import store
from store.util import iso

# Fields no public read shows: the upstream payload is for admins who ask for it.
HIDDEN = {"contentHash": 0, "raw": 0}
ADMIN = {"contentHash": 0}
FEED_FIELDS = {
    "_id": 0,
    "platform": 1,
    "platformId": 1,
    "name": 1,
    "type": 1,
    "phase": 1,
    "startTime": 1,
    "endTime": 1,
    "durationSeconds": 1,
    "url": 1,
    "sequence": 1,
    "createdAt": 1,
    "updatedAt": 1,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_WINDOW = timedelta(days=30)
OPEN_AFTER = timedelta(days=4 * 365)  # a window this wide is followed by one open to the end


def _start(doc: dict[str, Any]) -> datetime:
    start = doc.get("startTime")
    if not isinstance(start, datetime):  # none, or a value no sync writes: first, never an error
        return EPOCH
    return start.replace(tzinfo=UTC) if start.tzinfo is None else start


def _order(doc: dict[str, Any]) -> tuple[datetime, str]:
    return (_start(doc), str(doc["_id"]))


def feed_contests(
    platforms: list[str] | None = None, phase: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The contests with a start time that end at `since` or later (all of them for None) (of
    `platforms`, in `phase`), by start time, without `raw`: what a calendar feed lists. A contest
    whose end is unknown counts as ending when it starts."""
    base: dict[str, Any] = {}
    if platforms:
        base["platform"] = {"$in": list(platforms)}
    if phase:
        base["phase"] = phase
    contests = store.db().contests
    if since is None:
        docs = list(contests.find({**base, "startTime": {"$ne": None}}, FEED_FIELDS))
    else:
        docs = list(contests.find({**base, "endTime": {"$gte": since}}, FEED_FIELDS))
        docs += contests.find({**base, "startTime": {"$gte": since}, "endTime": None}, FEED_FIELDS)
    docs = [doc for doc in docs if doc.get("startTime") is not None]
    docs.sort(key=lambda d: (_start(d), d.get("platform") or "", str(d.get("platformId"))))
    return docs


def all_contests(
    *,
    platform: str | None = None,
    phase: str | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every contest the filters match (without `raw`), in the pages' order: what the CSV lists."""
    query = _base(platform, phase)
    if start_from or start_to:
        query["startTime"] = {k: v for k, v in (("$gte", start_from), ("$lt", start_to)) if v}
    docs = list(store.db().contests.find(query, HIDDEN))
    undated = sorted((d for d in docs if d.get("startTime") is None), key=lambda d: str(d["_id"]))
    return undated + sorted((d for d in docs if d.get("startTime") is not None), key=_order)


class BadCursor(ValueError):
    """A pagination cursor that this API did not hand out."""


def encode_cursor(doc: dict[str, Any]) -> str:
    """An opaque cursor pointing just after `doc` in (startTime, _id) order."""
    start = doc.get("startTime")
    raw = json.dumps([iso(start) if start else None, str(doc["_id"])])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, ObjectId]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        start, oid = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        start_time = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        return start_time, ObjectId(oid)
    except Exception:  # anything malformed is the caller's 400
        raise BadCursor("cursor is not one this API handed out") from None


def _base(platform: str | None, phase: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if platform:
        query["platform"] = platform
    if phase:
        query["phase"] = phase
    return query


def find_contests(
    *,
    platform: str | None = None,
    phase: str | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    include_raw: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """Contests by start time (those without one first), a page at a time; (items, next cursor).
    `raw` (the upstream payload) only with `include_raw`."""
    base = _base(platform, phase)
    projection = ADMIN if include_raw else HIDDEN
    after_start, after_id = decode_cursor(cursor) if cursor else (None, None)
    want = limit + 1
    docs: list[dict[str, Any]] = []
    if not (start_from or start_to) and after_start is None:
        undated: dict[str, Any] = {**base, "startTime": None}
        if after_id is not None:
            undated["_id"] = {"$gt": after_id}
        docs += store.db().contests.find(undated, projection).sort("_id", 1).limit(want)
    if len(docs) < want:
        low = max((t for t in (after_start, start_from) if t is not None), default=EPOCH)
        docs += _dated(base, projection, low, start_to, (after_start, after_id), want - len(docs))
    next_cursor = encode_cursor(docs[limit - 1]) if len(docs) > limit else None
    return docs[:limit], next_cursor


def _dated(
    base: dict[str, Any],
    projection: dict[str, int],
    low: datetime,
    high: datetime | None,
    after: tuple[datetime | None, ObjectId | None],
    need: int,
) -> list[dict[str, Any]]:
    """The first `need` dated contests from `low` (inclusive) to `high` (exclusive) after the
    cursor's (start, id), read in doubling windows of start time."""
    after_start, after_id = after
    if after_start is not None and after_start.tzinfo is None:
        after_start = after_start.replace(tzinfo=UTC)
    found: list[dict[str, Any]] = []
    width = FIRST_WINDOW
    contests = store.db().contests
    while len(found) < need:
        upper = None if width > OPEN_AFTER else low + width
        if high is not None and (upper is None or upper >= high):
            upper = high
        window: dict[str, Any] = {"$gte": low}
        if upper is not None:
            window["$lt"] = upper
        docs = sorted(contests.find({**base, "startTime": window}, projection), key=_order)
        if after_start is not None:  # the cursor's own start time: only the ids after it
            docs = [d for d in docs if _order(d) > (after_start, str(after_id))]
        found += docs
        if upper is None or upper == high:
            break
        low, width = upper, width * 2
    return found[:need]
