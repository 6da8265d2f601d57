"""Codeforces student calls: `user.info`, `user.rating`, `user.status`, and their parsers; for the
background sync also `user.info` over batches of handles (`fetch_user_infos`, which sets aside a
handle Codeforces does not know), `contest.list` and `contest.ratingChanges`.

`fetch_student` puts the three calls in flight together; `fetch_new_submissions` pages
`user.status` from the newest submission with a growing page size until it meets one
already stored, so an unchanged student costs a few KB. Every call reads the shared
Codeforces envelope (`adapters.codeforces.read_envelope`) under the shared retry policy.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import quote

import httpx

from adapters.codeforces import READ_STATUSES, SERVICE, ChallengeError, gave_up, read_envelope
from adapters.errors import ParseError, PermanentError
from adapters.http import AtSend, async_call_with_retry, send_async
from adapters.records import ParseResult, utc_from_epoch
from core.settings import Settings

# Awaited before every attempt (a shared rate limit waits for the call's turn there); it may
# return a hook to run right before the request is written (where the limit logs the call).
BeforeCall = Callable[[str], Awaitable[AtSend | None]] | None
MAX_SUBMISSIONS = 10000


@dataclass
class Fetched:
    """One API call's result and the bytes it cost."""

    result: Any
    bytes: int


async def api_call_async(
    client: httpx.AsyncClient, settings: Settings, method: str, params: dict[str, Any], before_call: BeforeCall = None
) -> Fetched:
    """GET `/api/<method>` (async) under the retry policy; `before_call` runs before every attempt
    and the hook it returns, if any, right before that attempt's request is written."""
    url = f"{settings.codeforces_url}/api/{method}"

    async def once() -> Fetched:
        at_send = await before_call(method) if before_call is not None else None  # retries pay too
        response = await send_async(
            client, "GET", url, service=SERVICE, params=params, allow=READ_STATUSES, at_send=at_send
        )
        return Fetched(read_envelope(response), len(response.content))

    try:
        return await async_call_with_retry(once, settings)
    except ChallengeError as exc:
        raise gave_up(exc, settings) from exc


@dataclass
class StudentPayload:
    """Raw results of one student's calls: info, rating changes, submissions (newest first)."""

    info: dict[str, Any]
    rating: list[dict[str, Any]]
    submissions: list[dict[str, Any]]
    complete: bool
    bytes_fetched: int


async def fetch_student(
    client: httpx.AsyncClient,
    settings: Settings,
    handle: str,
    *,
    newest_known: int | None = None,
    before_call: BeforeCall = None,
    first_page: int = 50,
) -> StudentPayload:
    """info, rating and submissions with the three calls in flight together.

    With `newest_known` (the newest stored submission id) only newer submissions are
    fetched (incremental); without it, the newest 10,000.
    """
    info_call = api_call_async(client, settings, "user.info", {"handles": handle}, before_call)
    rating_call = api_call_async(client, settings, "user.rating", {"handle": handle}, before_call)
    status_call: Awaitable[Fetched | tuple[list[dict[str, Any]], int]]
    if newest_known is None:
        status_call = api_call_async(
            client, settings, "user.status", {"handle": handle, "from": 1, "count": MAX_SUBMISSIONS}, before_call
        )
    else:
        status_call = fetch_new_submissions(
            client, settings, handle, newest_known, first_page=first_page, before_call=before_call
        )
    info, rating, status = await asyncio.gather(info_call, rating_call, status_call)
    if not isinstance(info.result, list) or not info.result or not isinstance(info.result[0], dict):
        raise ParseError("user.info result is not a list with one user", service=SERVICE)
    if isinstance(status, Fetched):
        submissions, status_bytes = status.result, status.bytes
    else:  # fetch_new_submissions's (submissions, bytes); gather's typing loses which of the two it is
        submissions, status_bytes = cast("tuple[list[dict[str, Any]], int]", status)
    if not isinstance(rating.result, list) or not isinstance(submissions, list):
        raise ParseError("user.rating or user.status result is not a list", service=SERVICE)
    return StudentPayload(
        info.result[0], rating.result, submissions, newest_known is None, info.bytes + rating.bytes + status_bytes
    )


