"""What a worker process reports besides its tasks' results: the event log, and task retries."""

from __future__ import annotations

from typing import Any

from celery.signals import task_retry

import syncs.events  # noqa: F401  (connects the event log in the worker process)
from core import metrics


@task_retry.connect
def _count_retry(sender: Any = None, **_kwargs: Any) -> None:
    metrics.TASK_RETRIES.labels(getattr(sender, "name", None) or "unknown").inc()
