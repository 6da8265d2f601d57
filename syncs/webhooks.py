"""Webhooks after the Standard Webhooks specification (https://www.standardwebhooks.com).

A message is `{"type", "timestamp", "data"}` with an id (`msg_...`, the same on every
attempt); each attempt is signed with the endpoint's `whsec_...` secret by the
`standardwebhooks` library (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`
= v1 HMAC-SHA256 over `id.timestamp.body`). `publish` records one delivery per subscribed
endpoint; the caller (workers.webhooks) enqueues one task per delivery, which calls `attempt`.
A failed attempt is retried with exponential backoff until `SYNCQ_WEBHOOK_RETRY_WINDOW` has
passed; an endpoint that has failed for `SYNCQ_WEBHOOK_DISABLE_AFTER` with no success is disabled.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from standardwebhooks.webhooks import Webhook

import store.contests as contests_store
import store.webhooks as webhooks_store
from adapters import webhooks as target
from core.settings import Settings, get_settings
from store.util import iso, json_safe, utcnow
from syncs.announce import contest_data

EVENTS = (
    "contest.created",
    "contest.updated",
    "contest.cancelled",
    "contest.starting_soon",
    "source.health_changed",
    "student.inactive",
    "job.failed",
    "raida.quorum_lost",
)
TEST_EVENT = "webhook.test"
DEFAULT_LEAD_MINUTES = (60, 10)
SECRET_PREFIX = "whsec_"
# A pending delivery whose next attempt is this much overdue lost its task (a broker hiccup,
# a worker that died between two writes): the periodic scan enqueues it again.
OVERDUE_GRACE = timedelta(minutes=5)


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign (None when it can): `whsec_` and 24 to 64 bytes in base64."""
    if not secret.startswith(SECRET_PREFIX):
        return f"a secret starts with {SECRET_PREFIX}"
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return "a secret is whsec_ followed by base64"
    if not 24 <= len(raw) <= 64:
        return "a secret holds 24 to 64 bytes"
    return None


def _body(type_: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": type_, "timestamp": iso(utcnow()), "data": json_safe(data)}, separators=(",", ":"), default=str
    )


def check_url(url: str) -> None:
    """Raise `TargetRefused` (saying why) when `url` may not be an endpoint under the settings."""
    target.check_target(url, allow_private=get_settings().webhook_allow_private)


TargetRefused = target.TargetRefused


def publish(type_: str, data: dict[str, Any], endpoint_ids: list[str] | None = None) -> list[str]:
    """Record one message of `type_` for every enabled endpoint that wants it (or for the given
    endpoints only); the ids of the deliveries to attempt."""
    if endpoint_ids is None:
        endpoint_ids = [endpoint["_id"] for endpoint in webhooks_store.subscribers(type_)]
    if not endpoint_ids:
        return []
    return webhooks_store.create_deliveries(webhooks_store.new_id("msg"), type_, _body(type_, data), endpoint_ids)


def send_test(endpoint: dict[str, Any]) -> str:
    """A `webhook.test` message for one endpoint (whatever events it wants); the delivery id."""
    data = {"message": "A test event from syncq", "endpointId": endpoint["_id"]}
    return publish(TEST_EVENT, data, [endpoint["_id"]])[0]


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def backoff(attempt: int, settings: Settings) -> float:
    """Seconds before attempt `attempt + 1`: base * 2^(attempt-1), capped."""
    return min(settings.webhook_backoff_base * 2 ** (attempt - 1), settings.webhook_backoff_max)


