"""The record types adapters parse outside payloads into."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

PHASES = ("UPCOMING", "RUNNING", "FINISHED")


def phase_at(start: datetime | None, end: datetime | None, now: datetime) -> str:
    """UPCOMING / RUNNING / FINISHED from a contest's times, for platforms that give no phase."""
    if start is None or start > now:
        return "UPCOMING"
    if end is not None and end <= now:
        return "FINISHED"
    return "RUNNING"


def utc_from_epoch(seconds: int | float) -> datetime:
    """An aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class Contest:
    """One contest of one platform, in syncq's common shape (times are aware UTC)."""

    platform: str
    platformId: str
    name: str
    type: str | None
    phase: str
    rawPhase: str | None
    startTime: datetime | None
    endTime: datetime | None
    durationSeconds: int | None
    url: str
    raw: dict[str, Any] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        """The fields as a MongoDB document body (no `_id`, no bookkeeping)."""
        # A shallow copy: `asdict` deep-copies `raw`, which costs more than the rest of a sync.
        doc = {name: getattr(self, name) for name in _CONTEST_FIELDS}
        doc["raw"] = dict(self.raw)
        return doc


_CONTEST_FIELDS = tuple(f.name for f in fields(Contest))


@dataclass
class ParseResult:
    """What `parse` made of a payload: the good records and one entry per item it had to skip."""

    records: list[Any] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    # Items kept but worth a look (a RAIDA user of an unknown class): `{"item", "error"}` like `failed`.
    flagged: list[dict[str, Any]] = field(default_factory=list)
    # How many of `records` come from the part of the listing every sync fetches whole (None: all
    # of them). An adapter that pages only until the stored contests fetches less on purpose once
    # it has them; source health compares this count between syncs, not the records fetched.
    comparable: int | None = None
    # False when the listing is known to be partial (a fallback query, paging that stopped early):
    # a contest missing from it is never taken for cancelled.
    complete: bool = True
    # New key -> old key, for contests the source says were renamed (the stored one is moved).
    renamed: dict[str, str] = field(default_factory=dict)

    def skip(self, item: Any, reason: str) -> None:
        """Count `item` as failed with `reason` (kept short: it ends up in job results)."""
        ident = None
        if isinstance(item, dict):
            for key in ("id", "key", "contest_code", "titleSlug", "code", "server_id"):
                if key in item:
                    ident = item[key]
                    break
            names = [item[k] for k in ("contest_name", "title", "name") if isinstance(item.get(k), str)]
            if ident is None and names:  # no id to tell which item it was: its name tells
                reason = f"{reason} (item named {names[0][:60]!r})"
        self.failed.append({"item": ident, "error": reason})
