"""Contest routes: admin sync triggers and public reads."""

from __future__ import annotations

import re
import time

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

import store.contests as contests_store
from adapters import registry
from adapters.records import PHASES
from api.auth import admin_required, is_admin
from api.cached import cache_control, json_bytes, versioned
from api.csvout import csv_bytes, wants_csv
from api.errors import ApiError
from api.jobs import trigger
from api.openapi import doc
from api.public_limit import public_limit
from api.schemas import ContestsListQuery, IncludeQuery, PlatformResult, SyncAllResult, WaitQuery
from api.validation import time_arg
from jobs import kinds
from store import versions
from syncs import health

bp = Blueprint("contests", __name__)

CSV_COLUMNS = [
    "platform",
    "platformId",
    "name",
    "type",
    "phase",
    "startTime",
    "endTime",
    "durationSeconds",
    "url",
    "sequence",
    "updatedAt",
]

LIST_CACHE = cache_control(60, 600)
PLATFORMS_PERIOD = 60  # seconds a built /platforms answer stands for at most

_PLATFORM_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _platform_or_404(platform: str) -> str:
    known = registry.names()
    if platform not in known:
        shown = platform if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", platform) else "that name"
        raise ApiError(404, f"Unknown platform {shown}; registered platforms: {', '.join(known)}", platforms=known)
    return platform


@bp.post("/contests/sync/all")
@admin_required
@doc(200, admin=True, job=True, answers=SyncAllResult, query=WaitQuery, tags=("contests",))
def sync_all():
    """Sync every registered platform, one after another: `{message, results}`, each platform's
    `{synced, updated, failed}` (a platform that fails has `error` and never stops the others)."""
    return trigger(kinds.CONTESTS_SYNC_ALL)


@bp.post("/contests/sync/<platform>")
@admin_required
@doc(200, admin=True, job=True, answers=PlatformResult, errors=(404,), query=WaitQuery, tags=("contests",))
def sync_one(platform: str):
    """Sync one platform: `{message, platform, synced, updated, failed}`; 404 listing the registered
    platforms for an unknown one."""
    return trigger(kinds.CONTESTS_PLATFORM, {"platform": _platform_or_404(platform)})


@bp.get("/contests")
@public_limit
@doc(200, 304, errors=(404, 429), query=ContestsListQuery, tags=("contests",))
def list_contests():
    """Contests by start time: `?platform=&phase=&from=&to=&limit=&cursor=`; `?format=csv` (or
    `Accept: text/csv`) answers every matching contest as CSV. Each page is built once per version
    of the contests it shows (ETag, Last-Modified: a conditional request is answered 304 without
    reading a contest); `?include=raw` adds the upstream payloads, for admins only."""
    query = request.context.query
    platform = query.platform
    if platform is not None:
        _platform_or_404(platform)
    phase = query.phase
    if phase is not None:
        phase = phase.upper()
        if phase not in (*PHASES, contests_store.CANCELLED):
            raise ApiError(400, f"'phase' must be one of {', '.join((*PHASES, contests_store.CANCELLED))}")
    start_from, start_to = time_arg("from", query.from_), time_arg("to", query.to)
    if start_from and start_to and start_from >= start_to:
        raise ApiError(400, "'from' must be earlier than 'to'")
    filters = {"platform": platform, "phase": phase, "start_from": start_from, "start_to": start_to}
    names = [versions.contests(platform)] if platform else [versions.ALL_CONTESTS]
    if wants_csv():
        return versioned(
            "contests.csv",
            filters,
            names,
            lambda: csv_bytes(CSV_COLUMNS, contests_store.all_contests(**filters)),
            mimetype="text/csv",
            cache=LIST_CACHE,
            headers={"Content-Disposition": 'attachment; filename="contests.csv"'},
        )
    limit, cursor = query.limit or 50, query.cursor
    if cursor is not None:
        try:
            contests_store.decode_cursor(cursor)
        except contests_store.BadCursor as exc:
            raise ApiError(400, f"'cursor' is invalid: {exc}") from None
    if query.include == "raw" and is_admin():
        # An admin's own answer: never shared, never kept by a proxy.
        response = jsonify(_page(filters, limit, cursor, include_raw=True))
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return versioned(
        "contests.page",
        {**filters, "limit": limit, "cursor": cursor},
        names,
        lambda: json_bytes(_page(filters, limit, cursor)),
        mimetype="application/json",
        cache=LIST_CACHE,
    )


def _page(filters: dict, limit: int, cursor: str | None, *, include_raw: bool = False) -> dict:
    items, next_cursor = contests_store.find_contests(**filters, limit=limit, cursor=cursor, include_raw=include_raw)
    for item in items:
        item.pop("_id", None)
    return {"contests": items, "count": len(items), "next_cursor": next_cursor}


@bp.get("/contests/<platform>/<platform_id>")
@public_limit
@doc(200, errors=(404, 429), query=IncludeQuery, tags=("contests",))
def get_contest(platform: str, platform_id: str):
    """One contest by platform and the platform's own id; `?include=raw` adds its upstream payload,
    for admins only."""
    if platform == "sync":  # `/contests/sync/<platform>` with a method other than POST lands here
        raise MethodNotAllowed(valid_methods=["POST"])
    _platform_or_404(platform)
    contest = contests_store.get_contest(platform, platform_id) if _PLATFORM_ID.match(platform_id) else None
    if contest is None:
        raise ApiError(404, f"No {platform} contest with id {platform_id[:64]}")
    contest.pop("_id", None)
    if not (request.context.query.include == "raw" and is_admin()):
        contest.pop("raw", None)
    return jsonify(contest)


@bp.get("/platforms")
@public_limit
@doc(200, 304, errors=(429,), tags=("contests",))
def platforms():
    """Registered platforms (built-in, clist.by resources, plugins) with the host each reads and its
    declaration, their last sync time and result, and their health and its reason.
    Built once per version of the platforms' states (moved by every sync attempt and health change)
    and per minute (a source turns stale with time, not only with a write)."""
    minute = int(time.time() // PLATFORMS_PERIOD)
    return versioned(
        "platforms",
        {"period": minute, "names": registry.names()},
        [versions.PLATFORMS],
        lambda: json_bytes(_platforms()),
        mimetype="application/json",
        cache=cache_control(PLATFORMS_PERIOD, 5 * PLATFORMS_PERIOD),
        until=(minute + 1) * PLATFORMS_PERIOD,
    )


def _platforms() -> dict:
    states = contests_store.platform_states()
    sources = health.all_sources()
    items = []
    for name in registry.names():
        state = states.get(name, {})
        source = sources.get(name) or health.public(name, None)
        declared = registry.describe(name)
        items.append(
            {
                "platform": name,
                "host": declared["host"],
                "source": declared,
                "lastSyncedAt": state.get("lastSyncedAt"),
                "lastAttemptAt": state.get("lastAttemptAt"),
                "lastResult": state.get("lastResult"),
                "lastError": state.get("lastError"),
                "health": source["health"],
                "healthReason": source["reason"],
                "healthSince": source["since"],
                "consecutiveFailures": source["consecutiveFailures"],
            }
        )
    return {"platforms": items, "count": len(items)}
