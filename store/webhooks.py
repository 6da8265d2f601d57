"""The `webhooks` (endpoints), `webhook_deliveries` and `webhook_marks` collections.

An endpoint is a URL, the events it wants and its signing secret; it records when it started
failing and, once disabled, why. A delivery is one message for one endpoint: its body (signed
again at each attempt), its state (`pending`, `delivered`, `failed`), attempt count, the last
attempt's status, latency and error, and the last attempts. A mark remembers that something
sent once (a contest's "starting soon" at one lead time) was sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

import store
from store.util import iso, update_then_read, utcnow

HISTORY = 20  # attempts kept per delivery


@store.index_maker
def _indexes(database: Database) -> None:
    database.webhooks.create_index("events")
    database.webhook_deliveries.create_index([("endpointId", ASCENDING), ("createdAt", DESCENDING)])
    database.webhook_deliveries.create_index([("status", ASCENDING), ("nextAttemptAt", ASCENDING)])


def new_id(prefix: str) -> str:
    """A fresh id such as `ep_3f2a...` (prefixed, as the Standard Webhooks examples are)."""
    return f"{prefix}_{uuid.uuid4().hex}"


# --- endpoints -------------------------------------------------------------------------


def create_endpoint(fields: dict[str, Any]) -> dict[str, Any]:
    """Store a new, enabled endpoint made of `fields` (url, events, leadMinutes, secret, ...)."""
    now = utcnow()
    doc = {
        "_id": new_id("ep"),
        **fields,
        "enabled": True,
        "disabledAt": None,
        "disabledReason": None,
        "failingSince": None,
        "lastError": None,
        "lastSuccessAt": None,
        "createdAt": now,
        "updatedAt": now,
    }
    store.db().webhooks.insert_one(doc)
    return doc


def get_endpoint(endpoint_id: str) -> dict[str, Any] | None:
    """One endpoint, or None."""
    return store.db().webhooks.find_one({"_id": endpoint_id})


def list_endpoints() -> list[dict[str, Any]]:
    """Every endpoint, oldest first."""
    return list(store.db().webhooks.find().sort("createdAt", ASCENDING))


def update_endpoint(endpoint_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Change an endpoint; enabling it again forgets that it was failing. None if unknown."""
    changes = {**fields, "updatedAt": utcnow()}
    if fields.get("enabled") is True:
        changes.update(disabledAt=None, disabledReason=None, failingSince=None)
    return update_then_read(store.db().webhooks, {"_id": endpoint_id}, {"$set": changes})


def delete_endpoint(endpoint_id: str) -> bool:
    """Delete an endpoint with its delivery log and marks."""
    deleted = store.db().webhooks.delete_one({"_id": endpoint_id}).deleted_count == 1
    store.db().webhook_deliveries.delete_many({"endpointId": endpoint_id})
    store.db().webhook_marks.delete_many({"endpointId": endpoint_id})
    return deleted


def subscribers(event_type: str) -> list[dict[str, Any]]:
    """The enabled endpoints that want `event_type`."""
    return list(store.db().webhooks.find({"enabled": True, "events": event_type}))


def endpoint_succeeded(endpoint_id: str) -> None:
    """An attempt was delivered: the endpoint is no longer failing."""
    now = utcnow()
    store.db().webhooks.update_one({"_id": endpoint_id}, {"$set": {"failingSince": None, "lastSuccessAt": now}})


def endpoint_failed(endpoint_id: str, error: str, disable_before: datetime) -> dict[str, Any] | None:
    """An attempt failed: note since when the endpoint fails, and disable it (saying why) once it
    has failed since before `disable_before`. Returns the endpoint as it is now."""
    db = store.db()
    now = utcnow()
    db.webhooks.update_one({"_id": endpoint_id, "failingSince": None}, {"$set": {"failingSince": now}})
    db.webhooks.update_one({"_id": endpoint_id}, {"$set": {"lastError": error}})
    endpoint = db.webhooks.find_one({"_id": endpoint_id, "enabled": True, "failingSince": {"$lte": disable_before}})
    if endpoint is not None:
        since = endpoint["failingSince"]
        reason = f"disabled after failing since {iso(since)} with no successful delivery (last error: {error})"
        db.webhooks.update_one(
            {"_id": endpoint_id, "enabled": True},
            {"$set": {"enabled": False, "disabledAt": now, "disabledReason": reason, "updatedAt": now}},
        )
    return db.webhooks.find_one({"_id": endpoint_id})


