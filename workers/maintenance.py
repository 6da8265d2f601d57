"""Maintenance tasks run by beat: the daily history pruning."""

from __future__ import annotations

from typing import Any

import store
from syncs import history
from workers.celery_app import app


@app.task(name="syncq.maintenance.prune", ignore_result=True, autoretry_for=store.UNAVAILABLE,
          retry_backoff=30, max_retries=3, soft_time_limit=600, time_limit=660)
def prune() -> dict[str, Any]:
    """Forget jobs, events and webhook deliveries older than `SYNCQ_HISTORY_DAYS`."""
    return history.prune()
