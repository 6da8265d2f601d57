"""Contest tasks: one platform's sync (alone, or as a step of a sync-all chain)."""

from __future__ import annotations

from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init

import store
from adapters import registry
from core.settings import get_settings
from jobs import guards, kinds
from syncs import contests
from workers.celery_app import app

_limits = get_settings()
KIND = kinds.get(kinds.CONTESTS_PLATFORM)
MUTEX_WAIT_S = 120  # how long a run waits for another run of its platform before retrying later


@worker_init.connect
def _report_sources(**_kwargs) -> None:
    # Every source loaded as the worker starts: a plugin that cannot load is logged by name now.
    registry.report_at_start()


@app.task(
    name=KIND.task,
    bind=True,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    **KIND.limits.task_options(_limits),
)
def sync_platform(self, platform: str, job_id: str | None = None, step: str | None = None) -> dict[str, Any]:
    """Sync one platform's contests (a platform's failure is in the result, never raised)."""
    # Two workers never sync one platform at once, whichever job (or Flower) started each run.
    with guards.hold(kinds.platform_guard(platform), self.request.id, MUTEX_WAIT_S) as held:
        if not held and self.request.retries < self.max_retries:
            raise self.retry(countdown=30, exc=RuntimeError(f"{platform} is being synced elsewhere"))
        if not held:
            # Even then a sync-all goes on to the next platform: this one is reported, not raised.
            result = contests.counts(
                failed=1,
                error=f"{platform}: still being synced elsewhere after {self.max_retries + 1} tries; skipped this time",
            )
        else:
            try:
                result = contests.sync_platform(platform)
            except SoftTimeLimitExceeded:
                # One stuck platform never holds a sync-all: it is reported, and the next one runs.
                result = contests.counts(
                    failed=1,
                    error=f"{platform}: stopped after its time limit of "
                    f"{_limits.contest_time_limit} s (SYNCQ_CONTEST_TIME_LIMIT)",
                )
    if step is None:  # a whole job answers with its own message
        return {"message": f"Sync completed for {platform}", "platform": platform, **result}
    return result
