"""A student's statistics, from monthly aggregates kept up to date when submissions are stored.

What the student page shows for a window of the last N days (30, 90 or 365): problems solved
(distinct), the hardest one, the average rating of those solved, problems per day, solved per
100-point rating bucket, submissions and accepted per day (a heatmap), and the rating changes in
the window (from the student's stored contest history). Nothing here calls Codeforces.

The `student_months` collection holds one document per student and month (of the last
`KEEP_DAYS` days): per day its submissions and accepted ones, the sorted times of both, each
problem accepted with its first acceptance and highest rating, and every accepted submission of a
known problem; each list is packed in one binary value (`_aggregate`). A window's answer is counted
from the few documents of the months it covers, mostly by C loops over those values (a window
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
from collections import Counter, defaultdict
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
    # `marks` counts the syncs that touched the month: a recomputation replaces only the document
    # whose count it read first, so a sync marking the month meanwhile keeps it dirty (for itself).
    return UpdateOne({"handle": handle, "month": month}, {"$set": {"dirty": True}, "$inc": {"marks": 1}}, upsert=True)


def _stored(handle: str, low: int, high: int) -> dict[str, list[dict[str, Any]]]:
    """The stored submissions of `handle` within [low, high), by month."""
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in store.db().submissions.find(
        {"handle": handle, "creationTimeSeconds": {"$gte": low, "$lt": high}}, FIELDS
    ):
        by_month[_month(sub["creationTimeSeconds"])].append(sub)
    return by_month


def refresh(handle: str, months: list[str], now: datetime | None = None) -> None:
    """Recompute the aggregates of these months of `handle` from its stored submissions (a month
    with none has no document); months older than KEEP_DAYS are dropped instead. A month another
    sync marked while this ran is left dirty: that sync, or the next read, recomputes it."""
    handle = handle.lower()
    kept = _kept_from(now or datetime.now(UTC))
    collection = store.db().student_months
    collection.delete_many({"handle": handle, "month": {"$lt": kept}})
    months = sorted(m for m in set(months) if m >= kept)
    if not months:
        return
    marks = {
        doc["month"]: doc.get("marks")
        for doc in collection.find({"handle": handle, "month": {"$in": months}}, {"_id": 0, "month": 1, "marks": 1})
    }
    by_month = _stored(handle, _month_bounds(months[0])[0], _month_bounds(months[-1])[1])
    for month in months:
        seen = {"handle": handle, "month": month, "marks": marks.get(month)}
        subs = by_month.get(month)
        if subs:
            doc = {**_aggregate(handle, month, subs), "marks": marks.get(month)}
            collection.replace_one(seen, doc)  # no upsert: a month nobody marked has nothing new
        else:
            collection.delete_one(seen)


FORMAT = 2  # the month documents' layout: a document of another one is recomputed when read
NONE = -math.inf  # the rating of a problem that has none (lower than every rating)
DAY = struct.Struct("<qii")
EPOCH_DAY = date(1970, 1, 1)  # a day: its number since the epoch, submissions, accepted


def _packed(typecode: str, values: Any) -> Binary:
    return Binary(array(typecode, values).tobytes())


def _rating(value: Any) -> float:
    """A problem's rating as a number, NONE for anything else a source may send (text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return NONE
    return float(value)


