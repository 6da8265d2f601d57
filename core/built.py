"""Built answers: a document built once per (query, version) and shared by every API process.

`get_or_build(key, build)` answers the bytes kept under `key` (whose name holds the versions of
the data it was built from, so a moved version makes the old document unreachable):

1. from this process's memory (a small LRU bounded in bytes), else
2. from Redis (`SET key EX ttl`; an index sorted by last use keeps at most `entries` documents,
   dropping the least recently used), else
3. built under a Redis lock per key (redis-py's `Lock`): the first reader builds and stores it,
   readers who arrive meanwhile wait for the lock and then read what it stored, so a document is
   built once however many readers ask at the same time.

With Redis away the document is built for each reader (as before there was a cache): slow, not down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import cast

from redis.exceptions import LockError

from core.redisconn import UNAVAILABLE, get_binary_redis

log = logging.getLogger(__name__)

LOCAL_BYTES = 32 * 1024 * 1024  # memory one process gives to documents it has read or built
BUILD_SECONDS = 120  # a lock outlives a builder that died by this much, at most
WAIT_SECONDS = 60.0  # how long a reader waits for another's build before building itself


class _Local:
    """A process-local LRU of documents, bounded in bytes (thread-safe)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.limit // 4:  # one huge document must not push out every other
            return
        with self.lock:
            old = self.items.pop(key, None)
            self.size -= len(old) if old is not None else 0
            self.items[key] = value
            self.size += len(value)
            while self.size > self.limit and self.items:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


_local = _Local(LOCAL_BYTES)


def forget_local() -> None:
    """Empty this process's memory of documents (tests that count builds across processes)."""
    _local.clear()


def get_or_build(
    key: str,
    build: Callable[[], bytes],
    *,
    ttl: int,
    entries: int,
    index: str,
) -> bytes:
    """The document under `key`, built by `build()` once for every process (see the module's text).

    `index`: the Redis sorted set that bounds the documents of one scope to `entries`."""
    value = _local.get(key)
    if value is not None:
        return value
    redis = get_binary_redis()
    try:
        value = cast(bytes | None, redis.get(key))  # a client of bytes (core.redisconn.get_binary_redis)
        if value is None:
            value = _build_locked(redis, key, build, ttl=ttl, entries=entries, index=index)
        else:
            redis.zadd(index, {key: time.time()})  # last use, for the LRU trim
    except UNAVAILABLE as exc:
        log.warning("built answer %s without Redis (%s)", key, exc)
        return build()
    _local.put(key, value)
    return value


def _build_locked(redis, key: str, build: Callable[[], bytes], *, ttl: int, entries: int, index: str) -> bytes:
    lock = redis.lock(f"{key}:lock", timeout=BUILD_SECONDS, sleep=0.01, blocking_timeout=WAIT_SECONDS)
    if not lock.acquire():
        log.warning("built answer %s: waited %.0f s for another build, building it here", key, WAIT_SECONDS)
        return build()
    try:
        value = cast(bytes | None, redis.get(key))  # built by the reader who held the lock before us
        if value is not None:
            return value
        value = build()
        pipe = redis.pipeline(transaction=False)
        pipe.set(key, value, ex=ttl)
        pipe.zadd(index, {key: time.time()})
        pipe.zremrangebyscore(index, "-inf", time.time() - ttl)  # expired ones leave the index too
        pipe.zcard(index)
        count = pipe.execute()[-1]
        if count > entries:
            dropped = [name for name, _ in redis.zpopmin(index, count - entries)]
            if dropped:
                redis.delete(*dropped)
        return value
    finally:
        try:
            lock.release()
        except LockError:  # it outlived BUILD_SECONDS and expired: nothing of ours to release
            pass
