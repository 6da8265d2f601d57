"""System tasks: a trivial `ping` job (are workers alive?) and a bare task (benchmarks' reference)."""

from __future__ import annotations

import socket
import time
from typing import Any

from core.redisconn import get_redis
from core.settings import get_settings
from jobs import kinds
from store.util import iso, utcnow
from workers.celery_app import app

PING = kinds.get(kinds.PING)


@app.task(name=PING.task, **PING.limits.task_options(get_settings()))
def ping(echo: Any = None, delay: float = 0, job_id: str | None = None) -> dict[str, Any]:
    """Answer (after `delay` s): proves API -> broker -> worker -> store works."""
    if delay:
        time.sleep(min(float(delay), 30.0))
    return {"pong": True, "echo": echo, "worker": socket.gethostname(), "at": iso(utcnow())}


@app.task(name=kinds.NOOP_TASK)
def noop(counter: str | None = None) -> None:
    """A bare Celery task with no job record (the benchmarks' reference for task overhead)."""
    if counter:
        get_redis().incr(counter)