def _aggregate(handle: str, month: str, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """One month's document from its submissions, each list packed in one value (the store and the
    reader then decode a month in one step, whatever its length; a reader counts with C loops):

    - `days`: per day, its submissions and accepted ones (a window covers most days whole);
    - `submitted`, `accepted`: the sorted times, for the days a window cuts;
    - `keys`, `names` (JSON): the problems accepted, in the order first accepted; `firstTimes`,
      `firstRatings`: each one's first acceptance and highest rating, for a month a window covers
      whole;
    - `solvedTimes`, `solvedProblems`, `solvedRatings`: every accepted submission of a known
      problem in time order (its time, its problem's place in `keys`, its rating), for a month a
      window cuts."""
    days: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    accepted: list[tuple[int, str, float, Any]] = []
    for sub in subs:
        seconds = sub["creationTimeSeconds"]
        ok = sub.get("verdict") == "OK"
        days[seconds // 86400][0] += 1
        days[seconds // 86400][1] += ok
        key = sub.get("problemKey")
        if ok and key is not None:
            problem = sub.get("problem") or {}
            accepted.append((seconds, key, _rating(problem.get("rating")), problem.get("name")))
    accepted.sort(key=lambda record: record[:2])
    places: dict[str, int] = {}
    names: list[Any] = []
    firsts: list[list[float]] = []  # per problem: [first time, highest rating]
    for seconds, key, rating, name in accepted:
        if key not in places:
            places[key] = len(names)
            names.append(name)
            firsts.append([seconds, rating])
        elif rating > firsts[places[key]][1]:
            firsts[places[key]][1] = rating
    return {
        "handle": handle,
        "month": month,
        "format": FORMAT,
        "days": Binary(b"".join(DAY.pack(day, n, a) for day, (n, a) in sorted(days.items()))),
        "submitted": _packed("q", sorted(sub["creationTimeSeconds"] for sub in subs)),
        "accepted": _packed("q", sorted(sub["creationTimeSeconds"] for sub in subs if sub.get("verdict") == "OK")),
        "keys": json.dumps(list(places)),
        "names": json.dumps(names),
        "firstTimes": _packed("q", (int(first[0]) for first in firsts)),
        "firstRatings": _packed("d", (first[1] for first in firsts)),
        "solvedTimes": _packed("q", (record[0] for record in accepted)),
        "solvedProblems": _packed("i", (places[record[1]] for record in accepted)),
        "solvedRatings": _packed("d", (record[2] for record in accepted)),
    }


def _count(times: array, low: int, high: int) -> int:
    """How many of sorted `times` lie within [low, high]."""
    return bisect_right(times, high) - bisect_left(times, low)


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _count_days(doc: dict[str, Any], low: int, high: int, counts: dict[int, list[int]]) -> None:
    """Add one month's days within [low, high] to `counts` (day number -> [submissions, accepted])."""
    times: tuple[array, array] | None = None
    for day, n, a in DAY.iter_unpack(doc["days"]):
        start = day * 86400
        if low <= start and start + 86399 <= high:
            counts[day] = [n, a]
        elif start + 86399 >= low and start <= high:  # a day the window cuts: count its times
            if times is None:
                times = (array("q", doc["submitted"]), array("q", doc["accepted"]))
            submitted, accepted = times
            lo, hi = max(start, low), min(start + 86399, high)
            n = _count(submitted, lo, hi)
            if n:
                counts[day] = [n, _count(accepted, lo, hi)]


def _months(handle: str, low: int, high: int, now: datetime) -> list[dict[str, Any]]:
    """The month documents of `handle` that [low, high] covers, in month order; a month a stopped
    sync left dirty, or of an older layout, is recomputed first. A month a running sync marked
    meanwhile, before its first aggregates, is left out (as if that sync had not written yet)."""
    query = {"handle": handle, "month": {"$gte": _month(low), "$lte": _month(high)}}
    fields = {"_id": 0}
    docs = list(store.db().student_months.find(query, fields))
    stale = [doc["month"] for doc in docs if doc.get("dirty") or doc.get("format") != FORMAT]
    if stale:  # a sync stopped between its write and its aggregates: finish its work
        refresh(handle, stale, now)
        docs = list(store.db().student_months.find(query, fields))
    return sorted((doc for doc in docs if doc.get("format") == FORMAT), key=lambda doc: doc["month"])


class _Accepted:
    """The accepted submissions a window takes, in time order: from a month it covers whole, each
    problem's first one (with the month's highest rating); from a month it cuts, each one within."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.times = array("q")
        self.ratings = array("d")
        # per month: where its share starts in `keys`, and its places in the month's own `keys`
        # (None: all of them, in order)
        self.shares: list[tuple[int, dict[str, Any], array | None]] = []

    def add(self, doc: dict[str, Any], low: int, high: int) -> None:
        first, end = _month_bounds(doc["month"])
        listed = json.loads(doc["keys"])
        if low <= first and end - 1 <= high:
            self.shares.append((len(self.keys), doc, None))
            self.keys.extend(listed)
            self.times.frombytes(doc["firstTimes"])
            self.ratings.frombytes(doc["firstRatings"])
            return
        times = array("q", doc["solvedTimes"])
        i, j = bisect_left(times, low), bisect_right(times, high)
        places = array("i", doc["solvedProblems"])[i:j]
        self.shares.append((len(self.keys), doc, places))
        self.keys.extend(map(listed.__getitem__, places))
        self.times.extend(times[i:j])
        self.ratings.extend(array("d", doc["solvedRatings"])[i:j])

    def highest_ratings(self) -> dict[str, float]:
        """Each problem's highest rating (NONE: it has none)."""
        best = dict(zip(self.keys, self.ratings))
        if len(best) < len(self.keys):  # a problem accepted in more than one month
            for key, rating in zip(self.keys, self.ratings):
                if rating > best[key]:
                    best[key] = rating
        return best

    def name(self, position: int) -> Any:
        """The name of the problem at `position`, as its month's document lists it."""
        start, doc, places = self.shares[bisect_right([share[0] for share in self.shares], position) - 1]
        place = position - start if places is None else places[position - start]
        return json.loads(doc["names"])[place]


def student_stats(
    handle: str, days: int, contest_data: list[dict[str, Any]] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The statistics of `handle` over the last `days` days (`contest_data`: its stored rating
    history), from the aggregates of the months the window covers."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    low, high = int(since.timestamp()), int(now.timestamp())
    key = handle.lower()
    counts: dict[int, list[int]] = {}
    accepted = _Accepted()
    for doc in _months(key, low, high, now):
        _count_days(doc, low, high, counts)
        accepted.add(doc, low, high)
    best = accepted.highest_ratings()
    by_rating = Counter(best.values())
    unrated = by_rating.pop(NONE, 0)
    hardest = None
    if by_rating:
        top = max(by_rating)
        keys, times = accepted.keys, accepted.times
        # `keys` is in time order: the first place of a problem rated `top` is the earliest one
        # solved, and a problem solved in the same second ties (the smaller key wins)
        position = next(i for i, k in enumerate(keys) if best[k] == top)
        tied = range(position, bisect_right(times, times[position]))
        position = min((i for i in tied if best[keys[i]] == top), key=keys.__getitem__)
        hardest = {
            "problemKey": keys[position],
            "name": accepted.name(position),
            "rating": _number(top),
            "solvedAt": datetime.fromtimestamp(times[position], tz=UTC),
        }
    buckets: dict[int, int] = defaultdict(int)
    for rating, n in by_rating.items():
        buckets[int(rating // 100 * 100)] += n
    rated = len(best) - unrated
    heatmap = [
        {"date": (EPOCH_DAY + timedelta(days=day)).isoformat(), "submissions": n, "accepted": a}
        for day, (n, a) in sorted(counts.items())
    ]
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
        "solved": len(best),
        "hardest": hardest,
        "averageRating": round(sum(r * n for r, n in by_rating.items()) / rated, 1) if rated else None,
        "problemsPerDay": round(len(best) / days, 3),
        "solvedByRating": [{"rating": rating, "count": count} for rating, count in sorted(buckets.items())],
        "submissions": sum(n for n, _ in counts.values()),
        "accepted": sum(a for _, a in counts.values()),
        "heatmap": heatmap,
        "ratingChanges": changes,
        "ratingDelta": sum((c.get("newRating") or 0) - (c.get("oldRating") or 0) for c in changes),
    }
