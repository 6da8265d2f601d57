"""Judgeville's contests as a syncq source.

Judgeville is a made-up site (the syncq simulator serves it at `/judgeville`). Its one call,
`GET /api/contests.json`, answers `{"site": "Judgeville", "contests": [...]}`, each contest
`{"slug", "name", "starts": "YYYY-MM-DD HH:MM" (Berlin time, no offset), "length_minutes",
"link", "rated", "renamed_from"?}`.

All this module does is what the site alone knows: where to ask (`fetch`, its only I/O, through
the client syncq hands it) and what the answer means (`parse`, pure). syncq does the rest: the
naive times get the declared zone, the end comes from the length, bad dates and keys become failed
items, duplicates merge, a renamed contest moves to its new key, and the platform joins the sync-all,
its health, `/platforms`, `/contests`, the calendar, webhooks and the UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from adapters.errors import ParseError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import ParseResult
from adapters.source import ContestRecord, Source, base_url

SOURCE = Source(
    name="judgeville",
    host="judgeville.example",
    timezone="Europe/Berlin",
    credentials=False,
    rate_per_minute=60,
    pages=False,
    full_history=True,
)


def fetch(client: httpx.Client, settings: Any) -> Any:
    """The decoded `/api/contests.json` answer (base URL: SYNCQ_SOURCE_URLS, else https://judgeville.example)."""
    url = f"{base_url(SOURCE, settings)}/api/contests.json"
    return call_with_retry(lambda: decode_json(send(client, "GET", url, service=SOURCE.name), SOURCE.name), settings)


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Contest records from the answer; an item it cannot read is skipped with its reason."""
    contests = payload.get("contests") if isinstance(payload, dict) else None
    if not isinstance(contests, list):
        raise ParseError("Judgeville answer has no contests list", service=SOURCE.name)
    result = ParseResult()
    for item in contests:
        try:
            result.records.append(_record(item))
        except (ValueError, TypeError, KeyError) as exc:
            result.skip(item, str(exc))
    return result


def _record(item: dict[str, Any]) -> ContestRecord:
    minutes = item["length_minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise ValueError(f"length_minutes is not a number: {minutes!r}")
    return ContestRecord(
        key=item["slug"],
        old_key=item.get("renamed_from"),
        title=item["name"],
        url=item["link"],
        start=datetime.strptime(item["starts"], "%Y-%m-%d %H:%M"),  # naive: Berlin time, as declared
        duration=minutes * 60,
        rated=item.get("rated"),
        raw=dict(item),
    )
