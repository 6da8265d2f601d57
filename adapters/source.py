"""The source contract: what a contest source declares, what it returns, and what is done for it.

A source is any object (a module, usually) with
- `SOURCE`: a `Source` declaration: its name, the host it reads, its default time zone (for naive
  times), whether it needs credentials, its rate limit, whether it pages or fetches its whole history;
- `fetch(client, settings)`: its only I/O, through the `httpx.Client` it is given (a source that
  declares `wants_known` also takes `known=`: the keys already stored, where its paging stops);
- `parse(payload, now=None)`: pure; a `ParseResult` whose records are `ContestRecord`s (or, for the
  built-in adapters, ready `Contest`s) and whose `failed` items say why they were skipped.

What every source needs is done here once (`finish`), never in a source: a naive time gets the
source's zone, a missing end comes from the duration, a contest that ends before it starts or
starts absurdly far ahead is a failed item with its reason, a key or URL that could not be stored
or served safely (control characters, CR/LF, too long) is a failed item too, and records listed
twice under one key are merged (the first wins; its empty fields are filled from the others).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.records import Contest, ParseResult, phase_at

# A key is what `/contests/<platform>/<key>` finds: letters, digits, `_`, `.`, `-`.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_URL = 2048
# A contest this far ahead is a broken date, not a plan.
FAR_AHEAD = timedelta(days=3650)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_DURATION = timedelta(days=366)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNSERVABLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]")  # in a URL: control or space (str.isspace's set)


class ContractError(TypeError):
    """A source that does not follow the contract (its name says which and why)."""


@dataclass(frozen=True)
class Source:
    """A source's declaration.

    `name`: the platform name (lower-case letters, digits, `_`). `host`: the site it reads.
    `timezone`: the IANA zone of its naive times. `credentials`: it needs credentials (and is
    listed only when they are set). `rate_per_minute`: the calls a minute its host allows (None:
    no declared limit). `pages`: it pages its listing. `full_history`: every fetch lists its whole
    history (False: only the recent part). `setting`: a boolean setting that enables it (opt-in).
    `wants_known`: `fetch` takes `known=` (the keys stored, where its paging stops).
    """

    name: str
    host: str
    timezone: str = "UTC"
    credentials: bool = False
    rate_per_minute: float | None = None
    pages: bool = False
    full_history: bool = True
    setting: str | None = None
    wants_known: bool = False

    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone of the source's naive times."""
        return zoneinfo.ZoneInfo(self.timezone)

    def describe(self) -> dict[str, Any]:
        """The declaration as the API shows it."""
        return {
            "host": self.host,
            "timezone": self.timezone,
            "credentials": self.credentials,
            "ratePerMinute": self.rate_per_minute,
            "pages": self.pages,
            "fullHistory": self.full_history,
        }


@dataclass(frozen=True)
class ContestRecord:
    """One contest as a source parses it.

    `key`: stable within the source; `old_key`: the key it had before a rename (the stored contest
    is moved to `key`); `start`/`end`: aware, or naive in the source's zone; `duration`: seconds (or
    a timedelta), used when there is no `end`; `phase`: the listed phase (UPCOMING, RUNNING,
    FINISHED), else it comes from the times; `kind`, `rated`, `raw`: optional.
    """

    key: str
    title: str
    url: str
    start: datetime | None
    end: datetime | None = None
    duration: float | timedelta | None = None
    old_key: str | None = None
    kind: str | None = None
    rated: bool | None = None
    phase: str | None = None
    raw_phase: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def check(source: Any) -> Source:
    """The declaration of `source`, checked; ContractError saying what is wrong."""
    declared = getattr(source, "SOURCE", None)
    label = getattr(source, "__name__", None) or type(source).__name__
    if not isinstance(declared, Source):
        raise ContractError(f"source {label} has no SOURCE declaration (adapters.source.Source)")
    for attr in ("fetch", "parse"):
        if not callable(getattr(source, attr, None)):
            raise ContractError(f"source {declared.name or label} has no {attr}()")
    if not isinstance(declared.name, str) or not NAME_PATTERN.fullmatch(declared.name):
        raise ContractError(f"source {label}: name {declared.name!r} is not lower-case letters, digits and _")
    if not isinstance(declared.host, str) or not declared.host or _CONTROL.search(declared.host):
        raise ContractError(f"source {declared.name}: host {declared.host!r} is not a host name")
    try:
        declared.zone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ContractError(f"source {declared.name}: time zone {declared.timezone!r} is unknown") from None
    return declared


def base_url(declared: Source, settings: Any) -> str:
    """Where a source reads its site: SYNCQ_SOURCE_URLS's entry for its name, else `https://<host>`."""
    return dict(settings.source_urls).get(declared.name) or f"https://{declared.host}"


