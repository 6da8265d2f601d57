"""LeetCode: contests from the GraphQL endpoint (`allContests`, else the queries its site uses).

`allContests` lists every contest. When it stops answering (a GraphQL error, a wrong shape, a
failed request), the contests come from the two queries current clients use instead:
`topTwoContests` (the next weekly and biweekly) and `pastContests(pageNo, numPerPage)`,
paged from the newest until a page holds only contests already stored (at most
`leetcode_max_past_pages` pages). LeetCode refuses GraphQL calls without `Origin`/`Referer`
(403, or an HTML challenge page with HTTP 200): both are failures with a clear message.

Every contest's type comes from its slug or title, old and new forms alike:
`weekly-contest-N`, `leetcode-weekly-contest-N` (2016-2017, also `-18a`), `biweekly-contest-N`,
titles `Weekly Contest N` / `Biweekly Contest N`; anything else is `special`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError, SyncError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult, phase_at, utc_from_epoch
from adapters.source import Source
from core.settings import Settings

NAME = "leetcode"
SERVICE = "leetcode"
SITE = "https://leetcode.com"
# `allContests` is the whole history; the fallback pages `pastContests` until the stored contests
# (`wants_known`: fetch takes `known`, the keys already stored).
SOURCE = Source(name=NAME, host="leetcode.com", pages=True, full_history=True, wants_known=True)
QUERY = "{ allContests { title titleSlug startTime duration } }"
TOP_TWO_QUERY = "query topTwoContests { topTwoContests { title titleSlug startTime duration } }"
PAST_QUERY = (
    "query pastContests($pageNo: Int, $numPerPage: Int) { pastContests(pageNo: $pageNo, "
    "numPerPage: $numPerPage) { pageNum currentPage totalNum numPerPage "
    "data { title titleSlug startTime duration } } }"
)
PAST_PAGE_SIZE = 10
MAX_EPOCH = 4102444800
_SLUG_TYPE = re.compile(r"^(?:leetcode-)?(bi)?weekly-contest-\d+[a-z]?$")
_TITLE_TYPE = re.compile(r"^\s*(?:leetcode\s+)?(bi)?weekly\s+contest\s+\d+[a-z]?\b", re.IGNORECASE)


class Blocked(ParseError):
    """LeetCode refused us as a bot (403 or an HTML challenge page): no other query would pass."""


def _graphql(client: httpx.Client, settings: Settings, body: dict[str, Any]) -> Any:
    url = f"{settings.leetcode_url}/graphql"
    headers = {"Origin": SITE, "Referer": f"{SITE}/contest/", "Content-Type": "application/json"}

    def once() -> Any:
        # 400 is read: a GraphQL server answers a query it no longer knows with 400 and its errors.
        response = send(client, "POST", url, service=SERVICE, json=body, headers=headers, allow=(400, 403))
        if response.status_code == 403:
            raise Blocked(
                "LeetCode refused the request (HTTP 403): a bot check or missing Origin/Referer",
                service=SERVICE,
                status=403,
            )
        try:
            answer = decode_json(response, SERVICE)
        except ParseError as exc:
            if "HTML" in exc.message:
                raise Blocked(
                    "LeetCode answered an HTML page (a bot challenge?) instead of GraphQL "
                    f"JSON ({len(response.content)} bytes)",
                    service=SERVICE,
                ) from None
            if response.status_code == 400:
                raise PermanentError("request refused (HTTP 400)", service=SERVICE, status=400) from None
            raise
        if response.status_code == 400 and not (isinstance(answer, dict) and answer.get("errors")):
            raise PermanentError("request refused (HTTP 400)", service=SERVICE, status=400)
        return answer

    return call_with_retry(once, settings)


def _data(payload: Any, field: str) -> Any:
    """`payload.data[field]`, or the error the GraphQL answer carries instead."""
    if not isinstance(payload, dict):
        raise ParseError(f"GraphQL answer is {type(payload).__name__}, not an object", service=SERVICE)
    errors = payload.get("errors")
    if errors:
        messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        raise PermanentError(f"GraphQL errors: {messages[:300]}", service=SERVICE)
    data = payload.get("data")
    value = data.get(field) if isinstance(data, dict) else None
    if value is None:
        raise ParseError(f"GraphQL answer has no data.{field}", service=SERVICE)
    return value


def _past_page(client: httpx.Client, settings: Settings, page: int) -> tuple[list, int | None]:
    answer = _graphql(
        client,
        settings,
        {
            "query": PAST_QUERY,
            "operationName": "pastContests",
            "variables": {"pageNo": page, "numPerPage": PAST_PAGE_SIZE},
        },
    )
    past = _data(answer, "pastContests")
    items = past.get("data") if isinstance(past, dict) else None
    if not isinstance(items, list):
        raise ParseError("pastContests has no data list", service=SERVICE)
    pages = past.get("pageNum")
    return items, pages if isinstance(pages, int) and not isinstance(pages, bool) else None


def _slug_of(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    slug = item.get("titleSlug")
    return slug if isinstance(slug, str) and slug else slug_from_title(item.get("title"))


def fetch_fallback(client: httpx.Client, settings: Settings, known: Collection[str] = ()) -> dict[str, Any]:
    """`topTwoContests` and the past contests, newest page first, until a page holds only
    contests in `known` (or the last page, or `leetcode_max_past_pages`)."""
    upcoming = _data(
        _graphql(client, settings, {"query": TOP_TWO_QUERY, "operationName": "topTwoContests"}), "topTwoContests"
    )
    past: list[Any] = []
    page_error = None
    for page in range(1, settings.leetcode_max_past_pages + 1):
        try:
            items, pages = _past_page(client, settings, page)
        except SyncError as exc:
            if page == 1:
                raise
            page_error = f"pastContests page {page}: {exc.message}"  # keep what the earlier pages gave
            break
        past.extend(items)
        if not items or all(_slug_of(item) in known for item in items) or (pages is not None and page >= pages):
            break
    data: dict[str, Any] = {"topTwoContests": upcoming, "pastContests": {"data": past}}
    return {"data": data, "syncq": {"fallback": True, "pageError": page_error}}


def fetch(client: httpx.Client, settings: Settings, *, known: Collection[str] | None = None) -> Any:
    """The GraphQL answer to `allContests`; when that fails, the fallback queries' answers
    (with the reason allContests failed under `syncq.allContestsError`)."""
    try:
        answer = _graphql(client, settings, {"query": QUERY})
        if not isinstance(_data(answer, "allContests"), list):
            raise ParseError("GraphQL answer has no data.allContests list", service=SERVICE)
        return answer
    except Blocked:
        raise
    except SyncError as exc:
        first = exc
    try:
        fallback = fetch_fallback(client, settings, known or ())
    except SyncError as exc:
        raise type(first)(
            f"allContests failed ({first.message}); the topTwoContests/pastContests "
            f"fallback failed too ({exc.message})",
            service=SERVICE,
            status=first.status,
        ) from exc
    fallback["syncq"]["allContestsError"] = first.message
    return fallback


def slug_from_title(title: Any) -> str | None:
    """LeetCode's slug of a title (`Weekly Contest 308` -> `weekly-contest-308`), for answers
    whose query asked no `titleSlug`."""
    if not isinstance(title, str):
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or None


def contest_type(slug: str | None, title: str | None) -> str:
    """`weekly`, `biweekly` or `special`, from the slug, else the title."""
    for pattern, text in ((_SLUG_TYPE, slug), (_TITLE_TYPE, title)):
        match = pattern.match(text) if isinstance(text, str) else None
        if match:
            return "biweekly" if match.group(1) else "weekly"
    return "special"


def parse_contest(item: Any, now: datetime) -> Contest:
    """One contest entry (any of the three queries) as a Contest (ValueError when malformed)."""
    if not isinstance(item, dict):
        raise ValueError("contest is not an object")
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("contest has no title")
    slug = _slug_of(item)
    if slug is None:
        raise ValueError("contest has no titleSlug and no title to derive one")
    start_s, duration = item.get("startTime"), item.get("duration")
    for field, value in (("startTime", start_s), ("duration", duration)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{field} is not a number: {value!r}")
    assert isinstance(start_s, (int, float)) and isinstance(duration, (int, float))  # checked just above
    if not 0 < start_s < MAX_EPOCH:
        raise ValueError(f"absurd start time {start_s}")
    if not 0 <= duration <= 366 * 86400:
        raise ValueError(f"absurd duration {duration}")
    start = utc_from_epoch(int(start_s))
    end = utc_from_epoch(int(start_s) + int(duration))
    return Contest(
        platform=NAME,
        platformId=slug,
        name=title.strip(),
        type=contest_type(item.get("titleSlug"), title),
        phase=phase_at(start, end, now),
        rawPhase=None,
        startTime=start,
        endTime=end,
        durationSeconds=int(duration),
        url=f"{SITE}/contest/{slug}",
        raw=dict(item),
    )


def _items(payload: Any) -> tuple[list, list[dict[str, Any]], bool]:
    """The contest entries of an answer, notes about how it was obtained, and whether it lists every
    contest (`allContests` does; the fallback's `topTwoContests` and `pastContests` pages do not)."""
    notes: list[dict[str, Any]] = []
    meta = payload.get("syncq") if isinstance(payload, dict) else None
    if isinstance(meta, dict):
        if meta.get("allContestsError"):
            notes.append({"item": "allContests", "error": f"fallback used: {meta['allContestsError']}"})
        if meta.get("pageError"):
            notes.append({"item": "pastContests", "error": meta["pageError"]})
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict) and ("topTwoContests" in data or "pastContests" in data) and "allContests" not in data:
        if payload.get("errors"):
            _data(payload, "topTwoContests")  # raises with the GraphQL errors
        upcoming = data.get("topTwoContests") or []
        past = data.get("pastContests") or {}
        past_items = (past.get("data") or []) if isinstance(past, dict) else past
        if not isinstance(upcoming, list) or not isinstance(past_items, list):
            raise ParseError("topTwoContests/pastContests are not lists", service=SERVICE)
        return list(upcoming) + list(past_items), notes, False
    contests = _data(payload, "allContests")
    if not isinstance(contests, list):
        raise ParseError("GraphQL answer has no data.allContests list", service=SERVICE)
    return contests, notes, True


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contests from an `allContests` answer or the fallback's; phases from their times at `now`.
    A contest listed twice (upcoming and past) is kept once. The fallback's answer is marked
    incomplete: `topTwoContests` names only the next two contests."""
    now = now or datetime.now(UTC)
    items, notes, complete = _items(payload)
    result, seen = ParseResult(complete=complete), set()
    result.failed.extend(notes)
    for item in items:
        try:
            contest = parse_contest(item, now)
        except ValueError as exc:
            result.skip(item, str(exc))
            continue
        if contest.platformId not in seen:
            seen.add(contest.platformId)
            result.records.append(contest)
    return result


registry.register(sys.modules[__name__])
