"""Codeforces student payloads: `user.info`, `user.rating` and `user.status`, seeded per handle."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta
from typing import Any

from syncq.samples.contests import FIXED_NOW

VERDICTS = (
    ["OK"] * 45
    + ["WRONG_ANSWER"] * 30
    + ["TIME_LIMIT_EXCEEDED"] * 10
    + ["RUNTIME_ERROR"] * 5
    + ["COMPILATION_ERROR"] * 4
    + ["MEMORY_LIMIT_EXCEEDED"] * 3
    + ["SKIPPED"]
    + ["CHALLENGED"]
)
LANGUAGES = ["GNU C++20 (64)", "GNU C++17", "Python 3", "PyPy 3-64", "Java 21", "Rust 2021", "Kotlin 1.9"]
TAGS = [
    "implementation",
    "math",
    "greedy",
    "dp",
    "data structures",
    "brute force",
    "constructive algorithms",
    "graphs",
    "sortings",
    "binary search",
    "dfs and similar",
    "trees",
    "strings",
    "number theory",
]
RANKS = [
    (0, "newbie"),
    (1200, "pupil"),
    (1400, "specialist"),
    (1600, "expert"),
    (1900, "candidate master"),
    (2100, "master"),
    (2300, "international master"),
    (2400, "grandmaster"),
    (2600, "international grandmaster"),
    (3000, "legendary grandmaster"),
]
NAMED = {"tourist": 10000, "petr": 6000, "heavy_10k": 10000, "jiangly": 8000, "benq": 5000}


def rank_of(rating: int) -> str:
    """Codeforces' rank title for a rating."""
    return [name for floor, name in RANKS if rating >= floor][-1]


def submission_count(handle: str) -> int | None:
    """How many submissions a simulated handle has; None when no such user exists."""
    key = handle.lower()
    if key in NAMED:
        return NAMED[key]
    if key.startswith("student_") and key[8:].isdigit():
        return 200 + zlib.crc32(key.encode()) % 2800
    if key.startswith("light_") and key[6:].isdigit():  # many small students (load benchmarks)
        return 20 + zlib.crc32(key.encode()) % 30
    return None


def _rng(handle: str, salt: str) -> random.Random:
    return random.Random(zlib.crc32(f"{handle.lower()}:{salt}".encode()))


def user_rating(handle: str, now: datetime = FIXED_NOW) -> list[dict[str, Any]]:
    """The rating changes, oldest first."""
    rng = _rng(handle, "rating")
    contests = 20 + rng.randrange(100)
    rating, changes = 1500 if contests else 0, []
    start = now - timedelta(days=7 * contests + 3)
    for k in range(contests):
        new = max(300, rating + rng.randint(-90, 120))
        changes.append(
            {
                "contestId": 1000 + k * 9,
                "contestName": f"Codeforces Round {600 + k}",
                "handle": handle,
                "rank": rng.randint(1, 20000),
                "ratingUpdateTimeSeconds": int((start + timedelta(days=7 * k)).timestamp()),
                "oldRating": rating if k else 0,
                "newRating": new,
            }
        )
        rating = new
    return changes


def user_info(handle: str, now: datetime = FIXED_NOW) -> dict[str, Any]:
    """One `user.info` result entry."""
    rng = _rng(handle, "info")
    changes = user_rating(handle, now)
    rating = changes[-1]["newRating"] if changes else 0
    best = max((c["newRating"] for c in changes), default=0)
    return {
        "handle": handle,
        "rating": rating,
        "maxRating": best,
        "rank": rank_of(rating),
        "maxRank": rank_of(best),
        "contribution": rng.randint(-10, 120),
        "friendOfCount": rng.randint(0, 5000),
        "lastOnlineTimeSeconds": int(now.timestamp()) - rng.randint(0, 86400),
        "registrationTimeSeconds": int((now - timedelta(days=rng.randint(400, 4000))).timestamp()),
        "avatar": "https://userpic.codeforces.org/no-avatar.jpg",
        "titlePhoto": "https://userpic.codeforces.org/no-title.jpg",
        "country": rng.choice(["India", "China", "Russia", "Poland", "Japan", "Brazil"]),
        "organization": rng.choice(["", "MIT", "ITMO", "Tsinghua", "IIT Bombay"]),
    }


def submission(handle: str, n: int, now: datetime = FIXED_NOW) -> dict[str, Any]:
    """Submission number `n` (1 = oldest) of `handle`; ids grow with n."""
    rng = random.Random(zlib.crc32(f"{handle.lower()}:sub:{n}".encode()))
    contest = 1000 + rng.randrange(1100)
    index = rng.choice("ABCDEFG")
    created = int(now.timestamp()) - (200000 - n) * 600 - rng.randrange(600)
    verdict = rng.choice(VERDICTS) if n % 997 else None  # a rare one still in the queue
    problem = {
        "contestId": contest,
        "index": index,
        "name": f"Problem {contest}{index}",
        "type": "PROGRAMMING",
        "rating": rng.choice([800, 1000, 1200, 1500, 1800, 2100, 2400]),
        "tags": rng.sample(TAGS, rng.randint(1, 3)),
    }
    item = {
        "id": 200000000 + zlib.crc32(handle.lower().encode()) % 1000 * 100000 + n,
        "contestId": contest,
        "creationTimeSeconds": created,
        "relativeTimeSeconds": 2147483647,
        "problem": problem,
        "author": {
            "contestId": contest,
            "members": [{"handle": handle}],
            "participantType": "PRACTICE",
            "ghost": False,
            "startTimeSeconds": created - 3600,
        },
        "programmingLanguage": rng.choice(LANGUAGES),
        "testset": "TESTS",
        "passedTestCount": rng.randint(0, 80),
        "timeConsumedMillis": rng.randint(15, 2000),
        "memoryConsumedBytes": rng.randint(0, 256) * 1024 * 1024,
    }
    if verdict is not None:
        item["verdict"] = verdict
    return item


def user_status(
    handle: str, total: int, start: int = 1, count: int | None = None, now: datetime = FIXED_NOW
) -> list[dict[str, Any]]:
    """`user.status` newest first: items `start`..`start+count-1` (1-based) of `total`."""
    count = total if count is None else count
    first = total - (start - 1)
    last = max(0, first - count)
    return [submission(handle, n, now) for n in range(first, last, -1)]
