"""Request parsing helpers that turn bad input into clear 400s."""

from __future__ import annotations

from typing import Any

from flask import request

from api.errors import ApiError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 naming the problem."""
    if not request.data:
        raise ApiError(400, "Request body must be a JSON object")
    try:
        body = request.get_json(force=True, silent=False)
    except Exception:  # werkzeug raises BadRequest with an HTML-ish text: say it plainly
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def string_field(body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 256,
                 default: str | None = None) -> str | None:
    """A string field of `body`; a dict/list/number (e.g. `{"$gt": ""}`) is a 400, never a query."""
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"'{name}' is required")
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"'{name}' must be a string")
    value = value.strip()
    if required and not value:
        raise ApiError(400, f"'{name}' must not be empty")
    if len(value) > max_length:
        raise ApiError(400, f"'{name}' is longer than {max_length} characters")
    return value


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds, or a 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"'{name}' must be a whole number from {minimum} to {maximum}") from None
    if not minimum <= value <= maximum:
        raise ApiError(400, f"'{name}' must be a whole number from {minimum} to {maximum}")
    return value


def wait_arg() -> float:
    """`?wait=N` seconds, 0 to 60; 400 otherwise."""
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60 or value != value:  # also rejects NaN
        raise ApiError(400, "'wait' must be a number of seconds from 0 to 60")
    return value
