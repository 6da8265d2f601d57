"""The reference for a student's statistics: the aggregation over every stored submission that the
stats route ran before it read monthly aggregates (store.stats). Tests only: the aggregates must
answer exactly what this answers, for every window.

Originally: a student's statistics, computed by MongoDB aggregations over the `submissions` collection.

What the seed system showed on its student page, for a window of the last N days: problems
solved (distinct), the hardest one, the average rating of those solved, problems per day,
solved per 100-point rating bucket, submissions and accepted per day (a heatmap), and the
rating changes in the window (from the student's stored contest history). Nothing here calls
Codeforces.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import store


def _solved_facets() -> dict[str, list[dict[str, Any]]]:
    # One group per problem solved in the window (its rating and first accepted time), then:
    solved = [
        {"$match": {"verdict": "OK", "problemKey": {"$ne": None}}},
        {
            "$group": {
                "_id": "$problemKey",
                "name": {"$first": "$problem.name"},
                "rating": {"$max": "$problem.rating"},
                "solvedAt": {"$min": "$creationTime"},
            }
        },
    ]
    return {
        "totals": solved + [{"$group": {"_id": None, "solved": {"$sum": 1}, "averageRating": {"$avg": "$rating"}}}],
        "hardest": solved
        + [{"$match": {"rating": {"$ne": None}}}, {"$sort": {"rating": -1, "solvedAt": 1}}, {"$limit": 1}],
        "buckets": solved
        + [
            {"$match": {"rating": {"$ne": None}}},
            {"$group": {"_id": {"$multiply": [{"$floor": {"$divide": ["$rating", 100]}}, 100]}, "count": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
        ],
        "days": [
            {
                "$group": {
                    "_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$creationTime"}},
                    "submissions": {"$sum": 1},
                    "accepted": {"$sum": {"$cond": [{"$eq": ["$verdict", "OK"]}, 1, 0]}},
                }
            },
            {"$sort": {"_id": 1}},
        ],
    }


def reference_stats(
    handle: str, days: int, contest_data: list[dict[str, Any]] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The statistics of `handle` over the last `days` days (`contest_data`: its stored rating history)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    pipeline = [
        {
            "$match": {
                "handle": handle.lower(),
                "creationTimeSeconds": {"$gte": int(since.timestamp()), "$lte": int(now.timestamp())},
            }
        },
        {"$facet": _solved_facets()},
    ]
    facets = next(store.db().submissions.aggregate(pipeline), {})
    totals = (facets.get("totals") or [{}])[0]
    hardest = (facets.get("hardest") or [None])[0]
    heatmap = [
        {"date": d["_id"], "submissions": d["submissions"], "accepted": d["accepted"]} for d in facets.get("days") or []
    ]
    solved = int(totals.get("solved") or 0)
    average = totals.get("averageRating")
    cutoff = int(since.timestamp())
    changes = [
        c
        for c in contest_data or []
        if isinstance(c.get("ratingUpdateTimeSeconds"), int) and c["ratingUpdateTimeSeconds"] >= cutoff
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
            "problemKey": hardest["_id"],
            "name": hardest.get("name"),
            "rating": hardest["rating"],
            "solvedAt": hardest["solvedAt"],
        },
        "averageRating": None if average is None else round(float(average), 1),
        "problemsPerDay": round(solved / days, 3),
        "solvedByRating": [{"rating": int(b["_id"]), "count": b["count"]} for b in facets.get("buckets") or []],
        "submissions": sum(d["submissions"] for d in heatmap),
        "accepted": sum(d["accepted"] for d in heatmap),
        "heatmap": heatmap,
        "ratingChanges": changes,
        "ratingDelta": sum((c.get("newRating") or 0) - (c.get("oldRating") or 0) for c in changes),
    }
