"""Webhook tasks: one delivery task per (message, endpoint), and the once-a-minute scan.

Every event emitted through `core.signals.event` in a process that imported this module (the
workers, and the API through its webhooks routes) is recorded for the endpoints that want it
and handed to `syncq.webhooks.deliver`, one task per delivery. A failed attempt enqueues the
next one with its backoff as countdown (capped below the broker's visibility timeout, so a
waiting task is never handed out twice).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError

import store
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.signals import event
from jobs import kinds
from syncs import webhooks
from workers.celery_app import app

log = logging.getLogger(__name__)


@app.task(
    name=kinds.WEBHOOKS_DELIVER_TASK,
    bind=True,
    ignore_result=True,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    soft_time_limit=120,
    time_limit=180,
)
def deliver(self, delivery_id: str, attempt: int = 1) -> None:
    """Make one attempt of a delivery; schedule the next one if it failed and may retry."""
    delay = webhooks.attempt(delivery_id, attempt)
    if delay is not None:
        deliver.apply_async((delivery_id, attempt + 1), countdown=delay)


@app.task(name=kinds.WEBHOOKS_SCAN_TASK, ignore_result=True)
def scan() -> dict[str, Any]:
    """Send due `contest.starting_soon` messages, and re-enqueue deliveries whose task was lost."""
    fresh = webhooks.starting_soon()
    for delivery_id in fresh:
        deliver.delay(delivery_id)
    lost = webhooks.overdue()
    for delivery_id, attempt in lost:
        deliver.delay(delivery_id, attempt)
    return {"starting_soon": len(fresh), "requeued": len(lost)}


def enqueue(delivery_ids: list[str]) -> None:
    """Hand each delivery to a worker (a lost one is picked up again by `scan`)."""
    for delivery_id in delivery_ids:
        try:
            deliver.delay(delivery_id)
        except (OperationalError, *REDIS_UNAVAILABLE) as exc:
            log.warning("webhook delivery %s not enqueued (retried by the scan): %s", delivery_id, exc)


@event.connect
def on_event(sender: Any, type: str, data: dict[str, Any], **_extra: Any) -> None:
    """Record an emitted event for its subscribers and enqueue its deliveries; never raises
    into the code that emitted it (a sync must not fail for a webhook)."""
    try:
        enqueue(webhooks.publish(type, data))
    except Exception:
        log.exception("event %s: webhook deliveries not recorded", type)
