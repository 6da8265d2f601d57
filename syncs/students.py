"""Student sync: one student's Codeforces profile, rating history and submissions.

A manual sync deletes the student's three cache keys, fetches `user.info`, `user.rating`
and `user.status` concurrently (through the shared Codeforces rate limit), and writes the
student and its submissions. Scheduled syncs read through the cache. After the first full
fetch, only submissions newer than the newest stored one are fetched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import store.stats as stats_store
import store.students as students_store
from adapters import codeforces_users as cfu
from adapters.errors import SyncError
from adapters.http import make_async_client
from adapters.ratelimit import codeforces_limiter
from core.settings import get_settings
from jobs import kinds
from store.util import json_safe
from syncs import cache, health, reminders, students_background
from syncs.errors import SyncFailed

log = logging.getLogger(__name__)


async def _fetch(handle: str, newest: int | None, use_cache: bool) -> tuple[Any, Any, list | None, int]:
    """(info, rating, new submissions or None if cached, bytes fetched); the missing parts concurrently."""
    settings = get_settings()
    limiter = codeforces_limiter()
    info = cache.get("info", handle) if use_cache else None
    rating = cache.get("contest", handle) if use_cache else None
    fresh_marker = cache.get("submissions", handle) if use_cache and newest is not None else None
    async with make_async_client(settings) as client:
        if info is None and rating is None and fresh_marker is None:
            payload = await cfu.fetch_student(
                client, settings, handle, newest_known=newest, before_call=limiter.before_call
            )
            return payload.info, payload.rating, payload.submissions, payload.bytes_fetched
        calls: dict[str, Any] = {}
        if info is None:
            calls["info"] = cfu.api_call_async(client, settings, "user.info", {"handles": handle}, limiter.before_call)
        if rating is None:
            calls["rating"] = cfu.api_call_async(
                client, settings, "user.rating", {"handle": handle}, limiter.before_call
            )
        if fresh_marker is None:
            calls["status"] = (
                cfu.fetch_new_submissions(client, settings, handle, newest or 0, before_call=limiter.before_call)
                if newest is not None
                else cfu.api_call_async(
                    client,
                    settings,
                    "user.status",
                    {"handle": handle, "from": 1, "count": cfu.MAX_SUBMISSIONS},
                    limiter.before_call,
                )
            )
        done = dict(zip(calls, await asyncio.gather(*calls.values())))
    spent = 0
    if "info" in done:
        info, spent = done["info"].result[0], spent + done["info"].bytes
    if "rating" in done:
        rating, spent = done["rating"].result, spent + done["rating"].bytes
    submissions = None
    if "status" in done:
        status = done["status"]
        submissions, status_bytes = status if isinstance(status, tuple) else (status.result, status.bytes)
        spent += status_bytes
    return info, rating, submissions, spent


def sync_one(handle: str, *, use_cache: bool, full: bool) -> dict[str, Any] | None:
    """Sync one student; returns the updated student document (JSON-safe), None if it was deleted meanwhile."""
    student = students_store.get(handle)
    if student is None:
        raise SyncFailed(f"No student with Codeforces handle {handle}", code="not_found")
    handle = student["codeforcesHandle"]
    if not use_cache:
        cache.invalidate(handle)  # before anything is fetched: the seed's step 1
    newest = None if full or not student.get("submissions") else students_store.newest_submission_id(handle)
    try:
        info, rating, raw_submissions, spent = asyncio.run(_fetch(handle, newest, use_cache))
        profile = cfu.parse_user_info(info)
    except SyncError as exc:
        raise SyncFailed(f"Sync failed: {exc}") from None
    fields: dict[str, Any] = {k: profile.get(k) for k in ("currRating", "rank", "maxRating", "maxRank")}
    fields["profile"] = {k: v for k, v in profile.items() if k not in fields}
    fields["contestData"] = cfu.parse_user_rating(rating)
    if raw_submissions is not None:
        parsed = cfu.parse_submissions(raw_submissions, handle)
        stats_store.save_submissions(handle, parsed.records)  # and the monthly aggregates of the stats
        previous = None if newest is None else student.get("submissions")
        fields["submissions"] = cfu.merge_summary(previous, parsed.records)
        latest = cfu.last_active_at(parsed.records)
        older = student.get("lastActiveAt") if newest is not None else None
        fields["lastActiveAt"] = max(t for t in (latest, older) if t) if (latest or older) else None
        fields["lastFetchBytes"] = spent
        newest_now = max((r["submissionId"] for r in parsed.records), default=newest)
        cache.put("submissions", handle, {"newest": newest_now, "total": fields["submissions"]["total"]})
    cache.put("info", handle, info)
    cache.put("contest", handle, rating)
    updated = students_store.save_sync(handle, fields)
    if updated is None:
        # Deleted or renamed while this sync ran: nothing of it stays under the old handle.
        students_store.sweep_submissions([handle])
        cache.invalidate(handle)
        raise SyncFailed(
            f"Student {handle} was deleted or renamed while it synced; nothing of this sync was kept",
            code="not_found",
        )
    return public(updated)


def public(student: dict[str, Any] | None) -> dict[str, Any] | None:
    """The student document as the API shows it."""
    if student is None:
        return None
    doc = json_safe(student)
    doc["id"] = doc.pop("_id", None)
    doc.pop("handleLower", None)
    return doc


def sync_all() -> dict[str, Any]:
    """The background sync of every student (syncs.students_background: batched, only what
    changed), then the source's health and the inactivity reminders."""
    started = time.monotonic()
    result = students_background.sync_all_students()
    _record_health(result, time.monotonic() - started)
    result["reminders"] = reminders.after_background_sync()
    return result


def _record_health(result: dict[str, Any], duration_s: float) -> None:
    """One background sync of every student is one run of source `students`: each student's
    account counts as one item, and the run failed when every student failed."""
    failed = result["failed"]
    ok = result["synced"] > 0 or not failed
    health.record_run(
        health.STUDENTS,
        ok=ok,
        items=result["synced"],
        failed_items=len(failed),
        error=None if ok else f"every student failed; first: {failed[0]['handle']}: {failed[0]['error']}",
        interval_s=health.schedule_interval(kinds.STUDENTS_SYNC_ALL),
        duration_s=duration_s,
    )