async def fetch_new_submissions(
    client: httpx.AsyncClient,
    settings: Settings,
    handle: str,
    newest_known: int,
    *,
    first_page: int = 50,
    growth: int = 4,
    max_count: int = MAX_SUBMISSIONS,
    before_call: BeforeCall = None,
) -> tuple[list[dict[str, Any]], int]:
    """Submissions newer than `newest_known`, newest first, and the bytes fetched."""
    new: list[dict[str, Any]] = []
    seen: set[Any] = set()  # the ids as listed: a malformed item's may be missing or not an int
    start, count, total_bytes = 1, first_page, 0
    while start <= max_count:
        page = await api_call_async(
            client, settings, "user.status", {"handle": handle, "from": start, "count": count}, before_call
        )
        total_bytes += page.bytes
        if not isinstance(page.result, list):
            raise ParseError("user.status result is not a list", service=SERVICE)
        reached = False
        for item in page.result:
            sid = item.get("id") if isinstance(item, dict) else None
            if isinstance(sid, int) and sid <= newest_known:
                reached = True
                break
            if sid not in seen:  # a submission made while paging shifts pages: count it once
                seen.add(sid)
                new.append(item)
        if reached or len(page.result) < count:
            break
        start += count
        count = min(count * growth, max_count)
    return new, total_bytes


# --- pure parsers -----------------------------------------------------------------------------


def parse_user_info(info: dict[str, Any]) -> dict[str, Any]:
    """The student fields from a `user.info` entry (unrated users have no rating: None)."""
    if not isinstance(info, dict) or not isinstance(info.get("handle"), str):
        raise ParseError("user.info entry has no handle", service=SERVICE)
    keep = (
        "handle",
        "contribution",
        "avatar",
        "titlePhoto",
        "country",
        "city",
        "organization",
        "firstName",
        "lastName",
        "friendOfCount",
    )
    out = {k: info[k] for k in keep if k in info}
    for key in ("avatar", "titlePhoto"):  # Codeforces gives protocol-relative URLs: //userpic...
        if isinstance(out.get(key), str) and out[key].startswith("//"):
            out[key] = "https:" + out[key]
    out.update(
        currRating=info.get("rating"),
        rank=info.get("rank", "unrated"),
        maxRating=info.get("maxRating"),
        maxRank=info.get("maxRank", "unrated"),
    )
    if isinstance(info.get("lastOnlineTimeSeconds"), int):
        out["lastOnlineAt"] = utc_from_epoch(info["lastOnlineTimeSeconds"])
    return out


def parse_user_rating(changes: list[Any]) -> list[dict[str, Any]]:
    """The rating changes, oldest first, with the fields the student document keeps."""
    keys = ("contestId", "contestName", "rank", "oldRating", "newRating", "ratingUpdateTimeSeconds")
    return [{k: change.get(k) for k in keys} for change in changes if isinstance(change, dict)]


