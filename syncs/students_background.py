"""The background sync of every student within Codeforces' rate limit: batched `user.info`, one
`contest.ratingChanges` per finished rated contest, and per-student calls only for students that
changed. How it decides is in the README ("Job kinds", the background student sync).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

import store.stats as stats_store
import store.student_sync as sync_store
import store.students as students_store
from adapters import codeforces_users as cfu
from adapters.errors import SyncError
from adapters.http import make_async_client
from adapters.ratelimit import codeforces_limiter
from core.settings import Settings, get_settings
from core.signals import report_progress
from store.util import utcnow

log = logging.getLogger(__name__)
WRITE_CHUNK = 500
PROFILE_FIELDS = ("currRating", "rank", "maxRating", "maxRank")


def sync_all_students(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    before_call: cfu.BeforeCall | None = None,
) -> dict[str, Any]:
    """Run one background sync of every student; returns the job's result.

    `before_call` defaults to the shared Codeforces limit as a background caller; `transport`
    lets a test count calls at the HTTP layer."""
    settings = settings or get_settings()
    if before_call is None:
        before_call = codeforces_limiter(background=True).before_call
    return asyncio.run(_Run(settings, before_call).run(transport))


def _epoch(value: Any) -> float | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class _Run:
    """One background sync: its counters, its limit on calls in flight, and its writes."""

    def __init__(self, settings: Settings, before_call: cfu.BeforeCall):
        self.settings = settings
        self.before_call = before_call
        self.calls: Counter[str] = Counter()
        self.gate = asyncio.Semaphore(settings.cf_background_concurrency)
        self.started = utcnow()
        self.updates: list[tuple[str, dict[str, Any]]] = []
        self.checked: list[str] = []
        self.unchanged = 0
        self.changed = 0
        self.not_found: list[str] = []
        self.failed: list[dict[str, str]] = []
        self.done = 0
        self.total = 0
        self.skipped_not_found: list[str] = []

    async def counted(self, method: str):
        """The limiter's hook, counting every call (and every retry) by method."""
        self.calls[method] += 1
        return await self.before_call(method) if self.before_call is not None else None

    async def run(self, transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
        async with make_async_client(self.settings, transport=transport) as client:
            self.client = client
            contests, contests_ok = await self.apply_contests()
            students = students_store.background_candidates()
            self.skipped_not_found = students_store.not_found_handles()
            self.total = len(students)
            report_progress(0, self.total, None)
            by_lower = {s["handleLower"]: s for s in students}
            base = len(f"{self.settings.codeforces_url}/api/user.info?handles=")
            batches = cfu.handle_batches(
                [s["codeforcesHandle"] for s in students],
                self.settings.cf_batch_handles,
                self.settings.cf_batch_url_bytes,
                base,
            )
            await asyncio.gather(*(self.sync_batch(batch, by_lower) for batch in batches))
            await self.flush(force=True)
        students_store.mark_not_found(self.not_found, self.started)
        if contests_ok:
            sync_store.set_last_background_sync(self.started)
        return self.result(contests)

    # --- step 1: rated contests ------------------------------------------------------------
    async def apply_contests(self) -> tuple[list[dict[str, Any]], bool]:
        """Apply every rated contest that finished since the last background sync."""
        last = sync_store.last_background_sync()
        if last is None:  # the first run: every student is compared in full, nothing to catch up
            return [], True
        applied: list[dict[str, Any]] = []
        wait = self.settings.cf_rating_wait_days * 86400
        now = int(self.started.timestamp())
        try:
            async with self.gate:
                listed = await cfu.fetch_contest_list(self.client, self.settings, self.counted)
            # Ratings come out hours after a contest ends: one ended shortly before the last run
            # and not rated then is asked again, for up to SYNCQ_CF_RATING_WAIT_DAYS.
            since = _epoch(last)
            assert since is not None  # `last` is a datetime (the store keeps one), so it has an epoch
            finished = cfu.finished_between(listed, int(since) - wait, now)
            known = await asyncio.to_thread(sync_store.applied_contests, [c["contestId"] for c in finished])
            for contest in (c for c in finished if c["contestId"] not in known):
                cid = contest["contestId"]
                async with self.gate:
                    changes = await cfu.fetch_rating_changes(self.client, self.settings, cid, self.counted)
                if changes:
                    parsed = cfu.parse_rating_changes(changes)
                    tracked = await asyncio.to_thread(students_store.apply_rating_changes, cid, parsed)
                    sync_store.record_contest(cid, rated=True, participants=len(parsed), tracked=len(tracked))
                    applied.append({"contestId": cid, "participants": len(parsed), "tracked": len(tracked)})
                elif contest["endSeconds"] <= now - wait:
                    sync_store.record_contest(cid, rated=False, participants=0, tracked=0)
        except SyncError as exc:
            # Students still sync: a rating that moved is then caught by `user.rating`.
            log.warning("background sync: rated contests not applied: %s", exc)
            self.failed.append({"handle": "(contests)", "error": str(exc)})
            return applied, False
        return applied, True

    # --- steps 2 and 3: batched user.info, then only what changed -----------------------------
    async def sync_batch(self, batch: list[str], by_lower: dict[str, dict[str, Any]]) -> None:
        try:
            async with self.gate:
                infos, missing = await cfu.fetch_user_infos(self.client, self.settings, batch, self.counted)
        except SyncError as exc:
            self.failed.extend({"handle": h, "error": f"user.info: {exc}"} for h in batch)
            self.progress(len(batch), batch[-1])
            return
        self.not_found.extend(missing)
        self.progress(len(missing), missing[-1] if missing else None)
        await asyncio.gather(*(self.sync_student(by_lower[h], info) for h, info in infos.items()))

    async def sync_student(self, student: dict[str, Any], info: dict[str, Any]) -> None:
        handle = student["codeforcesHandle"]
        try:
            fields, changed = await self.student_fields(student, info)
        except (SyncError, ValueError) as exc:
            self.failed.append({"handle": handle, "error": str(exc)})
        else:
            if changed:
                self.changed += 1
            else:
                self.unchanged += 1
            if fields is None:
                self.checked.append(handle)
            else:
                self.updates.append((handle, fields))
            await self.flush()
        self.progress(1, handle)

    async def student_fields(self, student: dict[str, Any], info: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        """(the fields to write for one student or None, whether it needed calls), making only
        the calls its `user.info` entry shows are needed."""
        handle = student["codeforcesHandle"]
        profile = cfu.parse_user_info(info)
        fields: dict[str, Any] = {k: profile.get(k) for k in PROFILE_FIELDS}
        fields["profile"] = {k: v for k, v in profile.items() if k not in PROFILE_FIELDS}
        never = student.get("submissions") is None
        seen_online = _epoch((student.get("profile") or {}).get("lastOnlineAt"))
        online = info.get("lastOnlineTimeSeconds")
        active = never or seen_online is None or (isinstance(online, int) and online > seen_online)
        rating_moved = never or profile.get("currRating") != student.get("currRating")
        if not active and not rating_moved:
            # No call needed; the profile is written only if something in it moved (contribution...).
            same = (
                all(student.get(k) == fields[k] for k in PROFILE_FIELDS)
                and (student.get("profile") or {}) == fields["profile"]
            )
            return (None if same else fields), False
        calls = {}
        if rating_moved:
            calls["rating"] = self.call(
                cfu.api_call_async(self.client, self.settings, "user.rating", {"handle": handle}, self.counted)
            )
        if active:
            calls["status"] = self.new_submissions(student)
        done = dict(zip(calls, await asyncio.gather(*calls.values())))
        if "rating" in done:
            if not isinstance(done["rating"].result, list):
                raise ValueError("user.rating result is not a list")
            fields["contestData"] = cfu.parse_user_rating(done["rating"].result)
        if "status" in done:
            fields.update(done["status"])
        return fields, True

    async def call(self, coroutine):
        async with self.gate:
            return await coroutine

    async def new_submissions(self, student: dict[str, Any]) -> dict[str, Any]:
        """Fetch the submissions newer than the stored ones, store them, and return the summary fields."""
        handle = student["codeforcesHandle"]
        newest = (
            None
            if student.get("submissions") is None
            else await asyncio.to_thread(students_store.newest_submission_id, handle)
        )
        async with self.gate:
            if newest is None:
                fetched = await cfu.api_call_async(
                    self.client,
                    self.settings,
                    "user.status",
                    {"handle": handle, "from": 1, "count": cfu.MAX_SUBMISSIONS},
                    self.counted,
                )
                raw, spent = fetched.result, fetched.bytes
                if not isinstance(raw, list):
                    raise ValueError("user.status result is not a list")
            else:
                raw, spent = await cfu.fetch_new_submissions(
                    self.client, self.settings, handle, newest, before_call=self.counted
                )
        records = cfu.parse_submissions(raw, handle).records
        if not records:
            return {"lastFetchBytes": spent}
        await asyncio.to_thread(stats_store.save_submissions, handle, records)  # with the stats' aggregates
        previous = None
        if newest is not None:
            previous = (await asyncio.to_thread(students_store.get, handle) or {}).get("submissions")
        latest, older = cfu.last_active_at(records), student.get("lastActiveAt") if newest is not None else None
        return {
            "submissions": cfu.merge_summary(previous, records),
            "lastFetchBytes": spent,
            "lastActiveAt": max(t for t in (latest, older) if t) if (latest or older) else None,
        }

    # --- bookkeeping ---------------------------------------------------------------------------
    def progress(self, n: int, current: str | None) -> None:
        self.done += n
        report_progress(self.done, self.total, current)

    async def flush(self, force: bool = False) -> None:
        """Write what is pending in chunks (all of it when `force`), off the event loop: a loop
        held by a store write would leave granted rate-limit slots unused, then send in a burst."""
        if self.updates and (force or len(self.updates) >= WRITE_CHUNK):
            updates, self.updates = self.updates, []
            await asyncio.to_thread(students_store.save_background, updates, self.started)
        if self.checked and (force or len(self.checked) >= WRITE_CHUNK):
            checked, self.checked = self.checked, []
            await asyncio.to_thread(students_store.mark_checked, checked, self.started)

    def result(self, contests: list[dict[str, Any]]) -> dict[str, Any]:
        failed = sorted(self.failed, key=lambda f: f["handle"])
        student_failures = [f for f in failed if f["handle"] != "(contests)"]
        synced = self.changed + self.unchanged
        calls = dict(sorted(self.calls.items()))
        return {
            "message": f"Synced {synced} of {self.total} students: {self.changed} changed, "
            f"{self.unchanged} unchanged, {len(self.not_found)} not found, "
            f"{len(student_failures)} failed",
            "total": self.total,
            "synced": synced,
            "changed": self.changed,
            "skippedUnchanged": self.unchanged,
            "notFound": sorted(self.not_found),
            "skippedNotFound": self.skipped_not_found,
            "failed": failed,
            "contestsApplied": contests,
            "calls": calls,
            "callsTotal": sum(calls.values()),
            "callsPerStudent": round(sum(calls.values()) / self.total, 4) if self.total else 0.0,
        }
