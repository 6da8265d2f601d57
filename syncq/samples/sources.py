"""Contest payloads of the aggregator clist.by (v4) and of Judgeville, the made-up site of the example plugin.

Everything is seeded: the same `now` gives the same bytes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The resources clist.by lists here: those syncq imports by default, and the four it reads itself.
CLIST_RESOURCES = {
    "topcoder.com": (12, "TCO Algorithm Round", 5400),
    "hackerrank.com": (63, "HackerRank Week of Code", 7 * 86400),
    "hackerearth.com": (73, "HackerEarth Monthly Circuits", 10 * 86400),
    "geeksforgeeks.org": (126, "GFG Weekly Coding Contest", 5400),
    "yukicoder.me": (65, "yukicoder contest", 7200),
    "dmoj.ca": (77, "DMOJ Monthly", 10800),
    "open.kattis.com": (100, "Kattis Challenge", 18000),
    "toph.co": (110, "Toph Criterion", 10800),
    "luogu.com.cn": (163, "Luogu Monthly", 14400),
    "ac.nowcoder.com": (108, "NowCoder Weekly", 7200),
    "codeforces.com": (1, "Codeforces Round (via clist)", 7200),
    "atcoder.jp": (93, "AtCoder Beginner Contest (via clist)", 6000),
}


def _naive(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def clist_contests(now: datetime = FIXED_NOW) -> list[dict[str, Any]]:
    """clist.by v4 contest objects: per resource, three finished in the last weeks, one running or
    about to start, and three upcoming; sorted by start."""
    rng = random.Random(7)
    objects = []
    for host, (resource_id, title, duration) in CLIST_RESOURCES.items():
        for n in range(7):
            start = (now + timedelta(days=(n - 3) * 6 + rng.random() * 2)).replace(minute=0, second=0, microsecond=0)
            end = start + timedelta(seconds=duration)
            finished = end <= now
            objects.append(
                {
                    "duration": duration,
                    "end": _naive(end),
                    "event": f"{title} {100 + n}",
                    "host": host,
                    "href": f"https://{host}/contest/{resource_id}-{100 + n}",
                    "id": 60_000_000 + resource_id * 100 + n,
                    "n_problems": 5 if finished else None,
                    "n_statistics": 120 + n if finished else None,
                    "parsed_at": _naive(end + timedelta(hours=1)) + ".123456" if finished else None,
                    "problems": None,
                    "resource": host,
                    "resource_id": resource_id,
                    "start": _naive(start),
                }
            )
    return sorted(objects, key=lambda item: (item["start"], item["id"]))


JUDGEVILLE_ZONE = ZoneInfo("Europe/Berlin")


def judgeville_contests(now: datetime = FIXED_NOW) -> dict[str, Any]:
    """Judgeville's `GET /api/contests.json`: naive local (Berlin) start times, lengths in minutes,
    no end; one contest renamed (it names its former slug)."""
    items = []
    for n in range(8):
        start = (
            (now + timedelta(days=(n - 4) * 7))
            .astimezone(JUDGEVILLE_ZONE)
            .replace(hour=18, minute=0, second=0, microsecond=0)
        )
        slug = f"jv-cup-{40 + n}"
        item: dict[str, Any] = {
            "slug": slug,
            "name": f"Judgeville Cup #{40 + n}",
            "starts": start.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M"),
            "length_minutes": 150 if n % 2 else 120,
            "link": f"https://judgeville.example/contests/{slug}",
            "rated": n % 3 != 0,
        }
        if n == 6:
            item["slug"], item["renamed_from"] = "jv-cup-46-final", slug
            item["link"] = "https://judgeville.example/contests/jv-cup-46-final"
        items.append(item)
    return {"site": "Judgeville", "contests": items}