def parse_submission(item: Any, handle: str) -> dict[str, Any]:
    """One `user.status` entry as a submission record (ValueError when malformed)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise ValueError("submission without an id")
    created = item.get("creationTimeSeconds")
    if not isinstance(created, int) or created <= 0:
        raise ValueError(f"submission {item.get('id')} has no creation time")
    problem = item.get("problem")
    if not isinstance(problem, dict):
        problem = {}
    key = f"{problem.get('contestId', '')}{problem.get('index', '')}" or None
    return {
        "handle": handle.lower(),
        "submissionId": item["id"],
        "contestId": item.get("contestId"),
        "problem": {k: problem.get(k) for k in ("contestId", "index", "name", "rating", "tags")},
        "problemKey": key,
        "verdict": item.get("verdict"),
        "programmingLanguage": item.get("programmingLanguage"),
        "creationTimeSeconds": created,
        "creationTime": utc_from_epoch(created),
        "passedTestCount": item.get("passedTestCount"),
        "timeConsumedMillis": item.get("timeConsumedMillis"),
        "memoryConsumedBytes": item.get("memoryConsumedBytes"),
    }


def parse_submissions(items: list[Any], handle: str) -> ParseResult:
    """Submission records; malformed entries are counted, not fatal."""
    result = ParseResult()
    for item in items:
        try:
            result.records.append(parse_submission(item, handle))
        except ValueError as exc:
            result.skip(item, str(exc))
    return result


def last_active_at(submissions: list[dict[str, Any]]) -> datetime | None:
    """Time of the newest submission with verdict OK, or None."""
    times = [s["creationTime"] for s in submissions if s.get("verdict") == "OK"]
    return max(times) if times else None


def compact(submission: dict[str, Any]) -> dict[str, Any]:
    """A small view of a submission for the student document's `last50`."""
    return {
        "submissionId": submission["submissionId"],
        "problemKey": submission["problemKey"],
        "name": submission["problem"].get("name"),
        "verdict": submission["verdict"],
        "creationTime": submission["creationTime"],
    }