def attempt(delivery_id: str, number: int) -> float | None:
    """Make attempt `number` of a delivery; the seconds to wait before the next one, or None
    when there is none (delivered, given up, or this attempt was already made elsewhere)."""
    settings = get_settings()
    delivery = webhooks_store.claim_attempt(delivery_id, number)
    if delivery is None:
        return None
    endpoint = webhooks_store.get_endpoint(delivery["endpointId"])
    if endpoint is None or not endpoint.get("enabled"):
        webhooks_store.give_up(
            delivery_id,
            "endpoint deleted"
            if endpoint is None
            else f"endpoint disabled: {endpoint.get('disabledReason') or 'by an operator'}",
        )
        return None
    now = utcnow()
    try:
        checked = target.check_target(endpoint["url"], allow_private=settings.webhook_allow_private)
        headers = signed_headers(endpoint["secret"], delivery["messageId"], delivery["body"], now)
        outcome = target.post(checked, delivery["body"], headers, timeout=settings.webhook_timeout)
    except target.TargetRefused as exc:
        outcome = target.Outcome(None, None, f"refused: {exc}")
    except SoftTimeLimitExceeded:
        # The task's own limit came first (a timeout set above it): still an attempt that failed.
        outcome = target.Outcome(None, None, "timed out: the delivery task reached its time limit")
    if outcome.ok:
        webhooks_store.record_attempt(
            delivery_id, status="delivered", status_code=outcome.status_code, latency_ms=outcome.latency_ms, error=None
        )
        webhooks_store.endpoint_succeeded(endpoint["_id"])
        return None
    error = outcome.error or "failed"
    endpoint = (
        webhooks_store.endpoint_failed(endpoint["_id"], error, now - timedelta(seconds=settings.webhook_disable_after))
        or endpoint
    )
    delay = backoff(number, settings)
    created = delivery["createdAt"]
    if not endpoint.get("enabled"):
        final = f"{error}; endpoint disabled"
    elif (now + timedelta(seconds=delay) - created).total_seconds() > settings.webhook_retry_window:
        final = f"{error}; gave up after {number} attempts"
    else:
        webhooks_store.record_attempt(
            delivery_id,
            status="pending",
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=error,
            next_attempt_at=now + timedelta(seconds=delay),
        )
        return delay
    webhooks_store.record_attempt(
        delivery_id, status="failed", status_code=outcome.status_code, latency_ms=outcome.latency_ms, error=final
    )
    return None


def starting_soon(now: datetime | None = None) -> list[str]:
    """`contest.starting_soon` for every subscribed endpoint and each of its lead times, once:
    a contest within several lead times gets one message, at the shortest of them."""
    now = now or utcnow()
    endpoints = webhooks_store.subscribers("contest.starting_soon")
    if not endpoints:
        return []
    horizon = max(max(e.get("leadMinutes") or DEFAULT_LEAD_MINUTES) for e in endpoints)
    contests, _ = contests_store.find_contests(
        phase="UPCOMING", start_from=now, start_to=now + timedelta(minutes=horizon), limit=1000
    )
    deliveries: list[str] = []
    for endpoint in endpoints:
        leads = sorted(endpoint.get("leadMinutes") or DEFAULT_LEAD_MINUTES)
        for contest in contests:
            if contest.get("cancelled") or contest.get("startTime") is None:
                continue
            minutes_left = (contest["startTime"] - now).total_seconds() / 60
            due = [lead for lead in leads if minutes_left <= lead]
            if not due:
                continue
            start = iso(contest["startTime"])
            fresh = [
                webhooks_store.mark_once(
                    f"{endpoint['_id']}|{contest['platform']}|{contest['platformId']}|{start}|{lead}", endpoint["_id"]
                )
                for lead in due
            ]
            if fresh[0]:
                data = {**contest_data(contest), "leadMinutes": due[0], "minutesLeft": round(minutes_left, 1)}
                deliveries += publish("contest.starting_soon", data, [endpoint["_id"]])
    return deliveries


def overdue(now: datetime | None = None) -> list[tuple[str, int]]:
    """(delivery id, next attempt number) of pending deliveries whose task was lost.

    An attempt that was taken but never recorded (its task was killed at its hard time limit, or
    its worker died) is recorded here as a failed attempt, counting toward disabling its endpoint;
    a delivery past its retry window is given up instead of being sent again."""
    now = now or utcnow()
    settings = get_settings()
    window_start = now - timedelta(seconds=settings.webhook_retry_window)
    lost: list[tuple[str, int]] = []
    for delivery in webhooks_store.overdue(now - OVERDUE_GRACE):
        number = delivery.get("attempts", 0)
        error = None
        if number and delivery.get("lastAttemptAt") == delivery.get("nextAttemptAt"):
            error = f"attempt {number} never ended (its task was killed or lost)"
            webhooks_store.record_attempt(
                delivery["_id"], status="pending", status_code=None, latency_ms=None, error=error, next_attempt_at=now
            )
            webhooks_store.endpoint_failed(
                delivery["endpointId"], error, now - timedelta(seconds=settings.webhook_disable_after)
            )
        if delivery["createdAt"] < window_start:
            webhooks_store.give_up(
                delivery["_id"],
                f"{error or delivery.get('lastError') or 'not delivered'}; gave up after {number} "
                "attempts (the retry window passed)",
            )
            continue
        lost.append((delivery["_id"], number + 1))
    return lost


def public(endpoint: dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    """An endpoint as the API shows it (the secret only when asked for)."""
    doc = json_safe(endpoint)
    doc["id"] = doc.pop("_id")
    if not with_secret:
        doc.pop("secret", None)
    return doc


def public_delivery(delivery: dict[str, Any]) -> dict[str, Any]:
    """A delivery as the API shows it."""
    doc = json_safe(delivery)
    doc["id"] = doc.pop("_id")
    doc.pop("body", None)
    return doc
