"""The one check a request schema cannot make: that the body is a JSON object at all."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from api.errors import ApiError
from api.openapi import refusal

Model = TypeVar("Model", bound=BaseModel)


def json_body(model: type[Model], *, optional: bool = False) -> Model | None:
    """The request body as validated by `model` (the route's `doc(json=...)` schema), or a 400;
    None for no body at all when the body is `optional`.

    Called by the route after its own 404 checks, as the body has always been read.
    """
    # spectree validates `{}` in place of an empty, non-JSON or non-object body, so the schema
    # cannot refuse those: they are refused here.
    if not request.data:
        if optional:
            return None
        raise ApiError(400, "Request body must be a JSON object")
    try:
        body = request.get_json(force=True, silent=False)
    except Exception:  # werkzeug raises BadRequest with an HTML-ish text: say it plainly
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    if request.is_json:  # what spectree validated: this very object
        return request.context.json
    # Sent as a form or untyped (`curl -d '{...}'`): spectree left the body alone, read it anyway.
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise refusal(exc.errors()) from None


def time_arg(name: str, raw: str | None) -> datetime | None:
    """A query argument that names a time (ISO 8601, or epoch seconds), in UTC (a time without
    a zone is UTC); None when absent; 400 naming the argument when it is neither."""
    if not raw or not raw.strip():
        return None
    raw = raw.strip()
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", raw):
            value = datetime.fromtimestamp(float(raw), tz=UTC)
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ApiError(400, f"'{name}' must be an ISO 8601 time or epoch seconds") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