def summarize_submissions(submissions: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by verdict, solved problems and the 50 newest, for the student document."""
    ordered = sorted(submissions, key=lambda s: s["submissionId"], reverse=True)
    solved = sorted({s["problemKey"] for s in ordered if s.get("verdict") == "OK" and s.get("problemKey")})
    verdicts = Counter(s.get("verdict") or "IN_QUEUE" for s in ordered)
    return {
        "total": len(ordered),
        "byVerdict": dict(verdicts),
        "solvedCount": len(solved),
        "solved": solved,
        "last50": [compact(s) for s in ordered[:50]],
    }


def merge_summary(old: dict[str, Any] | None, new: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary after adding `new` submissions (all newer than any in `old`) to it."""
    if not old:
        return summarize_submissions(new)
    fresh = summarize_submissions(new)
    verdicts = Counter(old.get("byVerdict") or {})
    verdicts.update(fresh["byVerdict"])
    solved = sorted(set(old.get("solved") or []) | set(fresh["solved"]))
    return {
        "total": (old.get("total") or 0) + fresh["total"],
        "byVerdict": dict(verdicts),
        "solvedCount": len(solved),
        "solved": solved,
        "last50": (fresh["last50"] + list(old.get("last50") or []))[:50],
    }


# --- background sync: batched user.info, contests' rating changes ------------------------------

NOT_FOUND = re.compile(r"User with handle (\S+) not found", re.IGNORECASE)
UNRATED = "rating changes are unavailable"
# `;` between handles is sent percent-encoded (3 bytes); the fixed part of the URL is added per batch.
SEPARATOR_BYTES = 3


def handle_batches(handles: list[str], max_handles: int, max_url_bytes: int, base_url_bytes: int) -> list[list[str]]:
    """`handles` cut into `user.info` batches of at most `max_handles` whose URL stays within
    `max_url_bytes` (`base_url_bytes` = the URL before the first handle)."""
    batches: list[list[str]] = []
    batch: list[str] = []
    size = base_url_bytes
    for handle in handles:
        cost = len(quote(handle, safe="")) + (SEPARATOR_BYTES if batch else 0)
        if batch and (len(batch) >= max_handles or size + cost > max_url_bytes):
            batches.append(batch)
            batch, size, cost = [], base_url_bytes, len(quote(handle, safe=""))
        batch.append(handle)
        size += cost
    if batch:
        batches.append(batch)
    return batches


def not_found_handle(message: str) -> str | None:
    """The handle a FAILED `handles: User with handle X not found` names, else None."""
    match = NOT_FOUND.search(message)
    return match.group(1) if match else None


async def fetch_user_infos(
    client: httpx.AsyncClient, settings: Settings, handles: list[str], before_call: BeforeCall = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """`user.info` of one batch: ({handle lower: entry}, handles Codeforces does not know).

    One missing handle fails the whole call; the handle it names is set aside and the rest
    asked again. When the answer names none of the batch, the batch is split in halves until
    the missing ones are found, so one renamed account never fails the lot."""
    found: dict[str, dict[str, Any]] = {}
    missing: list[str] = []

    async def ask(batch: list[str]) -> None:
        if not batch:
            return
        try:
            fetched = await api_call_async(client, settings, "user.info", {"handles": ";".join(batch)}, before_call)
        except PermanentError as exc:
            named = not_found_handle(str(exc))
            if named is None or exc.status != 400:
                raise
            by_lower = {h.lower(): h for h in batch}
            if len(batch) == 1:
                missing.append(batch[0])
            elif named.lower() in by_lower:
                missing.append(by_lower[named.lower()])
                await ask([h for h in batch if h.lower() != named.lower()])
            else:
                half = len(batch) // 2
                await ask(batch[:half])
                await ask(batch[half:])
            return
        entries = fetched.result
        if not isinstance(entries, list) or len(entries) != len(batch) or not all(isinstance(e, dict) for e in entries):
            raise ParseError(
                f"user.info answered {len(entries) if isinstance(entries, list) else 'no list'} "
                f"entries for {len(batch)} handles",
                service=SERVICE,
            )
        # Codeforces answers in the order asked; the entry's own handle may differ in case.
        for handle, entry in zip(batch, entries):
            found[handle.lower()] = entry

    await ask(list(handles))
    return found, missing


async def fetch_rating_changes(
    client: httpx.AsyncClient, settings: Settings, contest_id: int, before_call: BeforeCall = None
) -> list[dict[str, Any]] | None:
    """`contest.ratingChanges` of one contest; None when Codeforces says it has none (unrated)."""
    try:
        fetched = await api_call_async(
            client, settings, "contest.ratingChanges", {"contestId": contest_id}, before_call
        )
    except PermanentError as exc:
        if UNRATED in str(exc).lower():
            return None
        raise
    if not isinstance(fetched.result, list):
        raise ParseError("contest.ratingChanges result is not a list", service=SERVICE)
    return fetched.result


async def fetch_contest_list(
    client: httpx.AsyncClient, settings: Settings, before_call: BeforeCall = None
) -> list[dict[str, Any]]:
    """The raw `contest.list?gym=false` result."""
    fetched = await api_call_async(client, settings, "contest.list", {"gym": "false"}, before_call)
    if not isinstance(fetched.result, list):
        raise ParseError("contest.list result is not a list", service=SERVICE)
    return fetched.result


def finished_between(contests: list[Any], since: int, until: int) -> list[dict[str, Any]]:
    """Contests (id, name, end) whose phase is FINISHED and that ended in (since, until], oldest first."""
    out = []
    for item in contests:
        if not isinstance(item, dict) or item.get("phase") != "FINISHED":
            continue
        cid, start, length = item.get("id"), item.get("startTimeSeconds"), item.get("durationSeconds")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (cid, start, length)):
            continue
        assert isinstance(start, int) and isinstance(length, int)  # checked just above
        end = start + length
        if since < end <= until:
            out.append({"contestId": cid, "name": item.get("name"), "endSeconds": end})
    return sorted(out, key=lambda c: (c["endSeconds"], c["contestId"]))


def parse_rating_changes(changes: list[Any]) -> dict[str, dict[str, Any]]:
    """A contest's rating changes by handle (lower case), each as a `contestData` entry."""
    out = {}
    for change, entry in zip(changes, parse_user_rating(changes)):
        handle = change.get("handle") if isinstance(change, dict) else None
        if isinstance(handle, str) and isinstance(entry.get("newRating"), int):
            out[handle.lower()] = entry
    return out
