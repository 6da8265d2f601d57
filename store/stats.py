"""A student's statistics, from monthly aggregates kept up to date when submissions are stored.

What the student page shows for a window of the last N days (30, 90 or 365): problems solved
(distinct), the hardest one, the average rating of those solved, problems per day, solved per
100-point rating bucket, submissions and accepted per day (a heatmap), and the rating changes in
the window (from the student's stored contest history). Nothing here calls Codeforces.

The `student_months` collection holds one document per student and month (of the last
`KEEP_DAYS` days): the sorted times of its submissions and of its accepted ones, and one record
(time, problem, rating) per accepted submission of a known problem, each list packed in one binary
value. A window's answer is counted from the few documents of the months it covers (a window
starts at any second: the times make its first and last day exact), whatever the number of
submissions.

`save_submissions` (what a sync calls) marks the months it touches dirty, stores the submissions,
then recomputes those months from the stored submissions of each month: idempotent (a repeated
sync computes the same documents), and a sync interrupted after its write leaves dirty months
that the next sync touching them, or the next read of a window covering them, recomputes.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary
from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

import store
import store.students as students_store

KEEP_DAYS = 366  # the widest window (365 days) and the day it starts in
FIELDS = {"_id": 0, "creationTimeSeconds": 1, "verdict": 1, "problemKey": 1, "problem.name": 1, "problem.rating": 1}


@store.index_maker
def _indexes(database: Database) -> None:
    database.submissions.create_index([("handle", ASCENDING), ("creationTimeSeconds", ASCENDING)])
    database.student_months.create_index([("handle", ASCENDING), ("month", ASCENDING)], unique=True)


def _month(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m")


def _month_bounds(month: str) -> tuple[int, int]:
    """[first second, first second of the next month) of "YYYY-MM"."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def _kept_from(now: datetime) -> str:
    """The first month the aggregates keep."""
    return _month(int((now - timedelta(days=KEEP_DAYS)).timestamp()))


def save_submissions(handle: str, records: list[dict[str, Any]], now: datetime | None = None) -> int:
    """Store a sync's submissions of `handle` and bring the aggregates of the months they fall in
    up to date; returns how many submissions were new."""
    handle = handle.lower()
    kept = _kept_from(now or datetime.now(UTC))
    months = sorted({m for m in (_month(r["creationTimeSeconds"]) for r in records) if m >= kept})
    if months:  # before the write: a sync that stops after it leaves these to be recomputed
        store.db().student_months.bulk_write(
            [_mark_dirty(handle, month) for month in months],
            ordered=False,
        )
    new = students_store.upsert_submissions(records)
    if months:
        refresh(handle, months, now)
    return new


def _mark_dirty(handle: str, month: str) -> UpdateOne:
    return UpdateOne({"handle": handle, "month": month}, {"$set": {"dirty": True}}, upsert=True)


def refresh(handle: str, months: list[str], now: datetime | None = None) -> None:
    """Recompute the aggregates of these months of `handle` from its stored submissions (a month
    with none has no document); months older than KEEP_DAYS are dropped instead."""
    handle = handle.lower()
    kept = _kept_from(now or datetime.now(UTC))
    collection = store.db().student_months
    collection.delete_many({"handle": handle, "month": {"$lt": kept}})
    months = sorted(m for m in set(months) if m >= kept)
    if not months:
        return
    low, high = _month_bounds(months[0])[0], _month_bounds(months[-1])[1]
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in store.db().submissions.find(
        {"handle": handle, "creationTimeSeconds": {"$gte": low, "$lt": high}}, FIELDS
    ):
        by_month[_month(sub["creationTimeSeconds"])].append(sub)
    for month in months:
        subs = by_month.get(month)
        if subs:
            collection.replace_one({"handle": handle, "month": month}, _aggregate(handle, month, subs), upsert=True)
        else:
            collection.delete_one({"handle": handle, "month": month})


OK_RECORD = struct.Struct("<qId")  # an accepted submission: time, index in `keys`, rating (NaN: none)


def _times(values: list[int]) -> bytes:
    return array("q", sorted(values)).tobytes()


