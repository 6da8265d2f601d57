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

Each process keeps the versions it read for at most `LOCAL_SECONDS` (so a conditional request
costs no Redis round trip) while a listener thread follows the moves that `move` publishes (one
Redis channel), so another process's move is seen as soon as it is announced; the local copies are
dropped whenever that listener is not subscribed. Versions only grow, so a local copy only ever
moves forward.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable

import redis

import store
from core.redisconn import UNAVAILABLE, script
from core.settings import get_settings

log = logging.getLogger(__name__)

PLATFORMS = "platforms"
ALL_CONTESTS = "contests:*"

CHANNEL = "syncq:versions:moved"
LOCAL_SECONDS = 1.0  # longest a process answers from versions it read without hearing of a move

# Each key: the later of now (ARGV[1]) and one more than its value, announced on CHANNEL
# (ARGV[2]) as "key value"; returns the new values.
_MOVE = """
local out = {}
for i, key in ipairs(KEYS) do
  local now = tonumber(ARGV[1])
  local old = tonumber(redis.call('GET', key) or '0')
  local new = now
  if old >= now then new = old + 1 end
  local text = string.format('%d', new)
  redis.call('SET', key, text)
  redis.call('PUBLISH', ARGV[2], key .. ' ' .. text)
  out[i] = text
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


class _Local:
    """This process's copies of the versions it read, kept fresh by a thread listening to CHANNEL."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()
        self.subscribed = False
        self.pid: int | None = None

    def get(self, keys: list[str]) -> list[int] | None:
        if not self.subscribed or self.pid != os.getpid():
            return None
        now = time.monotonic()
        found = [self.values.get(key) for key in keys]
        if any(item is None or now - item[1] > LOCAL_SECONDS for item in found):
            return None
        return [item[0] for item in found if item is not None]

    def put(self, key: str, value: int, fetched: float | None = None) -> None:
        with self.lock:
            old = self.values.get(key)
            if old is None or value >= old[0]:  # versions only grow: never step back
                self.values[key] = (value, time.monotonic() if fetched is None else fetched)

    def clear(self) -> None:
        with self.lock:
            self.values.clear()

    def ensure_listener(self) -> None:
        """Start this process's listener (once per process: a forked child starts its own)."""
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid, self.subscribed = os.getpid(), False
            self.values.clear()
            threading.Thread(target=self.listen, name="syncq-versions", daemon=True).start()

    def listen(self) -> None:
        url, pid = get_settings().redis_url, os.getpid()
        while self.pid == pid:
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, decode_responses=True)
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                while self.pid == pid:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.clear()  # what was read before the subscription may have moved since
                        self.subscribed = True
                    elif message["type"] == "message":
                        key, _, value = message["data"].rpartition(" ")
                        self.put(key, int(value))  # told at once; still read again after LOCAL_SECONDS
            except Exception as exc:  # any failure: answer from Redis until subscribed again
                self.subscribed = False
                self.clear()
                log.info("versions listener: %s; subscribing again", exc)
                time.sleep(1)


_local = _Local()


def move(*names: str) -> None:
    """Move these versions (after a write that changed what they stand for). With Redis away the
    write stands and is logged; built answers then live out their TTL (SYNCQ_READ_CACHE_TTL)."""
    keys = _keys(names)
    try:
        values = script(_MOVE)(keys=keys, args=[_now(), CHANNEL])
    except UNAVAILABLE as exc:
        log.warning("versions %s not moved (Redis unavailable: %s)", ", ".join(names), exc)
        return
    for key, value in zip(keys, values):
        _local.put(key, int(value))


def move_contests(platform: str) -> None:
    """Move the versions of `platform`'s contests (and of every platform's)."""
    move(contests(platform), ALL_CONTESTS)


def current(names: Iterable[str]) -> dict[str, int]:
    """The versions of `names` (one Redis round trip); VersionsUnavailable when Redis is away."""
    names = list(names)
    keys = _keys(names)
    _local.ensure_listener()
    values = _local.get(keys)
    if values is None:
        try:
            values = [int(value) for value in script(_CURRENT)(keys=keys, args=[_now()])]
        except UNAVAILABLE as exc:
            raise VersionsUnavailable(str(exc)) from None
        for key, value in zip(keys, values):
            _local.put(key, value)
    return dict(zip(names, values))
