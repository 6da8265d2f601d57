"""clist.by: the contests of many sites through one API (`/api/v4/contest/`), one platform per site.

Opt-in: listed only while SYNCQ_CLIST_USERNAME and SYNCQ_CLIST_API_KEY are set. Each resource of
SYNCQ_CLIST_RESOURCES (a host, e.g. `topcoder.com`) becomes a platform of its own, named from its
host (`topcoder`, `kattis` for `open.kattis.com`), with its own health; a host a built-in source
reads (codeforces.com, leetcode.com, codechef.com, atcoder.jp) is never imported twice.

A sync of one resource reads its contests that end after SYNCQ_CLIST_DAYS_BACK days ago (the
upcoming, running and recently finished ones), ordered by start, `limit`/`offset` paged until a
short page (clist's `meta.next` is never null while a page has items). The key goes in the
`Authorization: ApiKey user:key` header, never in a URL, a log or an error. clist allows 10
calls a minute per account (429 above it): every call waits for the limit shared by all workers
in Redis (`adapters.ratelimit`, the one the Codeforces calls use), SYNCQ_CLIST_RATE_PER_MINUTE.

The format (read from aropan/clist's `src/clist/api/v2.py`, which v4 inherits, and recorded
answers): `{"meta": {...}, "objects": [{"id", "event", "href", "start", "end", "duration",
"resource", "resource_id", "host", ...}]}`; `start`/`end` are naive UTC ISO times, `duration`
seconds; `resource` is the host (in v1 answers an object `{"id", "name"}`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError
from adapters.http import call_with_retry, decode_json, send
from adapters.ratelimit import RateLimiter
from adapters.records import ParseResult
from adapters.source import ContestRecord, Source
from core.settings import Settings

SERVICE = "clist"
PATH = "/api/v4/contest/"
PAGE_SIZE = 200
MAX_PAGES = 10
# The span clist's limit counts calls in, and the Redis key that keeps it (tests shorten both).
PERIOD = 60.0
LIMIT_KEY = "syncq:ratelimit:clist"
# Second-level labels of two-part public suffixes (`luogu.com.cn`, `site.co.uk`).
_SECOND_LEVEL = {"com", "co", "org", "net", "ac", "edu", "gov"}


def platform_name(host: str) -> str:
    """The platform name of a clist resource: its host without the public suffix, last label
    (`open.kattis.com` -> `kattis`, `luogu.com.cn` -> `luogu`)."""
    labels = [label for label in host.lower().strip(".").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-2]
    elif len(labels) >= 2:
        labels = labels[:-1]
    name = re.sub(r"[^a-z0-9_]", "_", labels[-1] if labels else host.lower())
    return name if name[:1].isalpha() else f"clist_{name}"[:40]


def _host(value: str) -> str:
    value = value.strip().lower()
    return value[4:] if value.startswith("www.") else value


def limiter(settings: Settings) -> RateLimiter:
    """clist's limit, shared by every worker: SYNCQ_CLIST_RATE_PER_MINUTE calls per `PERIOD`, one at a time."""
    return RateLimiter(LIMIT_KEY, settings.clist_rate_per_minute / PERIOD, 1)


class Refused(PermanentError):
    """clist refused the credentials (401/403)."""


def _page(client: httpx.Client, settings: Settings, params: dict[str, Any]) -> Any:
    user, key = settings.clist_username, settings.clist_api_key.get_secret_value()
    headers = {"Authorization": f"ApiKey {user}:{key}", "Accept": "application/json"}
    url = f"{settings.clist_url}{PATH}"
    shared = limiter(settings)

    def once() -> Any:
        shared.acquire()
        response = send(client, "GET", url, service=SERVICE, params=params, headers=headers, allow=(401, 403))
        if response.status_code in (401, 403):
            raise Refused(
                f"clist.by refused the credentials (HTTP {response.status_code}): check SYNCQ_CLIST_USERNAME "
                "and SYNCQ_CLIST_API_KEY",
                service=SERVICE,
                status=response.status_code,
            )
        return decode_json(response, SERVICE)

    return call_with_retry(once, settings)


