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

import json
import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
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


OK_RECORD = struct.Struct("<qId")  # an accepted submission: time, index in `problems`, rating (NaN: none)
DAY = struct.Struct("<qii")
EPOCH_DAY = date(1970, 1, 1)  # a day: its number since the epoch, submissions, accepted


def _times(values: list[int]) -> bytes:
    return array("q", sorted(values)).tobytes()


def _aggregate(handle: str, month: str, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """One month's document from its submissions, each list packed in one value (the store and the
    client then decode a month in one step, whatever its length):

    - `days`: per day, its submissions and accepted ones (a window covers most days whole);
    - `submitted`, `accepted`: the sorted times, for the days a window cuts;
    - `solved`: one (time, problem, rating) record per accepted submission of a known problem, in
      time order, for the month a window cuts; `firsts`: per problem, its first such record with
      the month's highest rating, for a month the window covers whole;
    - `problems`: the problems' keys and names (JSON)."""
    keys: dict[str, int] = {}
    problems: list[list[Any]] = []
    solved: list[tuple[int, int, float]] = []
    days: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sub in subs:
        seconds = sub["creationTimeSeconds"]
        ok = sub.get("verdict") == "OK"
        days[seconds // 86400][0] += 1
        days[seconds // 86400][1] += ok
        key = sub.get("problemKey")
        if not ok or key is None:
            continue
        problem = sub.get("problem") or {}
        if key not in keys:
            keys[key] = len(problems)
            problems.append([key, problem.get("name")])
        rating = problem.get("rating")
        solved.append((seconds, keys[key], math.nan if rating is None else float(rating)))
    solved.sort()
    firsts: dict[int, list[Any]] = {}
    for seconds, index, rating in solved:
        first = firsts.setdefault(index, [seconds, index, rating])
        if not math.isnan(rating) and (math.isnan(first[2]) or rating > first[2]):
            first[2] = rating
    return {
        "handle": handle,
        "month": month,
        "days": Binary(b"".join(DAY.pack(day, n, a) for day, (n, a) in sorted(days.items()))),
        "submitted": Binary(_times([sub["creationTimeSeconds"] for sub in subs])),
        "accepted": Binary(_times([sub["creationTimeSeconds"] for sub in subs if sub.get("verdict") == "OK"])),
        "solved": Binary(b"".join(OK_RECORD.pack(*record) for record in solved)),
        "firsts": Binary(b"".join(OK_RECORD.pack(*first) for first in sorted(firsts.values()))),
        "problems": json.dumps(problems),
    }


def _count(times: array, low: int, high: int) -> int:
    """How many of sorted `times` lie within [low, high]."""
    return bisect_right(times, high) - bisect_left(times, low)


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _month_in_window(doc: dict[str, Any], low: int, high: int) -> tuple[dict[int, list[int]], list[tuple]]:
    """One month's days (number -> [submissions, accepted]) and accepted records within [low, high]."""
    first, end = _month_bounds(doc["month"])
    days: dict[int, list[int]] = {}
    times: tuple[array, array] | None = None
    for day, n, a in DAY.iter_unpack(doc.get("days") or b""):
        start = day * 86400
        if low <= start and start + 86399 <= high:
            days[day] = [n, a]
        elif start + 86399 >= low and start <= high:  # a day the window cuts: count its times
            if times is None:
                times = (array("q", doc.get("submitted") or b""), array("q", doc.get("accepted") or b""))
            submitted, accepted = times
            lo, hi = max(start, low), min(start + 86399, high)
            n = _count(submitted, lo, hi)
            if n:
                days[day] = [n, _count(accepted, lo, hi)]
    whole = low <= first and end - 1 <= high
    records = OK_RECORD.iter_unpack(doc.get("firsts" if whole else "solved") or b"")
    return days, [r for r in records if whole or low <= r[0] <= high]


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
    # problem key -> [first solved (seconds), highest rating (NaN: none), name]; a NaN is never
    # equal to itself, so `rating == rating` reads "has a rating".
    problems: dict[str, list[Any]] = {}
    for doc in sorted(docs, key=lambda d: d["month"]):
        month_days, records = _month_in_window(doc, low, high)
        counts.update(month_days)
        listed = json.loads(doc.get("problems") or "[]")
        for seconds, index, rating in records:
            problem_key = listed[index][0]
            seen = problems.get(problem_key)
            if seen is None:  # months and records in time order: the first is when it was solved
                problems[problem_key] = [seconds, rating, listed[index][1]]
            elif rating == rating and not seen[1] >= rating:
                seen[1] = rating
    heatmap = [
        {"date": (EPOCH_DAY + timedelta(days=day)).isoformat(), "submissions": n, "accepted": a}
        for day, (n, a) in sorted(counts.items())
    ]
    rated = [(rating, k, solved_at) for k, (solved_at, rating, _) in problems.items() if rating == rating]
    hardest = min(rated, key=lambda r: (-r[0], r[2], r[1]), default=None)
    buckets: dict[int, int] = defaultdict(int)
    for rating, _, _ in rated:
        buckets[int(rating // 100 * 100)] += 1
    solved = len(problems)
    average = sum(r[0] for r in rated) / len(rated) if rated else None
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
            "problemKey": hardest[1],
            "name": problems[hardest[1]][2],
            "rating": _number(hardest[0]),
            "solvedAt": datetime.fromtimestamp(hardest[2], tz=UTC),
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
