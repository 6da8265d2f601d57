"""What a contest sync checks after each run: the platform's health, and contests it stopped listing.

A contest that was upcoming and is missing from its platform's complete list in two successful
syncs in a row that looked right (health `ok`; a degraded sync neither counts nor resets) is marked
CANCELLED, kept and never deleted; it comes back, with its listed phase, once the platform lists it
again. Both announce events: `contest.cancelled` and `contest.restored`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import store.contests as contests_store
from core import signals
from jobs import kinds
from store.util import utcnow
from syncs import health

SCHEDULE_KIND = kinds.CONTESTS_SYNC_ALL


def failed(platform: str, error: str, started: float) -> dict[str, Any]:
    """Record a failed sync of `platform` (`started`: its `time.monotonic()` start)."""
    return health.record_run(
        platform,
        ok=False,
        error=error,
        interval_s=health.schedule_interval(SCHEDULE_KIND),
        duration_s=time.monotonic() - started,
    )


def succeeded(
    platform: str,
    records: Iterable[Any],
    failed_items: int,
    started: float,
    complete: bool = True,
    stored: Mapping[str, dict[str, Any]] | None = None,
    comparable: int | None = None,
) -> dict[str, Any]:
    """Record a successful sync of `platform` that listed `records` (written already) and could not
    parse or store `failed_items`; then settle cancellations. `complete`: False when the list is
    known to be partial (a fallback query), which never counts as a miss. `stored`: the platform's
    contests as read before the sync wrote (`store.contests.watched`), so they are not read again.
    `comparable`: how many of `records` come from the part of the listing every sync fetches whole
    (`ParseResult.comparable`; None: all of them), which health compares from sync to sync.
    Returns what to add to the sync's result (`cancelled`, `restored` counts when there are any)."""
    records = list(records)
    listed = {record.platformId for record in records}
    checked = health.record_run(
        platform,
        ok=True,
        items=len(records),
        failed_items=failed_items,
        upcoming=sum(1 for record in records if record.phase == "UPCOMING"),
        comparable=comparable,
        interval_s=health.schedule_interval(SCHEDULE_KIND),
        duration_s=time.monotonic() - started,
    )
    restored = contests_store.clear_missing(platform, listed, stored)
    cancelled = (
        contests_store.count_missing_upcoming(platform, listed, stored=stored)
        if checked["health"] == health.OK and complete
        else []
    )
    now = utcnow()
    for type_, ids in (("contest.cancelled", cancelled), ("contest.restored", restored)):
        for platform_id in ids:
            signals.emit(type_, {"platform": platform, "platformId": platform_id, "at": now})
    return {key: len(ids) for key, ids in (("cancelled", cancelled), ("restored", restored)) if ids}