# --- deliveries --------------------------------------------------------------------------


def create_deliveries(message_id: str, event_type: str, body: str, endpoint_ids: list[str]) -> list[str]:
    """One pending delivery of a message per endpoint; their ids."""
    if not endpoint_ids:
        return []
    now = utcnow()
    docs: list[dict[str, Any]] = [
        {
            "_id": new_id("dlv"),
            "endpointId": endpoint_id,
            "messageId": message_id,
            "type": event_type,
            "body": body,
            "status": "pending",
            "attempts": 0,
            "createdAt": now,
            "nextAttemptAt": now,
            "lastAttemptAt": None,
            "deliveredAt": None,
            "statusCode": None,
            "latencyMs": None,
            "lastError": None,
            "history": [],
        }
        for endpoint_id in endpoint_ids
    ]
    store.db().webhook_deliveries.insert_many(docs)
    return [doc["_id"] for doc in docs]


def claim_attempt(delivery_id: str, attempt: int) -> dict[str, Any] | None:
    """Take attempt number `attempt` of a pending delivery: the delivery, or None when it is not
    pending or that attempt was already taken (a redelivered or duplicate task)."""
    now = utcnow()
    claimed = store.db().webhook_deliveries.update_one(
        {"_id": delivery_id, "status": "pending", "attempts": attempt - 1},
        # nextAttemptAt: now, so the overdue scan leaves an attempt in flight alone.
        {"$set": {"attempts": attempt, "lastAttemptAt": now, "nextAttemptAt": now}},
    )
    return get_delivery(delivery_id) if claimed.modified_count == 1 else None


def record_attempt(
    delivery_id: str,
    *,
    status: str,
    status_code: int | None,
    latency_ms: float | None,
    error: str | None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Write an attempt's outcome onto its delivery (`status`: pending, delivered or failed)."""
    now = utcnow()
    fields: dict[str, Any] = {
        "status": status,
        "statusCode": status_code,
        "latencyMs": latency_ms,
        "lastError": error,
        "nextAttemptAt": next_attempt_at,
    }
    if status == "delivered":
        fields["deliveredAt"] = now
    entry = {"at": now, "statusCode": status_code, "latencyMs": latency_ms, "error": error}
    store.db().webhook_deliveries.update_one(
        {"_id": delivery_id}, {"$set": fields, "$push": {"history": {"$each": [entry], "$slice": -HISTORY}}}
    )


def give_up(delivery_id: str, error: str) -> None:
    """End a pending delivery as failed without another attempt (its endpoint is gone or disabled)."""
    store.db().webhook_deliveries.update_one(
        {"_id": delivery_id, "status": "pending"},
        {"$set": {"status": "failed", "lastError": error, "nextAttemptAt": None}},
    )


def get_delivery(delivery_id: str) -> dict[str, Any] | None:
    """One delivery, or None."""
    return store.db().webhook_deliveries.find_one({"_id": delivery_id})


def deliveries(endpoint_id: str, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """An endpoint's deliveries, newest first (without their bodies)."""
    query: dict[str, Any] = {"endpointId": endpoint_id}
    if status:
        query["status"] = status
    return list(
        store.db()
        .webhook_deliveries.find(query, {"body": 0})
        .sort([("createdAt", DESCENDING), ("_id", DESCENDING)])
        .limit(limit)
    )


def overdue(before: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Pending deliveries whose next attempt was due before `before` (their task was lost)."""
    return list(
        store.db()
        .webhook_deliveries.find(
            {"status": "pending", "nextAttemptAt": {"$lt": before}},
            {"body": 0, "history": 0},
        )
        .limit(limit)
    )


def prune(before: datetime) -> int:
    """Forget the deliveries (delivered or given up, never pending ones) and the sent marks made
    before `before`; how many deliveries were removed."""
    database = store.db()
    database.webhook_marks.delete_many({"at": {"$lt": before}})
    return database.webhook_deliveries.delete_many(
        {"createdAt": {"$lt": before}, "status": {"$ne": "pending"}}
    ).deleted_count


# --- sent-once marks -----------------------------------------------------------------------


def mark_once(key: str, endpoint_id: str) -> bool:
    """Remember `key` for an endpoint: True the first time, False when it was already marked."""
    try:
        store.db().webhook_marks.insert_one({"_id": key, "endpointId": endpoint_id, "at": utcnow()})
    except DuplicateKeyError:
        return False
    return True
