"""Contest sync tasks: one task per platform, chained into a sequential sync-all.

A platform task never raises for a platform's failure: it returns
`{"synced":0,"updated":0,"failed":1,"error":...}` so the chain goes on to the next
platform (a chain stops at the first task that raises). It raises only when the store
itself is down, after retries, which fails the whole job with that error.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import chain

import store
import store.contests as contests_store
import store.jobs as jobs_store
from adapters import registry
from adapters.errors import SyncError
from adapters.http import make_client
from core.settings import get_settings
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis
from workers import jobs
from workers.base import JobTask, error_message
from workers.celery_app import app

log = logging.getLogger(__name__)


def _counts(synced: int = 0, updated: int = 0, failed: int = 0, error: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"synced": synced, "updated": updated, "failed": failed}
    if error:
        result["error"] = error
    return result


def sync_platform_once(platform: str) -> dict[str, Any]:
    """Fetch, parse and upsert one platform's contests; a platform failure is returned, not raised."""
    settings = get_settings()
    adapter = registry.get(platform)
    # Read what is stored while the platform answers: the fetch is the long wait.
    with ThreadPoolExecutor(1) as pool:
        stored = pool.submit(contests_store.known_hashes, platform)
        try:
            with make_client(settings) as client:
                payload = adapter.fetch(client, settings)
            parsed = adapter.parse(payload)
        except SyncError as exc:
            result = _counts(failed=1, error=str(exc) if exc.service else f"{platform}: {exc}")
            contests_store.record_attempt(platform, result, success=False)
            return result
        except Exception as exc:  # a bug or a surprise in one platform must not stop the others
            log.exception("contest sync of %s failed unexpectedly", platform)
            result = _counts(failed=1, error=f"{platform}: unexpected error: {error_message(exc)}")
            contests_store.record_attempt(platform, result, success=False)
            return result
        hashes = stored.result()  # a store error here is the task's to retry
    outcome = contests_store.upsert_contests(platform, (record.to_doc() for record in parsed.records), hashes)
    failures = list(parsed.failed) + outcome.failed
    result = _counts(outcome.synced, outcome.updated, len(failures))
    result["unchanged"] = outcome.unchanged
    if failures:  # the first 20, each as {"platformId", "reason"}; `failed` keeps the exact count
        result["failures"] = [{"platformId": None if f.get("item") is None else str(f["item"]),
                               "reason": f.get("error") or "no reason given"} for f in failures[:20]]
    contests_store.record_attempt(platform, result, success=True)
    return result


class _PlatformMutex:
    """Two workers never sync the same platform at once: a Redis lock owned by the task id.

    A redelivered task (its previous attempt died holding the lock) has the same id, so it
    takes the lock over at once; any other task waits. The lock expires by itself.
    """

    def __init__(self, platform: str, owner: str, wait: float = 120.0):
        self.key, self.owner, self.wait = f"syncq:running:contests:{platform}", owner, wait

    def __enter__(self) -> bool:
        deadline = time.monotonic() + self.wait
        ttl = get_settings().job_lock_ttl
        while True:
            try:
                client = get_redis()
                if client.set(self.key, self.owner, nx=True, ex=ttl):
                    return True
                if client.get(self.key) == self.owner:
                    client.expire(self.key, ttl)
                    return True
            except REDIS_UNAVAILABLE:
                return True  # no Redis, no lock: the upserts are idempotent anyway
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def __exit__(self, *exc_info) -> None:
        jobs.release_key(self.key, self.owner)


@app.task(name="syncq.contests.sync_platform", base=JobTask, bind=True, job_kind="contests.platform",
          autoretry_for=store.UNAVAILABLE, retry_backoff=2, retry_backoff_max=60, max_retries=4)
def sync_platform(self, platform: str, job_id: str | None = None, step: int | None = None,
                  total: int | None = None) -> dict[str, Any]:
    """Sync one platform. As a step of a sync-all it reports progress; alone it is a whole job."""
    job_id = self.job_id()
    if step is not None:
        jobs_store.set_progress(job_id, step, total or 1, platform)
    if platform not in registry.names():
        result = _counts(failed=1, error=f"unknown platform {platform}")
    else:
        with _PlatformMutex(platform, self.request.id) as held:
            if not held:
                raise self.retry(countdown=30, exc=RuntimeError(f"{platform} is being synced elsewhere"))
            result = sync_platform_once(platform)
    if step is not None:
        job = jobs_store.step_result(job_id, platform, result, step + 1, total or 1)
        jobs.refresh_guard(job.get("guard") if job else None, job_id)
        return result
    return {"message": f"Sync completed for {platform}", "platform": platform, **result}


@app.task(name="syncq.contests.finish_sync_all", base=JobTask, bind=True,
          autoretry_for=store.UNAVAILABLE, retry_backoff=2, max_retries=4)
def finish_sync_all(self, job_id: str, platforms: list[str]) -> dict[str, Any]:
    """Gather the platform results of a sync-all into its documented body."""
    job = jobs_store.get(job_id) or {}
    steps = job.get("steps") or {}
    results = {p: steps.get(p, _counts(failed=1, error=f"{p}: no result recorded")) for p in platforms}
    return {"message": "Sync completed for all platforms", "results": results}


def _sync_all_signature(params: dict[str, Any], job_id: str):
    order = _order()
    steps = [sync_platform.si(p, job_id=job_id, step=i, total=len(order)) for i, p in enumerate(order)]
    return chain(*steps, finish_sync_all.si(job_id=job_id, platforms=order))


def _order() -> list[str]:
    """The configured platform order, limited to registered platforms (others appended)."""
    known = registry.names()
    order = [p for p in get_settings().platform_order if p in known]
    return order + [p for p in known if p not in order]


jobs.register_kind(jobs.JobKind(
    name="contests.sync_all",
    signature=_sync_all_signature,
    task_id_is_job_id=False,
    lock_key=lambda params: "contests.sync_all",
    total=lambda params: len(_order()),
))

jobs.register_kind(jobs.JobKind(
    name="contests.platform",
    signature=lambda params, job_id: sync_platform.si(params["platform"], job_id=job_id),
    lock_key=lambda params: f"contests.platform.{params['platform']}",
))
