"""RAIDA task: the network's users, QMail servers and RAIDA status."""

from __future__ import annotations

from typing import Any

import store
from core.settings import get_settings
from jobs import kinds
from syncs import raida
from workers.celery_app import app

_limits = get_settings()
KIND = kinds.get(kinds.RAIDA_SYNC)


@app.task(
    name=KIND.task,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    **KIND.limits.task_options(_limits),
)
def sync(job_id: str | None = None) -> dict[str, Any]:
    """Pull users, QMail servers and RAIDA status (fails without quorum or a directory)."""
    return raida.sync_network()
