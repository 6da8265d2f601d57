"""CodeChef: contests from `/api/list/contests/all`, older past ones from `/api/list/contests/past`.

`/all` lists the present and future contests but only the 20 newest past ones. The older past
contests are paged from `/past` (`offset`, `mode=all`, the list under `contests`, 20 a page),
newest first, until a page holds only contests already stored (`known`), a short or empty page,
or `codechef_max_past_pages` pages (what bounds a first sync). A first sync thus fetches far more
than the later ones: `parse` counts the contests from `/all` apart (`ParseResult.comparable`),
which is what source health compares from sync to sync. Times carry `+05:30` and are converted
to UTC. The duration is end minus start: multi-day contests exist whose `contest_duration`
(minutes as a string, or `"03:00:00"`) disagrees with their own dates; it is used only when
there is no end.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError, SyncError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult
from adapters.source import Source
from core.settings import Settings

NAME = "codechef"
SERVICE = "codechef"
SITE = "https://www.codechef.com"
LISTS = {
    "present_contests": ("RUNNING", "present"),
    "future_contests": ("UPCOMING", "future"),
    "past_contests": ("FINISHED", "past"),
}
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
PAGE_SIZE = 20
# Naive CodeChef times are India time; the past is paged until the stored contests (`wants_known`:
# fetch takes `known`, the keys already stored).
SOURCE = Source(
    name=NAME, host="codechef.com", timezone="Asia/Kolkata", pages=True, full_history=True, wants_known=True
)


def _get(client: httpx.Client, settings: Settings, path: str, params: dict[str, str]) -> Any:
    url = f"{settings.codechef_url}/api/list/contests/{path}"
    return call_with_retry(
        lambda: decode_json(send(client, "GET", url, service=SERVICE, params=params), SERVICE), settings
    )


def _codes(items: list) -> set:
    # An item without a code can never be stored: it neither extends nor stops the paging.
    return {
        item["contest_code"] for item in items if isinstance(item, dict) and isinstance(item.get("contest_code"), str)
    }


def fetch_past(
    client: httpx.Client, settings: Settings, known: Collection[str], offset: int
) -> tuple[list, str | None]:
    """Past contests from `offset` back, page by page, until a page holds only `known` ones;
    the contests, and the error that stopped the paging early (None when it ended normally)."""
    contests: list = []
    for page in range(settings.codechef_max_past_pages):
        params = {"sort_by": "START", "sorting_order": "desc", "offset": str(offset + page * PAGE_SIZE), "mode": "all"}
        try:
            answer = _get(client, settings, "past", params)
        except SyncError as exc:
            return contests, f"past contests at offset {params['offset']}: {exc.message}"
        items = answer.get("contests") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            return contests, f"past contests at offset {params['offset']}: answer has no contests list"
        contests.extend(items)
        if len(items) < PAGE_SIZE or _codes(items) <= set(known):
            break
    return contests, None


def fetch(client: httpx.Client, settings: Settings, *, known: Collection[str] | None = None) -> Any:
    """The decoded `/all` answer, its `past_contests` extended with the older ones paged from
    `/past` while they are not all in `known` (the platformIds already stored)."""
    known = set(known or ())
    payload = _get(client, settings, "all", {"sort_by": "START", "sorting_order": "asc", "offset": "0", "mode": "all"})
    if not isinstance(payload, dict) or not isinstance(payload.get("past_contests"), list):
        return payload  # parse says what is wrong with it
    newest = payload["past_contests"]
    if newest and _codes(newest) <= known:
        return payload  # `/all`'s page of past contests holds only stored ones: nothing older is new
    older, error = fetch_past(client, settings, known, len(newest))
    seen = _codes(newest)
    paged = [c for c in older if not isinstance(c, dict) or c.get("contest_code") not in seen]
    payload["past_contests"] = newest + paged
    payload["syncq"] = {"pastPaged": len(paged), "pagingError": error}
    return payload


def duration_seconds(raw: Any) -> int:
    """Seconds from `"120"` (minutes) or `"03:00:00"` (H:MM:SS) or a number of minutes."""
    if isinstance(raw, bool):
        raise ValueError(f"bad duration {raw!r}")
    if isinstance(raw, (int, float)) or isinstance(raw, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", raw):
        minutes = float(raw)
    elif isinstance(raw, str) and re.fullmatch(r"\s*\d+:\d{2}(:\d{2})?\s*", raw):
        parts = [int(p) for p in raw.strip().split(":")]
        hours, mins, secs = (parts + [0])[:3]
        return hours * 3600 + mins * 60 + secs
    else:
        raise ValueError(f"bad duration {raw!r}")
    if minutes < 0:
        raise ValueError(f"negative duration {raw!r}")
    return int(minutes * 60)


def _time(raw: Any, field: str) -> datetime:
    if not isinstance(raw, str):
        raise ValueError(f"{field} missing")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} is not an ISO time: {raw!r}") from None
    if value.tzinfo is None:  # CodeChef's own times are India time
        value = value.replace(tzinfo=SOURCE.zone())
    value = value.astimezone(UTC)
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"absurd {field} {raw!r}")
    return value


def parse_contest(item: Any, phase: str, raw_phase: str) -> Contest:
    """One contest item as a Contest (ValueError when malformed)."""
    if not isinstance(item, dict):
        raise ValueError("contest is not an object")
    code, name = item.get("contest_code"), item.get("contest_name")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code):
        raise ValueError(f"bad contest_code {code!r}")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("contest has no name")
    start = _time(item.get("contest_start_date_iso"), "contest_start_date_iso")
    end = _time(item.get("contest_end_date_iso"), "contest_end_date_iso") if item.get("contest_end_date_iso") else None
    if end is not None and end < start:
        raise ValueError("contest ends before it starts")
    if end is not None:  # the dates win over `contest_duration` (multi-day contests disagree)
        duration = int((end - start).total_seconds())
    elif item.get("contest_duration") is not None:
        duration = duration_seconds(item["contest_duration"])
        end = start + timedelta(seconds=duration)
    else:
        duration = None
    return Contest(
        platform=NAME,
        platformId=code,
        name=name.strip(),
        type=None,
        phase=phase,
        rawPhase=raw_phase,
        startTime=start,
        endTime=end,
        durationSeconds=duration,
        url=f"{SITE}/{code}",
        raw=dict(item),
    )


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contests from the three lists; a contest listed twice is kept once (the first list wins).
    `comparable` counts those from `/all` (the last `syncq.pastPaged` past items were paged); a
    listing whose paging stopped on an error is marked incomplete."""
    if not isinstance(payload, dict):
        raise ParseError(f"answer is {type(payload).__name__}, not an object", service=SERVICE)
    if payload.get("status") != "success":
        raise PermanentError(
            f"CodeChef answered status {payload.get('status')!r}: {str(payload.get('message') or 'no message')[:200]}",
            service=SERVICE,
        )
    if not any(isinstance(payload.get(key), list) for key in LISTS):
        raise ParseError("answer has none of present_contests/future_contests/past_contests", service=SERVICE)
    result, seen, from_all = ParseResult(), set(), 0
    meta = payload.get("syncq")
    if not isinstance(meta, dict):
        meta = {}
    if meta.get("pagingError"):
        result.skip({"id": "past_contests"}, meta["pagingError"])
        result.complete = False  # the paging stopped early: what it did not reach is not gone
    paged = meta.get("pastPaged")
    if not isinstance(paged, int):
        paged = 0
    for key, (phase, raw_phase) in LISTS.items():
        items = payload.get(key) or []
        if not isinstance(items, list):
            result.skip({"id": key}, f"{key} is not a list")
            continue
        # `/all`'s own items come first: how many past ones a sync pages after them depends on
        # what is stored already, so those are no measure of what CodeChef lists.
        listed = len(items) - paged if key == "past_contests" else len(items)
        for index, item in enumerate(items):
            try:
                contest = parse_contest(item, phase, raw_phase)
            except (ValueError, KeyError) as exc:
                result.skip(item, str(exc))
                continue
            if contest.platformId not in seen:
                seen.add(contest.platformId)
                result.records.append(contest)
                if index < listed:
                    from_all += 1
    result.comparable = from_all
    return result


registry.register(sys.modules[__name__])
