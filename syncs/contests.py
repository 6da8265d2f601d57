"""Contest sync: one platform's contests fetched, parsed, checked and upserted.

Every source goes through the same steps: its `fetch` (the only I/O), its pure `parse`, then the
contract's shared checks (`adapters.source.finish`: zones, ends, impossible dates, bad keys, keys
listed twice), renamed contests moved to their new keys, and the upsert.

A platform's failure is returned, never raised (`{"synced":0,"updated":0,"failed":1,"error":...}`),
so a sync-all goes on to the next platform; only the store being down raises (the task retries).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

import store.contests as contests_store
from adapters import ratelimit, registry, source
from adapters.errors import SyncError
from adapters.http import make_client
from core.settings import get_settings
from syncs import announce, contest_checks

log = logging.getLogger(__name__)
MAX_FAILURES_SHOWN = 20


def counts(synced: int = 0, updated: int = 0, failed: int = 0, error: str | None = None) -> dict[str, Any]:
    """A platform's result: new, updated and failed items (and why it failed, if it did)."""
    result: dict[str, Any] = {"synced": synced, "updated": updated, "failed": failed}
    if error:
        result["error"] = error
    return result


def _limited(platform: str, declared: source.Source) -> dict[str, Any]:
    """A plugin's declared rate limit, kept for it across every worker: each request it sends
    waits for its slot. (Built-in sources and clist.by keep their own limits.)"""
    if not declared.rate_per_minute or not registry.is_plugin(platform):
        return {}
    limiter = ratelimit.source_limiter(platform, declared.rate_per_minute)
    return {"event_hooks": {"request": [lambda request: limiter.acquire()]}}


def sync_platform(platform: str) -> dict[str, Any]:
    """Fetch, parse and upsert one platform's contests; a platform failure is returned, not raised."""
    if platform not in registry.names():
        return counts(failed=1, error=f"unknown platform {platform}")
    settings = get_settings()
    adapter = registry.get(platform)
    declared = registry.declaration(adapter)
    started = time.monotonic()
    # Read what is stored while the platform answers: the fetch is the long wait.
    with ThreadPoolExecutor(1) as pool:
        stored = pool.submit(contests_store.known_hashes, platform)
        before = pool.submit(announce.contest_snapshot, platform)
        # A paging adapter stops where the stored contests begin, so it needs them before fetching.
        known = {"known": stored.result().keys()} if declared.wants_known else {}
        try:
            with make_client(settings, **_limited(platform, declared)) as client:
                payload = adapter.fetch(client, settings, **known)
            parsed = source.finish(declared, adapter.parse(payload))
        except SyncError as exc:
            result = counts(failed=1, error=str(exc) if exc.service else f"{platform}: {exc}")
            contests_store.record_attempt(platform, result, success=False)
            contest_checks.failed(platform, result["error"], started)
            return result
        except SoftTimeLimitExceeded:
            raise  # the run is being stopped: the task reports it
        except Exception as exc:  # a bug or a surprise in one platform must not stop the others
            log.exception("contest sync of %s failed unexpectedly", platform)
            name = type(exc).__name__
            result = counts(
                failed=1,
                error=f"{platform}: unexpected error: {name}: {exc}"
                if str(exc)
                else f"{platform}: unexpected error: {name}",
            )
            contests_store.record_attempt(platform, result, success=False)
            contest_checks.failed(platform, result["error"], started)
            return result
        hashes = stored.result()  # a store error here is the task's to retry
        snapshot = before.result()
    if parsed.renamed:
        contests_store.rename_contests(platform, parsed.renamed, hashes, snapshot)
    outcome = contests_store.upsert_contests(platform, (record.to_doc() for record in parsed.records), hashes)
    announce.announce_contests(platform, snapshot, parsed.records)
    failures = list(parsed.failed) + outcome.failed
    result = counts(outcome.synced, outcome.updated, len(failures))
    result["unchanged"] = outcome.unchanged
    if failures:  # the first ones, each as {"platformId", "reason"}; `failed` keeps the exact count
        result["failures"] = [
            {
                "platformId": None if f.get("item") is None else str(f["item"]),
                "reason": f.get("error") or "no reason given",
            }
            for f in failures[:MAX_FAILURES_SHOWN]
        ]
    result.update(
        contest_checks.succeeded(
            platform,
            parsed.records,
            len(failures),
            started,
            complete=parsed.complete,
            stored=snapshot,
            comparable=parsed.comparable,
        )
    )
    contests_store.record_attempt(platform, result, success=True)
    return result
