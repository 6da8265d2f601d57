"""Per-process memories of Redis values, each dropped the moment Redis says it changed.

Every authenticated request checks that its user still exists, and every trigger of a guarded sync
asks who holds its guard: one Redis round trip each, which were the larger part of what separated
a deduplicated `POST /contests/sync/all` from a bare route (docs/benchmarks-notes.md). Both
answers rarely change, and whatever changes them tells every process: `forget(key)` publishes the
key on one channel (user deletes; guard releases publish from their Lua scripts), and a thread per
process, subscribed to it, drops the key from its memories.

An entry is used only while that thread is subscribed (a lost subscription clears everything and
bypasses the memory until it is back) and only for `max_age` seconds, which bounds what a change
made without a notice (a guard's TTL running out, a user deleted behind syncq's back) can cost.
A value read from Redis is kept only if no notice arrived while it was being read.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import redis

from core.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "syncq:forget"
LISTENER_NAME = "syncq-near-cache"  # its connection's name in CLIENT LIST


class NearCache:
    """One memory: key -> value, each for at most `max_age` seconds."""

    def __init__(self, max_age: float, size: int = 4096) -> None:
        self.max_age = max_age
        self._size = size
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        _listener.caches.append(self)

    def get(self, key: str) -> Any:
        """The remembered value, or None (unknown, too old, or nobody is listening for changes)."""
        if not _listener.live():
            return None
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.max_age:
            return None
        return entry[1]

    def put(self, key: str, value: Any, generation: int) -> None:
        """Remember `value`, read from Redis after `generation()` gave `generation`; kept only if
        no notice arrived since (it could have been about this very key)."""
        with self._lock:
            if not _listener.live() or _listener.generation != generation:
                return
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic(), value)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def generation() -> int:
    """Read before reading a value from Redis; pass to `NearCache.put`. Starts the listener."""
    _listener.ensure_running()
    return _listener.generation


def forget(client: redis.Redis | redis.client.Pipeline, key: str) -> None:
    """Tell every process to drop `key` (on `client`, which may be a pipeline)."""
    client.publish(CHANNEL, key)


class _Listener:
    """The thread that keeps this process's memories honest."""

    def __init__(self) -> None:
        self.caches: list[NearCache] = []
        self.generation = 0
        self._live = False
        self._pid: int | None = None
        self._lock = threading.Lock()

    def live(self) -> bool:
        return self._live and self._pid == os.getpid()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child (gunicorn, prefork) starts its own
                self._live = False
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="syncq-near-cache", daemon=True).start()

    def _changed(self, key: str | None) -> None:
        # Counted before the drop: a reader that started before this notice must not keep its value.
        self.generation += 1
        for cache in self.caches:
            cache.drop(key) if key is not None else cache.clear()

    def _run(self) -> None:
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=2,
                                              socket_timeout=None, socket_keepalive=True,
                                              client_name=LISTENER_NAME, decode_responses=True)
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                while True:
                    message = pubsub.get_message(timeout=30)
                    if message is None:
                        pubsub.ping()  # a dead connection shows on the next read
                    elif message["type"] == "subscribe":
                        self._changed(None)  # whatever happened while unsubscribed is unknown
                        self._live = True
                    elif message["type"] == "message":
                        self._changed(message["data"])
            except Exception as exc:  # any failure: stop trusting the memories until resubscribed
                self._live = False
                self._changed(None)
                log.debug("near cache: subscription lost (%s); retrying", exc)
                time.sleep(1.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass


_listener = _Listener()
