"""Redis: the session's test database (`SYNCQ_TEST_REDIS_URL`, default one picked per session by
tests/conftest.py), with no one-run-at-a-time guard left from a test or an interrupted session."""

from __future__ import annotations

import os

import pytest
import redis


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL; the session fails clearly when nothing answers there."""
    url = os.environ["SYNCQ_REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis is needed at {url} ({exc}); start one: redis-server --daemonize yes "
            "--bind 127.0.0.1 --port 6379 --save '' --appendonly no",
            returncode=3,
        )
    clear_guards(client)  # an interrupted session's
    return url


def clear_guards(client: redis.Redis) -> None:
    """Drop every one-run-at-a-time guard: each test starts with none, so a trigger is never
    answered with a job of an earlier test's database."""
    for key in client.scan_iter("syncq:guard:*"):
        client.delete(key)
