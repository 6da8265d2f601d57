"""Simulated Codeforces activity between two background syncs: "rounds" of a day's life.

Each round (`POST /_sim/codeforces/round`) makes a fraction of all simulated students active
(online now, with a few new submissions); with `rated_contest`, a contest finishes in it (in
`contest.list`, phase FINISHED) and half of the active students of the population take part,
their rating moving (in `user.info`, `user.rating` and `contest.ratingChanges`). Which student
is active in which round is a hash of handle and round, so any of thousands of handles answers
consistently without being stored. `missing` handles answer "not found", as a renamed or
deleted account does.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

FIRST_CONTEST_ID = 9000


@dataclass
class Round:
    number: int
    at: int
    fraction: float
    submissions: int
    contest_id: int | None
    population: list[str] = field(default_factory=list)


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


class Rounds:
    """The rounds so far and the missing handles (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.rounds: list[Round] = []
            self.missing: set[str] = set()

    def advance(
        self, fraction: float, submissions: int = 3, rated_contest: bool = False, population: list[str] | None = None
    ) -> dict[str, Any]:
        """One more round; `population` is who may take part in its contest."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        with self.lock:
            number = len(self.rounds) + 1
            contest = FIRST_CONTEST_ID + number if rated_contest else None
            self.rounds.append(
                Round(
                    number,
                    int(time.time()),
                    fraction,
                    max(0, int(submissions)),
                    contest,
                    [h.lower() for h in population or []],
                )
            )
        return {"round": number, "contestId": contest}

    def active(self, handle: str, r: Round) -> bool:
        return _hash(f"{handle.lower()}:round{r.number}") % 10000 < r.fraction * 10000

    def takes_part(self, handle: str, r: Round) -> bool:
        return (
            r.contest_id is not None
            and self.active(handle, r)
            and handle.lower() in r.population
            and _hash(f"{handle.lower()}:contest{r.number}") % 2 == 0
        )

    def extra_submissions(self, handle: str) -> int:
        with self.lock:
            return sum(r.submissions for r in self.rounds if self.active(handle, r))

    def last_online(self, handle: str) -> int | None:
        with self.lock:
            return max((r.at for r in self.rounds if self.active(handle, r)), default=None)

    def changes(self, handle: str, rating: int, name_of=lambda cid: f"Codeforces Round {cid}") -> list[dict[str, Any]]:
        """The rating changes the rounds' contests add after `rating`, oldest first."""
        out = []
        with self.lock:
            for r in self.rounds:
                if self.takes_part(handle, r):
                    new = max(300, rating + _hash(f"{handle.lower()}:delta{r.number}") % 161 - 60)
                    out.append(
                        {
                            "contestId": r.contest_id,
                            "contestName": name_of(r.contest_id),
                            "handle": handle,
                            "rank": 1 + _hash(f"{handle.lower()}:rank{r.number}") % 20000,
                            "ratingUpdateTimeSeconds": r.at,
                            "oldRating": rating,
                            "newRating": new,
                        }
                    )
                    rating = new
        return out

    def contests(self) -> list[dict[str, Any]]:
        """The rounds' contests as `contest.list` entries (newest first), finished a minute ago."""
        with self.lock:
            return [
                {
                    "id": r.contest_id,
                    "name": f"Codeforces Round {r.contest_id} (Div. 2)",
                    "type": "CF",
                    "phase": "FINISHED",
                    "frozen": False,
                    "durationSeconds": 7200,
                    "startTimeSeconds": r.at - 7260,
                    "relativeTimeSeconds": 7260,
                }
                for r in reversed(self.rounds)
                if r.contest_id is not None
            ]

    def round_of(self, contest_id: int) -> Round | None:
        with self.lock:
            return next((r for r in self.rounds if r.contest_id == contest_id), None)
