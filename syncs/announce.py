"""What the syncs announce through `core.signals.emit`: contests created, changed or cancelled,
and the RAIDA network losing its quorum.

A contest sync reads `contest_snapshot(platform)` before it writes and calls
`announce_contests(platform, snapshot, records)` after:
- `contest.created`: a contest not stored before that has not finished (a platform's first
  sync does not announce years of past contests);
- `contest.updated`: its start time, duration or phase changed (a cancelled contest listed
  again changes phase too).
`contest.cancelled` is announced by syncs.contest_checks, which decides cancellations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import store.contests as contests_store
import store.raida as raida_store
from core.signals import emit
from store.util import iso, json_safe, utcnow

WATCHED = ("startTime", "durationSeconds", "phase")
CONTEST_FIELDS = ("platform", "platformId", "name", "type", "phase", "startTime", "endTime", "durationSeconds", "url")


def contest_data(doc: dict[str, Any]) -> dict[str, Any]:
    """A contest as events carry it."""
    return json_safe({k: doc.get(k) for k in CONTEST_FIELDS})


def contest_snapshot(platform: str) -> dict[str, dict[str, Any]]:
    """The stored contests of `platform`, to compare a sync's records with."""
    return contests_store.watched(platform)


def _same(a: Any, b: Any) -> bool:
    if a == b:  # most fields of most contests: no formatting needed
        return True
    if isinstance(a, datetime) and isinstance(b, datetime):
        return iso(a) == iso(b)  # the store keeps milliseconds (and may give a naive time)
    return False


def announce_contests(platform: str, before: dict[str, dict[str, Any]], records: Iterable[Any]) -> dict[str, int]:
    """Emit the contest events of one sync of `platform`; how many of each."""
    fresh: dict[str, dict[str, Any]] = {}
    for record in records:
        doc = record.to_doc() if hasattr(record, "to_doc") else record
        fresh.setdefault(doc["platformId"], {**doc, "platform": platform})
    counts = {"created": 0, "updated": 0}
    for platform_id, doc in fresh.items():
        old = before.get(platform_id)
        if old is None:
            if doc.get("phase") != "FINISHED":
                emit("contest.created", contest_data(doc))
                counts["created"] += 1
            continue
        changes = {
            field: {"from": json_safe(old.get(field)), "to": json_safe(doc.get(field))}
            for field in WATCHED
            if not _same(old.get(field), doc.get(field))
        }
        if changes:
            emit("contest.updated", {**contest_data(doc), "changes": changes})
            counts["updated"] += 1
    return counts


def announce_quorum(ready: int, needed: int, count: int) -> bool:
    """Record whether the RAIDA network has its quorum; emit `raida.quorum_lost` when it had it
    (or nothing was recorded yet) and has it no more. True when the event was emitted."""
    ok = ready >= needed
    if raida_store.quorum_changed(ok) and not ok:
        emit("raida.quorum_lost", {"ready": ready, "needed": needed, "count": count, "at": iso(utcnow())})
        return True
    return False
