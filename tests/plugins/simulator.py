"""The live outside world: the platform simulator, one for the session, reset for each test."""

from __future__ import annotations

import pytest
import redis

from core.settings import reload_settings


@pytest.fixture(scope="session")
def _simulator():
    from syncq.simulator import Simulator

    with Simulator() as simulator:
        yield simulator


@pytest.fixture()
def simulator(_simulator, redis_url, monkeypatch):
    """The platform simulator (reset), with every adapter pointed at it and a generous
    Codeforces limit; the settings are restored afterwards."""
    _simulator.reset()
    for name, value in _simulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SYNCQ_CF_RATE_PER_SECOND", "100")
    monkeypatch.setenv("SYNCQ_CF_RATE_BURST", "100")
    monkeypatch.setenv("SYNCQ_RAIDA_TIMEOUT", "0.5")
    reload_settings()
    redis.Redis.from_url(redis_url).delete("syncq:ratelimit:codeforces")
    yield _simulator
    _simulator.reset()
    monkeypatch.undo()
    reload_settings()
