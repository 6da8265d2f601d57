"""Student sync: one task per student; the background sync of all is one task (syncs.students_background).

A manual sync deletes the student's three cache keys, fetches `user.info`, `user.rating`
and `user.status` concurrently (through the shared Codeforces rate limit), and writes the
student and its submissions. Scheduled syncs read through the cache. After the first full
fetch, only submissions newer than the newest stored one are fetched.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any


import store
import store.jobs as jobs_store
import store.students as students_store
from adapters import codeforces_users as cfu
from adapters.errors import SyncError
from adapters.http import make_async_client
from store.util import json_safe
from core import signals
from core.settings import get_settings
from syncs import students_background as background
from workers import cache, jobs
from workers.base import JobFailed, JobTask, error_message
from workers.celery_app import app
from adapters.ratelimit import codeforces_limiter

log = logging.getLogger(__name__)


class NoSuchStudent(JobFailed):
    """No student has that handle."""


async def _fetch(handle: str, newest: int | None, use_cache: bool) -> tuple[dict, list, list | None, int]:
    """(info, rating, new submissions or None if cached, bytes fetched); the missing parts concurrently."""
    settings = get_settings()
    limiter = codeforces_limiter()
    info = cache.get("info", handle) if use_cache else None
    rating = cache.get("contest", handle) if use_cache else None
    fresh_marker = cache.get("submissions", handle) if use_cache and newest is not None else None
    async with make_async_client(settings) as client:
        if info is None and rating is None and fresh_marker is None:
            payload = await cfu.fetch_student(client, settings, handle, newest_known=newest,
                                              before_call=limiter.before_call)
            return payload.info, payload.rating, payload.submissions, payload.bytes_fetched
        calls: dict[str, Any] = {}
        if info is None:
            calls["info"] = cfu.api_call_async(client, settings, "user.info", {"handles": handle}, limiter.before_call)
        if rating is None:
            calls["rating"] = cfu.api_call_async(client, settings, "user.rating", {"handle": handle},
                                                 limiter.before_call)
        if fresh_marker is None:
            calls["status"] = cfu.fetch_new_submissions(client, settings, handle, newest or 0,
                                                        before_call=limiter.before_call) \
                if newest is not None else \
                cfu.api_call_async(client, settings, "user.status", {"handle": handle, "from": 1,
                                                                     "count": cfu.MAX_SUBMISSIONS}, limiter.before_call)
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


def sync_one(handle: str, *, use_cache: bool, full: bool) -> dict[str, Any]:
    """Sync one student; returns the updated student document (JSON-safe)."""
    student = students_store.get(handle)
    if student is None:
        message = f"No student with Codeforces handle {handle}"
        raise NoSuchStudent(message, status=404, body={"statusCode": 404, "message": message})
    handle = student["codeforcesHandle"]
    if not use_cache:
        cache.invalidate(handle)  # before anything is fetched: the seed's step 1
    newest = None if full or not student.get("submissions") else students_store.newest_submission_id(handle)
    try:
        info, rating, raw_submissions, spent = asyncio.run(_fetch(handle, newest, use_cache))
        profile = cfu.parse_user_info(info)
    except SyncError as exc:
        message = f"Sync failed: {exc}"
        raise JobFailed(message, status=500, body={"statusCode": 500, "message": message}) from None
    fields: dict[str, Any] = {k: profile.get(k) for k in ("currRating", "rank", "maxRating", "maxRank")}
    fields["profile"] = {k: v for k, v in profile.items() if k not in fields}
    fields["contestData"] = cfu.parse_user_rating(rating)
    if raw_submissions is not None:
        parsed = cfu.parse_submissions(raw_submissions, handle)
        students_store.upsert_submissions(parsed.records)
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
    return public(updated)


def public(student: dict[str, Any] | None) -> dict[str, Any] | None:
    """The student document as the API shows it."""
    if student is None:
        return None
    doc = json_safe(student)
    doc["id"] = doc.pop("_id", None)
    doc.pop("handleLower", None)
    return doc


@app.task(name="syncq.students.sync_student", base=JobTask, bind=True, job_kind="students.sync",
          autoretry_for=store.UNAVAILABLE, retry_backoff=2, retry_backoff_max=60, max_retries=4)
def sync_student(self, handle: str, use_cache: bool = False, full: bool = False, job_id: str | None = None,
                 step: int | None = None, total: int | None = None) -> dict[str, Any]:
    """Sync one student (a whole job), or one student of a background sync (a step)."""
    if step is None:
        return sync_one(handle, use_cache=use_cache, full=full)
    job_id = self.job_id()
    error = None
    try:
        sync_one(handle, use_cache=use_cache, full=full)
    except (JobFailed, SyncError) as exc:
        error = str(exc)
    except store.UNAVAILABLE:
        raise
    except Exception as exc:  # one student's surprise must not stop the others
        log.exception("sync of student %s failed", handle)
        error = f"unexpected error: {error_message(exc)}"
    job = jobs_store.step_done(job_id, handle.lower(), error)
    done = len(job.get("done") or []) if job else 0
    jobs_store.advance(job_id, done, handle)
    expected = ((job or {}).get("progress") or {}).get("total") or total or 0
    # Read after our own write, so the last step always sees every step done; two last steps may
    # both see it and both finish the job, writing the same result.
    if job is not None and done >= expected and not jobs.is_finished(job):
        self.finish_job(job_id, _fan_out_result(job, expected))
    return {"handle": handle, "ok": error is None, "error": error}


def _fan_out_result(job: dict[str, Any], total: int) -> dict[str, Any]:
    failures = {f["name"]: f["error"] for f in job.get("failures") or []}
    failed = [{"handle": name, "error": error} for name, error in sorted(failures.items())]
    return {"message": f"Synced {total - len(failed)} of {total} students", "total": total,
            "synced": total - len(failed), "failed": failed}


@app.task(name="syncq.students.sync_all", base=JobTask, bind=True, job_kind="students.sync_all",
          autoretry_for=store.UNAVAILABLE, retry_backoff=2, max_retries=4)
def sync_all_students(self, job_id: str | None = None) -> dict[str, Any]:
    """The background sync of every student (syncs.students_background); its result ends the job."""
    job_id, me, last = self.job_id(), threading.get_ident(), [0.0]

    # Until the job service (jobs.lifecycle) listens to progress itself: this run's progress,
    # written at most twice a second.
    def on_progress(_sender, done: int, total: int | None, current: str | None) -> None:
        if threading.get_ident() == me and (time.monotonic() - last[0] > 0.5 or done == total):
            last[0] = time.monotonic()
            if done == 0:
                jobs_store.set_total(job_id, total or 0)
            jobs_store.advance(job_id, done, current)

    with signals.progress.connected_to(on_progress):
        return background.sync_all_students()


jobs.register_kind(jobs.JobKind(
    name="students.sync",
    signature=lambda params, job_id: sync_student.si(params["handle"], full=bool(params.get("full")),
                                                     job_id=job_id),
    lock_key=lambda params: f"students.sync.{params['handle'].lower()}",
))

jobs.register_kind(jobs.JobKind(
    name="students.sync_all",
    signature=lambda params, job_id: sync_all_students.si(job_id=job_id),
    lock_key=lambda params: "students.sync_all",
))
