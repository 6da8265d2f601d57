"""RAIDA task: the network's users, QMail servers and RAIDA status."""

from __future__ import annotations

from typing import Any

import store
from core.settings import get_settings
from syncs import raida
from workers.celery_app import app

_limits = get_settings()


@app.task(
    name="syncq.raida.sync",
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    soft_time_limit=_limits.raida_time_limit,
    time_limit=_limits.raida_time_limit + 30,
)
def sync(job_id: str | None = None) -> dict[str, Any]:
    """Pull users, QMail servers and RAIDA status (fails without quorum or a directory)."""
    return raida.sync_network()