def key_problem(key: Any) -> str | None:
    """Why `key` cannot be stored (None: it can)."""
    if not isinstance(key, str):
        return f"key is {type(key).__name__}, not text"
    if not KEY_PATTERN.fullmatch(key):
        shown = _CONTROL.sub("?", key[:60])
        return f"bad key {shown!r}: only letters, digits, '_', '.' and '-', 1 to 128 of them"
    return None


def url_problem(url: Any) -> str | None:
    """Why `url` cannot be served (None: it can)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return f"url {str(url)[:60]!r} is not an http(s) address"
    if len(url) > MAX_URL or _UNSERVABLE.search(url):
        return f"url {_CONTROL.sub('?', url[:60])!r} holds spaces or control characters, or is too long"
    return None


def _aware(value: datetime | None, zone: zoneinfo.ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _seconds(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"duration is not a number: {value!r}")
    return float(value)


def to_contest(declared: Source, record: ContestRecord, now: datetime) -> Contest:
    """A source's record as a Contest: zone, end and phase filled in (ValueError when it cannot be)."""
    zone = declared.zone()
    start, end = _aware(record.start, zone), _aware(record.end, zone)
    duration = _seconds(record.duration)
    if end is None and start is not None and duration is not None:
        if duration < 0:
            raise ValueError(f"negative duration {duration:g}")
        end = start + timedelta(seconds=duration)
    if duration is None and start is not None and end is not None:
        duration = (end - start).total_seconds()
    title = record.title.strip() if isinstance(record.title, str) else ""
    if not title:
        raise ValueError("contest has no title")
    raw = dict(record.raw or {})
    if record.rated is not None:
        raw["rated"] = record.rated
    return Contest(
        platform=declared.name,
        platformId=record.key,
        name=title,
        type=record.kind,
        phase=record.phase or phase_at(start, end, now),
        rawPhase=record.raw_phase,
        startTime=start,
        endTime=end,
        durationSeconds=None if duration is None else int(duration),
        url=record.url,
        raw=raw,
    )


def problem(contest: Contest, now: datetime) -> str | None:
    """Why a contest must not be stored (None: it may)."""
    reason = key_problem(contest.platformId) or url_problem(contest.url)
    if reason:
        return reason
    start, end = contest.startTime, contest.endTime
    if start is not None and not EARLIEST <= start <= now + FAR_AHEAD:
        return f"absurd start time {start.isoformat()} (before 1990 or more than 10 years ahead)"
    if start is not None and end is not None:
        if end < start:
            return f"contest ends before it starts ({end.isoformat()} < {start.isoformat()})"
        if end - start > MAX_DURATION:
            return f"absurd duration {(end - start).total_seconds():g} s (more than a year)"
    return None


def _merged(first: Contest, other: Contest) -> Contest:
    """`first`, its empty fields filled from `other` (a contest listed twice under one key)."""
    filled = {
        name: getattr(other, name)
        for name in ("type", "rawPhase", "startTime", "endTime", "durationSeconds")
        if getattr(first, name) is None and getattr(other, name) is not None
    }
    return replace(first, **filled) if filled else first


def finish(declared: Source, parsed: ParseResult, now: datetime | None = None) -> ParseResult:
    """What every source needs, done once: records made Contests, checked, merged by key.

    Records that cannot be stored become failed items with their reason; `renamed` maps each new
    key to the old key its record named; `comparable` counts what is left of the comparable part
    (the first `comparable` records), `complete` is kept."""
    now = now or datetime.now(UTC)
    result = ParseResult(failed=list(parsed.failed), flagged=list(parsed.flagged), complete=parsed.complete, renamed={})
    merged: dict[str, Contest] = {}
    comparable = 0
    for index, record in enumerate(parsed.records):
        item = {"id": getattr(record, "key", getattr(record, "platformId", None))}
        try:
            contest = record if isinstance(record, Contest) else to_contest(declared, record, now)
        except (ValueError, TypeError, AttributeError) as exc:
            result.skip(item, str(exc))
            continue
        reason = problem(contest, now)
        if reason:
            result.skip({"id": _CONTROL.sub("?", str(item["id"])[:128])}, reason)
            continue
        old_key = getattr(record, "old_key", None)
        if old_key and old_key != contest.platformId and key_problem(old_key) is None:
            result.renamed[contest.platformId] = old_key
        if contest.platformId in merged:
            merged[contest.platformId] = _merged(merged[contest.platformId], contest)
            continue
        merged[contest.platformId] = contest
        if parsed.comparable is not None and index < parsed.comparable:
            comparable += 1
    result.records = list(merged.values())
    result.comparable = None if parsed.comparable is None else comparable
    return result