class ClistResource:
    """One clist resource as a source of the contract (`SOURCE`, `fetch`, `parse`)."""

    def __init__(self, host: str, name: str, settings: Settings):
        self.host = host
        self.SOURCE = Source(
            name=name,
            host=host,
            timezone="UTC",
            credentials=True,
            rate_per_minute=settings.clist_rate_per_minute,
            pages=True,
            full_history=False,
        )

    def __repr__(self) -> str:
        return f"ClistResource({self.host!r})"

    def fetch(self, client: httpx.Client, settings: Settings) -> dict[str, Any]:
        """Every page of this resource's contests ending after `clist_days_back` days ago."""
        since = datetime.now(UTC) - timedelta(days=settings.clist_days_back)
        base = {
            "resource": self.host,
            "end__gt": since.replace(tzinfo=None).isoformat(timespec="seconds"),
            "order_by": "start",
            "limit": PAGE_SIZE,
        }
        objects: list[Any] = []
        for page in range(MAX_PAGES):
            answer = _page(client, settings, {**base, "offset": page * PAGE_SIZE})
            items = answer.get("objects") if isinstance(answer, dict) else None
            if not isinstance(items, list):
                if page == 0:
                    return answer  # parse says what is wrong with it
                return {"objects": objects, "syncq": {"pagingError": f"page {page + 1} has no objects list"}}
            objects.extend(items)
            if len(items) < PAGE_SIZE:
                return {"objects": objects}
        return {"objects": objects, "syncq": {"pagingError": f"more than {MAX_PAGES} pages: the rest was not read"}}

    def parse(self, payload: Any, now: datetime | None = None) -> ParseResult:
        """Contest records from clist's answer; items of another resource or without times are skipped."""
        if not isinstance(payload, dict) or not isinstance(payload.get("objects"), list):
            raise ParseError("clist answer has no objects list", service=SERVICE)
        result = ParseResult()
        meta: dict[str, Any] = payload["syncq"] if isinstance(payload.get("syncq"), dict) else {}
        if meta.get("pagingError"):
            result.skip({"id": "objects"}, meta["pagingError"])
            result.complete = False
        others: dict[str, int] = {}
        for item in payload["objects"]:
            host = _resource(item)
            if host is not None and host != self.host:  # not this platform's (an answer for several)
                others[host] = others.get(host, 0) + 1
                continue
            try:
                result.records.append(self.record(item))
            except ValueError as exc:
                result.skip(item, str(exc))
        if others:
            listed = ", ".join(f"{host} ({count})" for host, count in sorted(others.items()))
            result.flagged.append({"item": "objects", "error": f"contests of other resources left out: {listed}"})
        return result

    def record(self, item: Any) -> ContestRecord:
        """One contest object as a record (ValueError when it is malformed or another resource's)."""
        if not isinstance(item, dict):
            raise ValueError("contest is not an object")
        cid = item.get("id")
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise ValueError(f"id is not a number: {cid!r}")
        if _resource(item) != self.host:
            raise ValueError(f"listed under resource {str(item.get('resource'))[:60]!r}, not {self.host}")
        title, url = item.get("event"), item.get("href")
        if not isinstance(url, str):
            raise ValueError(f"href is not an address: {url!r}")
        if not isinstance(title, str) or not title.strip():
            raise ValueError("contest has no event name")
        start, end = _time(item.get("start"), "start"), _time(item.get("end"), "end", optional=True)
        duration = item.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, (int, float, type(None))):
            raise ValueError(f"duration is not a number of seconds: {duration!r}")
        raw = {k: v for k, v in item.items() if k != "problems"}
        return ContestRecord(key=str(cid), title=title, url=url, start=start, end=end, duration=duration, raw=raw)


def _resource(item: Any) -> str | None:
    """The host of an object's resource: a string in v2+, `{"id", "name"}` in v1 answers."""
    resource = item.get("resource") if isinstance(item, dict) else None
    host = resource.get("name") if isinstance(resource, dict) else resource
    return _host(host) if isinstance(host, str) else None


def _time(raw: Any, field: str, optional: bool = False) -> datetime | None:
    if raw is None and optional:
        return None
    if not isinstance(raw, str):
        raise ValueError(f"{field} missing")
    try:
        return datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))  # naive: UTC (the contract's zone)
    except ValueError:
        raise ValueError(f"{field} is not an ISO time: {raw[:40]!r}") from None


def resources(settings: Settings) -> list[ClistResource]:
    """The clist resources to import as platforms (none without credentials); hosts a built-in
    source reads and names already taken are left out."""
    if not settings.clist_username or not settings.clist_api_key.get_secret_value():
        return []
    covered = registry.builtin_hosts()
    taken = set(registry.builtin_names())
    found = []
    for host in dict.fromkeys(_host(h) for h in settings.clist_resources if h.strip()):
        if host in covered:
            continue
        name = platform_name(host)
        if name in taken:
            name = re.sub(r"[^a-z0-9_]", "_", host)[:40]
        if name in taken or not name[:1].isalpha():
            continue
        taken.add(name)
        found.append(ClistResource(host, name, settings))
    return found


registry.register_family(resources)
