"""System tasks: the beat launcher and a trivial `ping` job kind (health, benchmarks)."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

from store.util import iso, utcnow
from workers import jobs
from workers.base import JobTask
from workers.celery_app import app

log = logging.getLogger(__name__)


@app.task(name="syncq.system.ping", base=JobTask, bind=True, job_kind="ping")
def ping(self, job_id: str | None = None, echo: Any = None, delay: float = 0) -> dict[str, Any]:
    """A job that only answers (after `delay` s): proves API -> Redis -> worker -> store works."""
    if delay:
        time.sleep(min(float(delay), 30.0))
    return {"pong": True, "echo": echo, "worker": socket.gethostname(), "at": iso(utcnow())}


jobs.register_kind(jobs.JobKind(
    name="ping",
    signature=lambda params, job_id: ping.si(job_id=job_id, echo=params.get("echo"),
                                             delay=params.get("delay", 0)),
))


@app.task(name="syncq.jobs.launch", bind=True)
def launch(self, kind: str, params: dict[str, Any] | None = None, trigger: str = "beat") -> dict[str, Any]:
    """Enqueue a job of `kind` (what beat's schedule entries run), deduplicated like the API."""
    try:
        queued = jobs.enqueue(kind, params or {}, trigger=trigger)
    except jobs.UnknownKind:
        log.error("schedule names job kind %r, which does not exist", kind)
        return {"error": f"unknown job kind {kind}"}
    return {"job_id": queued.job["_id"], "kind": kind, "deduplicated": queued.deduplicated}



@app.task(name="syncq.system.noop", ignore_result=True)
def noop(counter: str | None = None) -> None:
    """A bare Celery task with no job record (the benchmarks' reference for task overhead)."""
    if counter:
        from core.redisconn import get_redis

        get_redis().incr(counter)
