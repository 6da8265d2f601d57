"""Contest tasks: one platform's sync (alone, or as a step of a sync-all chain)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from redis.exceptions import LockError

import store
from adapters import registry
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis
from core.settings import get_settings
from syncs import contests
from workers.celery_app import app

_limits = get_settings()
log = logging.getLogger(__name__)
MUTEX_WAIT_S = 120  # how long a run waits for another run of its platform before retrying later


@worker_init.connect
def _report_sources(**_kwargs) -> None:
    # Every source loaded as the worker starts: a plugin that cannot load is logged by name now.
    registry.report_at_start()


@contextmanager
def _platform_mutex(platform: str, owner: str) -> Iterator[bool]:
    """Two workers never sync the same platform at once: a redis-py Lock whose token is the task
    id, so a redelivered task (whose first attempt died holding it) carries on at once."""
    lock = get_redis().lock(
        f"syncq:running:contests:{platform}",
        timeout=_limits.job_lock_ttl,
        blocking_timeout=MUTEX_WAIT_S,
        thread_local=False,
    )
    try:
        if get_redis().get(lock.name) == owner:
            lock.local.token = owner
            held = bool(lock.reacquire())
        else:
            held = lock.acquire(token=owner)
    except REDIS_UNAVAILABLE:
        yield True  # no Redis, no mutex: the upserts are idempotent anyway
        return
    try:
        yield held
    finally:
        if held:
            try:
                lock.do_release(owner)
            except (LockError, *REDIS_UNAVAILABLE):  # expired or Redis gone: it lapses by itself
                log.info("platform mutex of %s already lapsed or unreachable at release", platform)


@app.task(
    name="syncq.contests.sync_platform",
    bind=True,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    soft_time_limit=_limits.contest_time_limit,
    time_limit=_limits.contest_time_limit + 30,
)
def sync_platform(self, platform: str, job_id: str | None = None, step: str | None = None) -> dict[str, Any]:
    """Sync one platform's contests (a platform's failure is in the result, never raised)."""
    with _platform_mutex(platform, self.request.id) as held:
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
