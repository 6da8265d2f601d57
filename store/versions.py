"""Versions of what the public reads show, kept in Redis so that every API process sees them.

The store writer that changes a public read's data moves its version (`move`), only when something
changed: a contest sync that wrote contests moves `contests:<platform>` and `contests:*` (what a
read of every platform shows); a sync attempt or a health change moves `platforms`. A reader asks
for the versions of what it shows (`current`, one round trip) and derives its validators from
them, so a conditional request is answered without reading the store.

A version is a number of microseconds since the epoch: moving one sets it to the later of now and
one more than before. It therefore doubles as the time of the last change (`Last-Modified`), and a
Redis that lost its keys starts again from now, never from a number an earlier version had (a
reader's old ETag cannot match new data). Versions are scoped by queue name and database, so two
deployments (or two tests) sharing one Redis never see each other's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import store
from core.redisconn import UNAVAILABLE, script
from core.settings import get_settings

log = logging.getLogger(__name__)

PLATFORMS = "platforms"
ALL_CONTESTS = "contests:*"

# Each key: the later of now (ARGV[1]) and one more than its value; returns the new values.
_MOVE = """
local out = {}
for i, key in ipairs(KEYS) do
  local now = tonumber(ARGV[1])
  local old = tonumber(redis.call('GET', key) or '0')
  local new = now
  if old >= now then new = old + 1 end
  redis.call('SET', key, string.format('%d', new))
  out[i] = string.format('%d', new)
end
return out
"""
# Each key's value, set to now (ARGV[1]) first where it has none.
_CURRENT = """
local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if not value then
    redis.call('SET', key, ARGV[1])
    value = ARGV[1]
  end
  out[i] = value
end
return out
"""


class VersionsUnavailable(RuntimeError):
    """Redis did not answer: the caller answers without validators (and builds from the store)."""


def contests(platform: str) -> str:
    """The version name of one platform's contests."""
    return f"contests:{platform}"


def scope() -> str:
    """The prefix shared by this deployment's versions and built answers (queue and database)."""
    return f"syncq:{get_settings().queue}:{store.database_name()}"


def _keys(names: Iterable[str]) -> list[str]:
    prefix = scope()
    return [f"{prefix}:version:{name}" for name in names]


def _now() -> str:
    return str(time.time_ns() // 1000)


def move(*names: str) -> None:
    """Move these versions (after a write that changed what they stand for). With Redis away the
    write stands and is logged; built answers then live out their TTL (SYNCQ_READ_CACHE_TTL)."""
    try:
        script(_MOVE)(keys=_keys(names), args=[_now()])
    except UNAVAILABLE as exc:
        log.warning("versions %s not moved (Redis unavailable: %s)", ", ".join(names), exc)


def move_contests(platform: str) -> None:
    """Move the versions of `platform`'s contests (and of every platform's)."""
    move(contests(platform), ALL_CONTESTS)


def current(names: Iterable[str]) -> dict[str, int]:
    """The versions of `names` (one Redis round trip); VersionsUnavailable when Redis is away."""
    names = list(names)
    try:
        values = script(_CURRENT)(keys=_keys(names), args=[_now()])
    except UNAVAILABLE as exc:
        raise VersionsUnavailable(str(exc)) from None
    return {name: int(value) for name, value in zip(names, values)}
