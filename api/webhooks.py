"""Webhook routes (admin token for all): endpoints, their delivery log, and a test event."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, request

import store.webhooks as webhooks_store
from api.auth import admin_required
from api.errors import ApiError
from api.openapi import doc
from api.schemas import DeliveriesQuery, WebhookIn, WebhookPatch
from api.validation import json_body
from jobs import kinds, service
from syncs import webhooks

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)

FIELDS = {"url", "events", "leadMinutes", "description", "secret", "enabled"}
MAX_LEAD_MINUTES = 7 * 24 * 60


def _url(url: str) -> str:
    try:
        webhooks.check_url(url)
    except webhooks.TargetRefused as exc:
        raise ApiError(400, f"'url' is refused: {exc}") from None
    return url


def _events(events: list[str] | None) -> list[str]:
    if not events:
        raise ApiError(400, f"'events' must be a non-empty list of: {', '.join(webhooks.EVENTS)}")
    unknown = sorted(set(events) - set(webhooks.EVENTS))
    if unknown:
        raise ApiError(400, f"'events' has unknown events {', '.join(unknown)}; known: {', '.join(webhooks.EVENTS)}")
    return list(dict.fromkeys(events))


def _lead_minutes(leads: list[int] | None) -> list[int]:
    if leads is None or not 1 <= len(leads) <= 5 or not all(1 <= n <= MAX_LEAD_MINUTES for n in leads):
        raise ApiError(400, f"'leadMinutes' must be a list of 1 to 5 whole minutes from 1 to {MAX_LEAD_MINUTES}")
    return sorted(set(leads), reverse=True)


def _validated(body: WebhookIn | WebhookPatch, partial: bool) -> dict[str, Any]:
    given = body.model_fields_set  # with the fields the schema does not know (model_extra)
    unknown = given - FIELDS
    if unknown:
        raise ApiError(400, f"Unknown fields {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(FIELDS))}")
    fields: dict[str, Any] = {}
    if not partial or "url" in given:
        fields["url"] = _url(body.url)
    if not partial or "events" in given:
        fields["events"] = _events(body.events)
    if "leadMinutes" in given:
        fields["leadMinutes"] = _lead_minutes(body.leadMinutes)
    elif not partial:
        fields["leadMinutes"] = list(webhooks.DEFAULT_LEAD_MINUTES)
    if "description" in given or not partial:
        fields["description"] = body.description or ""
    if "secret" in given:
        secret = body.secret
        problem = webhooks.secret_problem(secret)
        if problem:
            raise ApiError(400, f"'secret' is invalid: {problem}")
        fields["secret"] = secret
    elif not partial:
        fields["secret"] = webhooks.new_secret()
    if "enabled" in given:
        if not partial:  # not a field of WebhookIn: a create's `enabled` arrives as an extra
            raise ApiError(400, "'enabled' is set with PATCH")
        fields["enabled"] = body.enabled
    return fields


def _endpoint_or_404(endpoint_id: str) -> dict[str, Any]:
    endpoint = webhooks_store.get_endpoint(endpoint_id) if len(endpoint_id) <= 64 else None
    if endpoint is None:
        raise ApiError(404, f"No webhook endpoint {endpoint_id}")
    return endpoint


@bp.post("/api/webhooks")
@admin_required
@doc(201, admin=True, json=WebhookIn, tags=("webhooks",))
def create_endpoint():
    """Add an endpoint: 201 with it and its signing secret (`whsec_...`, made unless given)."""
    endpoint = webhooks_store.create_endpoint(_validated(json_body(WebhookIn), partial=False))
    response = jsonify(webhooks.public(endpoint, with_secret=True))
    response.status_code = 201
    response.headers["Location"] = f"/api/webhooks/{endpoint['_id']}"
    return response


@bp.get("/api/webhooks")
@admin_required
@doc(200, admin=True, tags=("webhooks",))
def list_endpoints():
    """Every endpoint (without secrets), with whether it is enabled and why not."""
    items = [webhooks.public(e) for e in webhooks_store.list_endpoints()]
    return jsonify({"webhooks": items, "count": len(items), "events": list(webhooks.EVENTS)})


@bp.get("/api/webhooks/<endpoint_id>")
@admin_required
@doc(200, admin=True, errors=(404,), tags=("webhooks",))
def get_endpoint(endpoint_id: str):
    """One endpoint, with its secret."""
    return jsonify(webhooks.public(_endpoint_or_404(endpoint_id), with_secret=True))


@bp.patch("/api/webhooks/<endpoint_id>")
@admin_required
@doc(200, admin=True, errors=(404,), json=WebhookPatch, tags=("webhooks",))
def patch_endpoint(endpoint_id: str):
    """Change url, events, leadMinutes, description or secret; `enabled: true` re-enables it."""
    _endpoint_or_404(endpoint_id)
    fields = _validated(json_body(WebhookPatch), partial=True)
    return jsonify(webhooks.public(webhooks_store.update_endpoint(endpoint_id, fields), with_secret=True))


@bp.delete("/api/webhooks/<endpoint_id>")
@admin_required
@doc(200, admin=True, errors=(404,), tags=("webhooks",))
def delete_endpoint(endpoint_id: str):
    """Delete an endpoint and its delivery log."""
    _endpoint_or_404(endpoint_id)
    webhooks_store.delete_endpoint(endpoint_id)
    return jsonify({"message": f"Deleted webhook endpoint {endpoint_id}"})


@bp.get("/api/webhooks/<endpoint_id>/deliveries")
@admin_required
@doc(200, admin=True, errors=(404,), query=DeliveriesQuery, tags=("webhooks",))
def deliveries(endpoint_id: str):
    """The endpoint's deliveries, newest first: `?status=pending|delivered|failed&limit=`."""
    _endpoint_or_404(endpoint_id)
    query = request.context.query
    items = webhooks_store.deliveries(endpoint_id, query.status, query.limit or 50)
    return jsonify({"deliveries": [webhooks.public_delivery(d) for d in items], "count": len(items)})


@bp.post("/api/webhooks/<endpoint_id>/test")
@admin_required
@doc(202, admin=True, errors=(404, 409), tags=("webhooks",))
def send_test(endpoint_id: str):
    """Send a `webhook.test` event to the endpoint now: 202 with its delivery."""
    endpoint = _endpoint_or_404(endpoint_id)
    if not endpoint.get("enabled"):
        raise ApiError(
            409,
            f"Webhook endpoint {endpoint_id} is disabled: {endpoint.get('disabledReason')}; "
            "PATCH it with enabled: true first",
        )
    delivery_id = webhooks.send_test(endpoint)
    delivery = webhooks.public_delivery(webhooks_store.get_delivery(delivery_id))  # as queued
    # By name: the API never loads task modules. The delivery is recorded: one the broker does not
    # take now is sent by the minute's scan once it is back.
    try:
        service.send_task(kinds.WEBHOOKS_DELIVER_TASK, (delivery_id,))
    except service.BrokerUnavailable as exc:
        log.warning("webhook test delivery %s left to the scan: %s", delivery_id, exc)
    response = jsonify(delivery)
    response.status_code = 202
    response.headers["Location"] = f"/api/webhooks/{endpoint_id}/deliveries"
    return response
