"""The public calendar feed: `GET /contests.ics?platform=&phase=` (RFC 5545, built with icalendar).

One VEVENT per contest with a start time: UID `<platform>-<platformId>@syncq` (stable, so a calendar
app updates an event instead of adding a second), UTC times, the contest's URL, SEQUENCE (raised by
the store when a contest moves) and STATUS (CANCELLED for a cancelled contest). The calendar says
how often to poll (REFRESH-INTERVAL, X-PUBLISHED-TTL). By default it lists what ended in the last
SYNCQ_FEED_DAYS days and everything after (what a subscriber wants, in a size calendar apps take);
`?since=` or `?days=` reach further back. A contest the calendar cannot encode is left out (and
logged), never the reason for a 500.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, request
from icalendar import Calendar, Event, vDuration

import store.contests as contests_store
from adapters import registry
from adapters.records import PHASES
from api.cached import cache_control, versioned
from api.errors import ApiError
from api.openapi import doc
from api.public_limit import public_limit
from api.schemas import FeedQuery
from api.validation import time_arg
from store import versions

bp = Blueprint("feeds", __name__)
log = logging.getLogger(__name__)

CANCELLED = "CANCELLED"
# A cancelled contest stays in the feed (as STATUS:CANCELLED) so calendar apps remove it.
FEED_PHASES = tuple(dict.fromkeys((*PHASES, CANCELLED)))
PRODID = "-//syncq//contest calendar//EN"


def _platforms_arg() -> list[str] | None:
    raw = request.context.query.platform or ""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if not names:
        return None
    known = registry.names()
    unknown = [name for name in names if name not in known]
    if unknown:
        shown = unknown[0] if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", unknown[0]) else "that name"
        raise ApiError(404, f"Unknown platform {shown}; registered platforms: {', '.join(known)}", platforms=known)
    return list(dict.fromkeys(names))


def _phase_arg() -> str | None:
    phase = (request.context.query.phase or "").strip().upper() or None
    if phase is not None and phase not in FEED_PHASES:
        raise ApiError(400, f"'phase' must be one of {', '.join(FEED_PHASES)}")
    return phase


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Control characters have no place in an iCalendar TEXT value (RFC 5545 3.3.11): a line break is
# kept where text may hold one (written escaped, as `\n`), every other one is dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def _text(value: Any, *, lines: bool = False) -> str:
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if not lines:
        text = " ".join(part.strip() for part in text.split("\n") if part.strip())
    return _CONTROL.sub("", text).replace("\t", " ")


def _event(contest: dict[str, Any]) -> Event:
    start = _utc(contest["startTime"])
    end = _utc(contest.get("endTime"))
    if end is None or end <= start:
        duration = contest.get("durationSeconds") or 0
        # A contest with no known length shows as a one-hour event rather than a zero-length one.
        end = start + timedelta(seconds=duration if duration > 0 else 3600)
    platform, platform_id = _text(contest["platform"]), _text(contest["platformId"])
    event = Event()
    event.add("uid", f"{platform}-{platform_id}@syncq")
    # From the contest itself (never "now"), so an unchanged feed keeps its ETag.
    event.add("dtstamp", _utc(contest.get("updatedAt")) or _utc(contest.get("createdAt")) or start)
    if contest.get("createdAt"):
        event.add("created", _utc(contest["createdAt"]))
    if contest.get("updatedAt"):
        event.add("last-modified", _utc(contest["updatedAt"]))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", _text(contest.get("name") or "") or f"{platform} {platform_id}")
    url = _text(contest.get("url") or "").replace(" ", "%20")
    if url:
        event.add("url", url)
    event.add("sequence", int(contest.get("sequence") or 0))
    event.add("status", "CANCELLED" if contest.get("phase") == CANCELLED else "CONFIRMED")
    event.add("categories", [platform])
    event.add("transp", "TRANSPARENT")  # a contest on the calendar does not make its reader busy
    details = [f"Platform: {platform}", f"Phase: {_text(contest.get('phase') or 'unknown')}"]
    if contest.get("type"):
        details.append(f"Type: {_text(contest['type'])}")
    if url:
        details.append(url)
    event.add("description", _text("\n".join(details), lines=True))
    return event


def build_calendar(contests: list[dict[str, Any]], refresh_minutes: int, title: str) -> bytes:
    """The iCalendar document for `contests` (each with a start time)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", title)
    calendar.add("x-wr-calname", title)
    calendar.add("refresh-interval", timedelta(minutes=refresh_minutes), parameters={"VALUE": "DURATION"})
    # Outlook and older Apple clients read X-PUBLISHED-TTL; RFC 7986 clients read REFRESH-INTERVAL.
    # (icalendar types an X- property only when given a typed value: a bare timedelta would be text)
    calendar.add("x-published-ttl", vDuration(timedelta(minutes=refresh_minutes)))
    for contest in contests:
        try:
            event = _event(contest)
            event.to_ical()  # a record the calendar cannot write fails here, not the whole feed
        except Exception:
            log.exception("calendar: contest %s/%s left out", contest.get("platform"), contest.get("platformId"))
            continue
        calendar.add_component(event)
    return calendar.to_ical()


def _since_arg(settings) -> datetime:
    """From when the calendar reaches: `?since=` (a time), else `?days=` (days back), else
    SYNCQ_FEED_DAYS; a number of days counts from the start of today (UTC), so the answer (and
    its ETag) stays the same all day."""
    query = request.context.query
    since = time_arg("since", query.since)
    if since is not None:
        return since
    days = settings.feed_days if query.days is None else query.days
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        return today - timedelta(days=days)
    except OverflowError:
        return datetime(1, 1, 1, tzinfo=UTC)


@bp.get("/contests.ics")
@public_limit
@doc(200, 304, errors=(404, 429), query=FeedQuery, tags=("contests",))
def contests_ics():
    """The contest calendar: the contests that end from 30 days ago on (SYNCQ_FEED_DAYS), or from
    `?since=` (a time) or `?days=` (days back); `?platform=codeforces,atcoder&phase=UPCOMING`
    (both optional). Built once per version of the contests it shows: ETag and Last-Modified
    answer a poll that sends them back with 304, without reading a contest."""
    platforms, phase = _platforms_arg(), _phase_arg()
    settings = current_app.config["SYNCQ_SETTINGS"]
    since = _since_arg(settings)
    title = "Contests" + (f" ({', '.join(platforms)})" if platforms else "")
    names = [versions.contests(name) for name in platforms] if platforms else [versions.ALL_CONTESTS]
    refresh = settings.feed_refresh_minutes * 60
    # A window counted in days moves at midnight UTC: the same URL then means another query.
    midnight = (datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).timestamp()
    return versioned(
        "contests.ics",
        {"platforms": platforms, "phase": phase, "since": since, "refresh": refresh, "title": title},
        names,
        lambda: build_calendar(
            contests_store.feed_contests(platforms, phase, since), settings.feed_refresh_minutes, title
        ),
        mimetype="text/calendar",
        cache=cache_control(refresh, refresh),
        headers={"Content-Disposition": 'inline; filename="contests.ics"'},
        until=None if request.context.query.since else midnight,
    )
