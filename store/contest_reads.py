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
from collections.abc import Iterable
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
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # before it: one window (online contests start later)
FIRST_WINDOW = timedelta(days=30)  # about a page of every platform's contests (three times that for one)
MAX_WINDOW = timedelta(days=730)
HORIZON = timedelta(days=730)  # past now plus this, one window open to the end


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
    whose end is unknown counts as ending when it starts. The store is asked only for the time
    range (its index); platform and phase are picked here, as the embedded store would otherwise
    plan by the platform alone."""
    contests = store.db().contests
    if since is None:
        docs = list(contests.find({"startTime": {"$ne": None}}, FEED_FIELDS))
    else:
        docs = list(contests.find({"endTime": {"$gte": since}}, FEED_FIELDS))
        docs += contests.find({"startTime": {"$gte": since}, "endTime": None}, FEED_FIELDS)
    wanted = set(platforms or ())
    docs = [
        doc
        for doc in docs
        if doc.get("startTime") is not None
        and (not wanted or doc.get("platform") in wanted)
        and (phase is None or doc.get("phase") == phase)
    ]
    docs.sort(key=lambda d: (_start(d), str(d.get("platform") or ""), str(d.get("platformId"))))
    return docs


def all_contests(
    *,
    platform: str | None = None,
    phase: str | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every contest the filters match (without `raw`), in the pages' order: what the CSV lists."""
    query: dict[str, Any] = {}
    if start_from or start_to:
        query["startTime"] = {k: v for k, v in (("$gte", start_from), ("$lt", start_to)) if v}
    docs = contests_of(store.db().contests.find(query, HIDDEN), platform, phase)
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
    projection = ADMIN if include_raw else HIDDEN
    after_start, after_id = decode_cursor(cursor) if cursor else (None, None)
    want = limit + 1
    docs: list[dict[str, Any]] = []
    if not (start_from or start_to) and after_start is None:
        undated: dict[str, Any] = {"startTime": None}  # an index equality: the time first, always
        if after_id is not None:
            undated["_id"] = {"$gt": after_id}
        found = contests_of(store.db().contests.find(undated, projection), platform, phase)
        docs += sorted(found, key=lambda d: str(d["_id"]))[:want]
    if len(docs) < want:
        low = max((t for t in (after_start, start_from) if t is not None), default=EPOCH)
        docs += _dated(platform, phase, projection, low, start_to, (after_start, after_id), want - len(docs))
    next_cursor = encode_cursor(docs[limit - 1]) if len(docs) > limit else None
    return docs[:limit], next_cursor


def contests_of(docs: Iterable[dict[str, Any]], platform: str | None, phase: str | None) -> list[dict[str, Any]]:
    """The documents of `platform` in `phase` (either None: any)."""
    return [
        doc
        for doc in docs
        if (platform is None or doc.get("platform") == platform) and (phase is None or doc.get("phase") == phase)
    ]


def _dated(
    platform: str | None,
    phase: str | None,
    projection: dict[str, int],
    low: datetime,
    high: datetime | None,
    after: tuple[datetime | None, ObjectId | None],
    need: int,
) -> list[dict[str, Any]]:
    """The first `need` dated contests from `low` (inclusive) to `high` (exclusive) after the
    cursor's (start, id), read in windows of start time: a window that held few of them is
    followed by a wider one (at most MAX_WINDOW); past HORIZON from now, one window is open to the
    end (what is left there is little). The store gets the time range (with the platform: the
    compound index); the phase is picked here."""
    after_start, after_id = after
    if after_start is not None and after_start.tzinfo is None:
        after_start = after_start.replace(tzinfo=UTC)
    low = low if low.tzinfo else low.replace(tzinfo=UTC)
    horizon = datetime.now(UTC) + HORIZON
    found: list[dict[str, Any]] = []
    width = FIRST_WINDOW if platform is None else FIRST_WINDOW * 3
    contests = store.db().contests
    while len(found) < need:
        if low < FLOOR:
            upper: datetime | None = FLOOR  # before any online contest: one probe, cheap when empty
        elif low >= horizon:
            upper = None
        else:
            upper = min(low + width, horizon)
        if high is not None and (upper is None or upper >= high):
            upper = high
        window: dict[str, Any] = {"$gte": low}
        if upper is not None:
            window["$lt"] = upper
        query = {"startTime": window} if platform is None else {"platform": platform, "startTime": window}
        docs = sorted(contests_of(contests.find(query, projection), None, phase), key=_order)
        if after_start is not None:  # the cursor's own start time: only the ids after it
            docs = [d for d in docs if _order(d) > (after_start, str(after_id))]
        found += docs
        if upper is None or upper == high:
            break
        if low >= FLOOR:
            growth = 4.0 if not docs else min(4.0, max(1.0, (need - len(found)) / len(docs)))
            width = min(MAX_WINDOW, width * growth)
        low = upper
    return found[:need]
