"""CodeChef: contests from `/api/list/contests/all` (present, future and past lists).

Times carry `+05:30` and are converted to UTC; `contest_duration` is minutes as a string,
and the form `"03:00:00"` also occurs.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult
from core.settings import Settings

NAME = "codechef"
SERVICE = "codechef"
SITE = "https://www.codechef.com"
LISTS = {"present_contests": ("RUNNING", "present"), "future_contests": ("UPCOMING", "future"),
         "past_contests": ("FINISHED", "past")}
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def fetch(client: httpx.Client, settings: Settings) -> Any:
    """The decoded JSON of the all-contests list."""
    url = f"{settings.codechef_url}/api/list/contests/all"
    params = {"sort_by": "START", "sorting_order": "asc", "offset": "0", "mode": "all"}
    return call_with_retry(
        lambda: decode_json(send(client, "GET", url, service=SERVICE, params=params), SERVICE), settings)


def duration_seconds(raw: Any) -> int:
    """Seconds from `"120"` (minutes) or `"03:00:00"` (H:MM:SS) or a number of minutes."""
    if isinstance(raw, bool):
        raise ValueError(f"bad duration {raw!r}")
    if isinstance(raw, (int, float)):
        minutes = float(raw)
    elif isinstance(raw, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", raw):
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
        value = value.replace(tzinfo=timezone(timedelta(hours=5, minutes=30)))
    value = value.astimezone(timezone.utc)
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
    end = _time(item.get("contest_end_date_iso"), "contest_end_date_iso") \
        if item.get("contest_end_date_iso") else None
    duration = duration_seconds(item["contest_duration"]) if item.get("contest_duration") is not None \
        else (int((end - start).total_seconds()) if end else None)
    if end is None and duration is not None:
        end = start + timedelta(seconds=duration)
    if end is not None and end < start:
        raise ValueError("contest ends before it starts")
    return Contest(platform=NAME, platformId=code, name=name.strip(), type=None, phase=phase,
                   rawPhase=raw_phase, startTime=start, endTime=end, durationSeconds=duration,
                   url=f"{SITE}/{code}", raw=dict(item))


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contests from the three lists; a contest listed twice is kept once (the first list wins)."""
    if not isinstance(payload, dict):
        raise ParseError(f"answer is {type(payload).__name__}, not an object", service=SERVICE)
    if payload.get("status") != "success":
        raise PermanentError(f"CodeChef answered status {payload.get('status')!r}: "
                             f"{str(payload.get('message') or 'no message')[:200]}", service=SERVICE)
    if not any(isinstance(payload.get(key), list) for key in LISTS):
        raise ParseError("answer has none of present_contests/future_contests/past_contests", service=SERVICE)
    result, seen = ParseResult(), set()
    for key, (phase, raw_phase) in LISTS.items():
        items = payload.get(key) or []
        if not isinstance(items, list):
            result.skip({"id": key}, f"{key} is not a list")
            continue
        for item in items:
            try:
                contest = parse_contest(item, phase, raw_phase)
            except (ValueError, KeyError) as exc:
                result.skip(item, str(exc))
                continue
            if contest.platformId not in seen:
                seen.add(contest.platformId)
                result.records.append(contest)
    return result


registry.register(sys.modules[__name__])
