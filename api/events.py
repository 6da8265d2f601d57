"""`GET /events`: the event log (health changes, cancelled contests, ...), newest first."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

import store.events as events_store
import syncs.events  # noqa: F401  (connects the event log in the API process)
from api.auth import admin_required
from api.errors import ApiError
from api.openapi import doc
from api.schemas import EventsQuery

bp = Blueprint("events", __name__)

_TYPE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@bp.get("/events")
@admin_required
@doc(200, admin=True, query=EventsQuery, tags=("health",))
def list_events():
    """Events newest first: `?type=source.health_changed&limit=&cursor=`."""
    query = request.context.query
    type_ = query.type
    if type_ is not None and not _TYPE.match(type_):
        raise ApiError(400, "'type' must be an event type such as source.health_changed")
    try:
        docs, next_cursor = events_store.find(type_=type_, limit=query.limit or 50, cursor=query.cursor)
    except events_store.BadCursor as exc:
        raise ApiError(400, f"'cursor' is invalid: {exc}") from None
    items = [{"id": str(doc["_id"]), "type": doc["type"], "at": doc["at"], "data": doc.get("data")} for doc in docs]
    return jsonify({"events": items, "count": len(items), "next_cursor": next_cursor})
