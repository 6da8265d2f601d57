"""The process's Redis client (cache, locks, rate limits, job notifications)."""

from __future__ import annotations

import os
import threading

import redis

from core.settings import get_settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_key: tuple[int, str] | None = None

# What redis-py raises when the server is away; callers turn these into 503s or fallbacks.
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError)


def get_redis() -> redis.Redis:
    """A Redis client for `SYNCQ_REDIS_URL`, one per process (and per URL)."""
    global _client, _key
    url = get_settings().redis_url
    key = (os.getpid(), url)
    if _client is not None and _key == key:
        return _client
    with _lock:
        if _client is None or _key != key:
            # Short timeouts: a Redis that is down must turn into a quick 503, not a hang.
            _client = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30, decode_responses=True
            )
            _key = key
        return _client


_binary: tuple[tuple[int, str], redis.Redis] | None = None


def get_binary_redis() -> redis.Redis:
    """A Redis client that answers bytes (built documents), one per process (and per URL)."""
    global _binary
    url = get_settings().redis_url
    key = (os.getpid(), url)
    made = _binary
    if made is not None and made[0] == key:
        return made[1]
    with _lock:
        if _binary is None or _binary[0] != key:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
            _binary = (key, client)
        return _binary[1]


_scripts: dict[str, object] = {}


def script(source: str):
    """The Lua script `source`, registered once per process: calling it (`keys=`, `args=`,
    `client=`) sends its SHA, and the source only when Redis has not seen it yet."""
    registered = _scripts.get(source)
    if registered is None:
        registered = _scripts[source] = get_redis().register_script(source)  # connects to nothing
    return registered
