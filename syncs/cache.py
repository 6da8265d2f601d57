"""The student cache in Redis: `cf:info:<handle>`, `cf:contest:<handle>`, `cf:submissions:<handle>`.

Scheduled syncs read through it; a manual sync deletes all three before fetching and writes
them after. `cf:info` and `cf:contest` hold the raw API results (small); `cf:submissions`
holds a marker `{newest, total, fetchedAt}`: its presence means the submissions were fetched
within its TTL (the submissions themselves are in MongoDB). Redis down: every read is a miss
and every write is skipped, never a failure.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from core.redisconn import UNAVAILABLE, get_redis
from core.settings import get_settings

log = logging.getLogger(__name__)
KINDS = ("info", "contest", "submissions")


def key(kind: str, handle: str) -> str:
    """The cache key of `kind` for `handle` (handles are case-insensitive)."""
    return f"cf:{kind}:{handle.lower()}"


def _ttl(kind: str) -> int:
    settings = get_settings()
    return {
        "info": settings.cache_info_ttl,
        "contest": settings.cache_contest_ttl,
        "submissions": settings.cache_submissions_ttl,
    }[kind]


def get(kind: str, handle: str) -> Any | None:
    """The cached value, or None (miss, or Redis down)."""
    try:
        raw = get_redis().get(key(kind, handle))
    except UNAVAILABLE:
        return None
    return json.loads(raw) if raw else None


def put(kind: str, handle: str, value: Any) -> None:
    """Cache `value` with its kind's TTL (skipped when Redis is down)."""
    try:
        get_redis().set(key(kind, handle), json.dumps(value, separators=(",", ":"), default=str), ex=_ttl(kind))
    except UNAVAILABLE:
        log.info("Redis unreachable: not caching %s for %s", kind, handle)


def invalidate(handle: str) -> bool:
    """Delete the three keys of `handle` in one call; False when Redis is down."""
    try:
        get_redis().delete(*(key(kind, handle) for kind in KINDS))
        return True
    except UNAVAILABLE:
        return False
