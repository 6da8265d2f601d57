"""`syncq.jobs.launch`: what beat's schedule entries run: enqueue a job kind like the API does."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from jobs import kinds, service

log = logging.getLogger(__name__)


@shared_task(name=kinds.LAUNCH_TASK, ignore_result=True)
def launch(kind: str, params: dict[str, Any] | None = None, trigger: str = "beat") -> dict[str, Any]:
    """Enqueue a job of `kind`, deduplicated against a run under way, like an API trigger."""
    try:
        queued = service.enqueue(kind, params or {}, trigger=trigger)
    except kinds.UnknownKind:
        log.error("a schedule names job kind %r, which does not exist", kind)
        return {"error": f"unknown job kind {kind}"}
    return {"job_id": queued.job["_id"], "kind": kind, "deduplicated": queued.deduplicated}
