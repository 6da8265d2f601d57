"""AtCoder: past contests from kenkoooo's list, upcoming and running ones from atcoder.jp.

kenkoooo's `contests.json` lags on upcoming contests, so the contests page is read too,
with a real HTML parser (selectolax). One source failing does not lose the other: the
payload carries what worked and an error per source that failed.
"""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from adapters import registry
from adapters.errors import ParseError, SyncError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult, phase_at, utc_from_epoch
from adapters.source import Source
from core.settings import Settings

NAME = "atcoder"
SERVICE = "atcoder"
SITE = "https://atcoder.jp"
MAX_EPOCH = 4102444800
# kenkoooo asks for more than a second between calls; the contests page shows times in Japan time.
SOURCE = Source(name=NAME, host="atcoder.jp", timezone="Asia/Tokyo", rate_per_minute=60, full_history=True)
TABLES = {"contest-table-action": "running", "contest-table-upcoming": "upcoming", "contest-table-recent": "recent"}


def fetch(client: httpx.Client, settings: Settings) -> dict[str, Any]:
    """`{"kenkoooo": [...], "page": "<html>", "errors": {...}}`; raises only if both sources fail.

    The two sources are fetched side by side (two threads on the one client), so AtCoder
    costs the slower of the two answers, not their sum.
    """
    payload: dict[str, Any] = {"kenkoooo": None, "page": None, "errors": {}}
    list_url = f"{settings.kenkoooo_url}/atcoder/resources/contests.json"
    page_url = f"{settings.atcoder_url}/contests/"

    def listing() -> None:
        try:
            payload["kenkoooo"] = call_with_retry(
                lambda: decode_json(send(client, "GET", list_url, service="kenkoooo"), "kenkoooo"), settings
            )
        except SyncError as exc:
            payload["errors"]["kenkoooo"] = str(exc)

    def page() -> None:
        try:
            response = call_with_retry(
                lambda: send(client, "GET", page_url, service=SERVICE, params={"lang": "en"}), settings
            )
            payload["page"] = response.text
        except SyncError as exc:
            payload["errors"]["atcoder"] = str(exc)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(listing), pool.submit(page)]:
            future.result()
    if payload["kenkoooo"] is None and payload["page"] is None:
        raise SyncError("both sources failed: " + "; ".join(payload["errors"].values()), service=SERVICE)
    return payload


def parse_kenkoooo_item(item: Any, now: datetime) -> Contest:
    """One kenkoooo contest as a Contest (ValueError when malformed)."""
    if not isinstance(item, dict):
        raise ValueError("contest is not an object")
    cid, title = item.get("id"), item.get("title")
    if not isinstance(cid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid):
        raise ValueError(f"bad id {cid!r}")
    start_s, duration = item.get("start_epoch_second"), item.get("duration_second")
    for field, value in (("start_epoch_second", start_s), ("duration_second", duration)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{field} is not a number: {value!r}")
    assert isinstance(start_s, (int, float)) and isinstance(duration, (int, float))  # checked just above
    if not 0 < start_s < MAX_EPOCH or not 0 <= duration <= 366 * 86400:
        raise ValueError(f"absurd times (start {start_s}, duration {duration})")
    start, end = utc_from_epoch(int(start_s)), utc_from_epoch(int(start_s) + int(duration))
    return Contest(
        platform=NAME,
        platformId=cid,
        name=str(title or cid),
        type=None,
        phase=phase_at(start, end, now),
        rawPhase=None,
        startTime=start,
        endTime=end,
        durationSeconds=int(duration),
        url=f"{SITE}/contests/{cid}",
        raw=dict(item),
    )


def _duration(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r}")
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60


def parse_page(html: str, now: datetime) -> ParseResult:
    """Running, upcoming and recent contests from the atcoder.jp contests page."""
    tree = HTMLParser(html)
    result = ParseResult()
    tables = [(tree.css_first(f"#{table_id}"), label) for table_id, label in TABLES.items()]
    if all(node is None for node, _ in tables):
        raise ParseError("the AtCoder contests page has none of the contest tables (layout changed?)", service=SERVICE)
    for node, label in tables:
        if node is None:
            continue
        for row in node.css("tbody tr"):
            cells = row.css("td")
            try:
                if len(cells) < 3:
                    raise ValueError("row has fewer than 3 cells")
                time_node = cells[0].css_first("time")
                link = cells[1].css_first("a[href^='/contests/']")
                if time_node is None or link is None:
                    raise ValueError("row has no time or contest link")
                start = datetime.strptime(time_node.text(strip=True), "%Y-%m-%d %H:%M:%S%z")
                start = start.astimezone(UTC)
                if not datetime(2000, 1, 1, tzinfo=UTC) <= start < datetime(2100, 1, 1, tzinfo=UTC):
                    raise ValueError(f"absurd start {start}")
                duration = _duration(cells[2].text(strip=True))
                cid = (link.attributes.get("href") or "").rstrip("/").split("/")[-1]
                if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid):
                    raise ValueError(f"bad contest id {cid!r}")
                end = start + timedelta(seconds=duration)
                rated = cells[3].text(strip=True) if len(cells) > 3 else None
                result.records.append(
                    Contest(
                        platform=NAME,
                        platformId=cid,
                        name=link.text(strip=True),
                        type=None,
                        phase=phase_at(start, end, now),
                        rawPhase=label,
                        startTime=start,
                        endTime=end,
                        durationSeconds=duration,
                        url=f"{SITE}/contests/{cid}",
                        raw={"id": cid, "table": label, "rate_change": rated},
                    )
                )
            except ValueError as exc:
                result.skip({"id": row.text(strip=True)[:40]}, str(exc))
    return result


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contests from both sources merged by id (the contests page wins for what it lists)."""
    now = now or datetime.now(UTC)
    if not isinstance(payload, dict) or "kenkoooo" not in payload:
        raise ParseError("payload is not {kenkoooo, page}", service=SERVICE)
    result = ParseResult()
    merged: dict[str, Contest] = {}
    for source, error in (payload.get("errors") or {}).items():
        result.skip({"id": source}, error)
    listing = payload.get("kenkoooo")
    if listing is not None:
        if not isinstance(listing, list):
            result.skip({"id": "kenkoooo"}, f"kenkoooo: contests.json is {type(listing).__name__}, not a list")
        else:
            for item in listing:
                try:
                    contest = parse_kenkoooo_item(item, now)
                    merged[contest.platformId] = contest
                except ValueError as exc:
                    result.skip(item, str(exc))
    if payload.get("page") is not None:
        try:
            page = parse_page(payload["page"], now)
        except ParseError as exc:
            result.skip({"id": "atcoder"}, str(exc))
        else:
            result.failed.extend(page.failed)
            for contest in page.records:
                merged[contest.platformId] = contest
    result.records = list(merged.values())
    return result


registry.register(sys.modules[__name__])