def _aggregate(handle: str, month: str, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """One month's document from its submissions: the sorted times of its submissions and of its
    accepted ones, and one record per accepted submission of a known problem (packed binaries:
    the store and the client decode each in one step, whatever their length)."""
    keys: dict[str, int] = {}
    names: list[Any] = []
    solved: list[tuple[int, int, float]] = []
    for sub in subs:
        key = sub.get("problemKey")
        if sub.get("verdict") != "OK" or key is None:
            continue
        problem = sub.get("problem") or {}
        if key not in keys:
            keys[key] = len(names)
            names.append(problem.get("name"))
        rating = problem.get("rating")
        solved.append((sub["creationTimeSeconds"], keys[key], math.nan if rating is None else float(rating)))
    solved.sort()
    return {
        "handle": handle,
        "month": month,
        "submitted": Binary(_times([sub["creationTimeSeconds"] for sub in subs])),
        "accepted": Binary(_times([sub["creationTimeSeconds"] for sub in subs if sub.get("verdict") == "OK"])),
        "keys": list(keys),
        "names": names,
        "solved": Binary(b"".join(OK_RECORD.pack(*record) for record in solved)),
    }


def _in(times: array, low: int, high: int) -> tuple[int, int]:
    """The slice [i, j) of sorted `times` within [low, high]."""
    return bisect_left(times, low), bisect_right(times, high)


def _per_day(times: array, low: int, high: int, counts: dict[int, list[int]], slot: int) -> None:
    i, j = _in(times, low, high)
    for seconds in times[i:j]:
        counts.setdefault(seconds // 86400, [0, 0])[slot] += 1


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def student_stats(
    handle: str, days: int, contest_data: list[dict[str, Any]] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The statistics of `handle` over the last `days` days (`contest_data`: its stored rating
    history), from the aggregates of the months the window covers."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    low, high = int(since.timestamp()), int(now.timestamp())
    key = handle.lower()
    query = {"handle": key, "month": {"$gte": _month(low), "$lte": _month(high)}}
    docs = list(store.db().student_months.find(query, {"_id": 0}))
    dirty = [doc["month"] for doc in docs if doc.get("dirty")]
    if dirty:  # a sync stopped between its write and its aggregates: finish its work
        refresh(key, dirty, now)
        docs = list(store.db().student_months.find(query, {"_id": 0}))
    counts: dict[int, list[int]] = {}
    problems: dict[str, dict[str, Any]] = {}
    for doc in sorted(docs, key=lambda d: d["month"]):
        _per_day(array("q", doc.get("submitted") or b""), low, high, counts, 0)
        _per_day(array("q", doc.get("accepted") or b""), low, high, counts, 1)
        keys, names = doc.get("keys") or [], doc.get("names") or []
        for seconds, index, rating in OK_RECORD.iter_unpack(doc.get("solved") or b""):
            if not low <= seconds <= high:
                continue
            seen = problems.get(keys[index])
            if seen is None:  # records are in time order: the first is when it was solved
                problems[keys[index]] = {"name": names[index], "rating": rating, "solvedAt": seconds}
            elif not math.isnan(rating) and (math.isnan(seen["rating"]) or rating > seen["rating"]):
                seen["rating"] = rating
    heatmap = [
        {"date": datetime.fromtimestamp(day * 86400, tz=UTC).strftime("%Y-%m-%d"), "submissions": n, "accepted": a}
        for day, (n, a) in sorted(counts.items())
    ]
    rated = [(k, p) for k, p in problems.items() if not math.isnan(p["rating"])]
    hardest = min(rated, key=lambda kp: (-kp[1]["rating"], kp[1]["solvedAt"], kp[0]), default=None)
    buckets: dict[int, int] = defaultdict(int)
    for _, problem in rated:
        buckets[int(problem["rating"] // 100 * 100)] += 1
    solved = len(problems)
    average = sum(p["rating"] for _, p in rated) / len(rated) if rated else None
    changes = [
        c
        for c in contest_data or []
        if isinstance(c.get("ratingUpdateTimeSeconds"), int) and c["ratingUpdateTimeSeconds"] >= low
    ]
    return {
        "handle": handle,
        "days": days,
        "from": since,
        "to": now,
        "solved": solved,
        "hardest": None
        if hardest is None
        else {
            "problemKey": hardest[0],
            "name": hardest[1]["name"],
            "rating": _number(hardest[1]["rating"]),
            "solvedAt": datetime.fromtimestamp(hardest[1]["solvedAt"], tz=UTC),
        },
        "averageRating": None if average is None else round(float(average), 1),
        "problemsPerDay": round(solved / days, 3),
        "solvedByRating": [{"rating": rating, "count": count} for rating, count in sorted(buckets.items())],
        "submissions": sum(d["submissions"] for d in heatmap),
        "accepted": sum(d["accepted"] for d in heatmap),
        "heatmap": heatmap,
        "ratingChanges": changes,
        "ratingDelta": sum((c.get("newRating") or 0) - (c.get("oldRating") or 0) for c in changes),
    }
