"""History retention: the job history, the events and the webhook delivery log are kept for
`SYNCQ_HISTORY_DAYS` days (0: for ever), pruned once a day by the `prune-history` beat entry.

What the syncs keep as state (contests, students, health, the RAIDA directory) is never pruned;
source runs keep their own window (store.health). Running jobs and pending deliveries are kept
whatever their age.
"""

from __future__ import annotations

from datetime import timedelta

import store.events as events_store
import store.jobs as jobs_store
import store.webhooks as webhooks_store
from core.settings import get_settings
from store.util import iso, utcnow


def prune() -> dict[str, object]:
    """Remove what is older than the retention window; the counts removed and the cut-off."""
    days = get_settings().history_days
    if days <= 0:
        return {"kept": "for ever"}
    before = utcnow() - timedelta(days=days)
    return {
        "before": iso(before),
        "jobs": jobs_store.prune(before),
        "events": events_store.prune(before),
        "webhook_deliveries": webhooks_store.prune(before),
    }
