"""Maintenance tasks run by beat: the daily history pruning, and keeping zoned crons on their
zone's current UTC offset."""

from __future__ import annotations

from typing import Any

import schedules
import store
from jobs import kinds
from syncs import history
from workers.celery_app import app


@app.task(
    name=kinds.PRUNE_TASK,
    ignore_result=True,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def prune() -> dict[str, Any]:
    """Forget jobs, events and webhook deliveries older than `SYNCQ_HISTORY_DAYS`."""
    return history.prune()


@app.task(name=kinds.REFRESH_SCHEDULES_TASK, ignore_result=True, soft_time_limit=60, time_limit=90)
def refresh_schedules() -> list[str]:
    """Re-save the beat entries whose time zone changed its UTC offset (daylight saving), so a running
    beat follows the change within one run of this task; the names re-saved."""
    return schedules.seed(app)
