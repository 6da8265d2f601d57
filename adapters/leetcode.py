"""LeetCode: contests from the GraphQL endpoint (`allContests`).

LeetCode refuses GraphQL calls without `Origin`/`Referer` (403, or an HTML challenge page
with HTTP 200): both are failures with a clear message, never a crash.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult, phase_at, utc_from_epoch
from core.settings import Settings

NAME = "leetcode"
SERVICE = "leetcode"
SITE = "https://leetcode.com"
QUERY = "{ allContests { title titleSlug startTime duration } }"
MAX_EPOCH = 4102444800


def fetch(client: httpx.Client, settings: Settings) -> Any:
    """The GraphQL answer to `allContests` (the decoded JSON body)."""
    url = f"{settings.leetcode_url}/graphql"
    headers = {"Origin": SITE, "Referer": f"{SITE}/contest/", "Content-Type": "application/json"}

    def once() -> Any:
        response = send(client, "POST", url, service=SERVICE, json={"query": QUERY}, headers=headers,
                        allow=(403,))
        if response.status_code == 403:
            raise PermanentError("LeetCode refused the request (HTTP 403): a bot check or missing "
                                 "Origin/Referer", service=SERVICE, status=403)
        try:
            return decode_json(response, SERVICE)
        except ParseError as exc:
            if "HTML" in exc.message:
                raise ParseError("LeetCode answered an HTML page (a bot challenge?) instead of GraphQL "
                                 f"JSON ({len(response.content)} bytes)", service=SERVICE) from None
            raise

    return call_with_retry(once, settings)


def _contests(payload: Any) -> list:
    if not isinstance(payload, dict):
        raise ParseError(f"GraphQL answer is {type(payload).__name__}, not an object", service=SERVICE)
    errors = payload.get("errors")
    if errors:
        messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        raise PermanentError(f"GraphQL errors: {messages[:300]}", service=SERVICE)
    data = payload.get("data")
    contests = data.get("allContests") if isinstance(data, dict) else None
    if not isinstance(contests, list):
        raise ParseError("GraphQL answer has no data.allContests list", service=SERVICE)
    return contests


def _type(slug: str) -> str | None:
    if slug.startswith("biweekly"):
        return "biweekly"
    if slug.startswith("weekly"):
        return "weekly"
    return None


def parse_contest(item: Any, now: datetime) -> Contest:
    """One `allContests` entry as a Contest (ValueError when malformed)."""
    if not isinstance(item, dict):
        raise ValueError("contest is not an object")
    slug, title = item.get("titleSlug"), item.get("title")
    if not isinstance(slug, str) or not slug or not isinstance(title, str):
        raise ValueError("contest has no titleSlug/title")
    start_s, duration = item.get("startTime"), item.get("duration")
    for field, value in (("startTime", start_s), ("duration", duration)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{field} is not a number: {value!r}")
    if not 0 < start_s < MAX_EPOCH:
        raise ValueError(f"absurd start time {start_s}")
    if not 0 <= duration <= 366 * 86400:
        raise ValueError(f"absurd duration {duration}")
    start = utc_from_epoch(int(start_s))
    end = utc_from_epoch(int(start_s) + int(duration))
    return Contest(platform=NAME, platformId=slug, name=title, type=_type(slug),
                   phase=phase_at(start, end, now), rawPhase=None, startTime=start, endTime=end,
                   durationSeconds=int(duration), url=f"{SITE}/contest/{slug}", raw=dict(item))


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contests from the GraphQL answer; phases from their times at `now`."""
    now = now or datetime.now(timezone.utc)
    result = ParseResult()
    for item in _contests(payload):
        try:
            result.records.append(parse_contest(item, now))
        except ValueError as exc:
            result.skip(item, str(exc))
    return result


registry.register(sys.modules[__name__])
