"""JSON errors everywhere: `{"statusCode", "message"}`, never an HTML page or a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

import store
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from jobs.service import BrokerUnavailable

log = logging.getLogger(__name__)


def error_response(status: int, message: str, **extra):
    """A JSON error response with the project's body shape."""
    response = jsonify({"statusCode": status, "message": message, **extra})
    response.status_code = status
    return response


class ApiError(Exception):
    """Raise from a view to answer `status` with `message` (and any extra fields)."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def register(app: Flask) -> None:
    """Install the JSON error handlers on `app`."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        message = exc.description or exc.name
        if exc.code == 404 and message.startswith("The requested URL was not found"):
            message = "Not found"
        elif exc.code == 405:
            message = f"Method not allowed; allowed: {', '.join(sorted(exc.valid_methods or []))}"
        elif exc.code == 413:
            message = f"Request body too large (limit {app.config.get('MAX_CONTENT_LENGTH')} bytes)"
        response = error_response(exc.code or 500, message)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(BrokerUnavailable)
    def _broker_down(exc: BrokerUnavailable):
        return error_response(503, f"Job queue unavailable: {exc}; try again shortly")

    @app.errorhandler(REDIS_UNAVAILABLE[0])
    @app.errorhandler(REDIS_UNAVAILABLE[1])
    def _redis_down(exc):
        return error_response(503, "Redis is unavailable; try again shortly")

    @app.errorhandler(store.UNAVAILABLE[0])
    @app.errorhandler(store.UNAVAILABLE[1])
    def _store_down(exc):
        return error_response(503, "MongoDB is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "Internal server error")
