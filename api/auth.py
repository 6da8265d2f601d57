"""Authentication: `POST /auth/login`, JWT checks and the `admin_required` decorator.

Every token problem answers exactly `{"statusCode":401,"message":"Unauthorized"}` (never
flask-jwt-extended's 422) and a non-admin token on an admin route exactly
`{"statusCode":403,"message":"Forbidden resource"}`.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    get_jwt,
    verify_jwt_in_request,
)

import store.users as users
from api.errors import ApiError, error_response
from api.validation import json_object, string_field
from syncq.config import Settings
from syncq.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from syncq.redisconn import get_redis

bp = Blueprint("auth", __name__)
jwt = JWTManager()


def unauthorized(*_args: Any):
    """The one 401 body."""
    return error_response(401, "Unauthorized")


def forbidden():
    """The one 403 body."""
    return error_response(403, "Forbidden resource")


def init_app(app: Flask, settings: Settings) -> None:
    """Configure flask-jwt-extended on `app` from `settings`."""
    app.config.update(
        JWT_SECRET_KEY=settings.require_jwt_secret(),
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.jwt_expires),
    )
    jwt.init_app(app)
    for loader in ("unauthorized_loader", "invalid_token_loader", "expired_token_loader",
                   "revoked_token_loader", "needs_fresh_token_loader", "user_lookup_error_loader",
                   "token_verification_failed_loader"):
        getattr(jwt, loader)(unauthorized)

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> dict | None:
        # A token outlives nothing: a deleted user's tokens stop working at once.
        return users.get_cached(str(payload.get("sub")))


def issue_token(username: str, role: str) -> str:
    """A signed access token for `username` with claim `role` (inside an app context)."""
    return create_access_token(identity=str(username), additional_claims={"role": role})


def admin_required(view: Callable) -> Callable:
    """Let a request through only with a valid token whose user exists and has role admin."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        if get_jwt().get("role") != "admin":
            return forbidden()
        return view(*args, **kwargs)

    return wrapper


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _too_many_attempts(username: str) -> int | None:
    """Seconds to wait when this username or address failed too often, else None."""
    settings = current_app.config["SYNCQ_SETTINGS"]
    try:
        client = get_redis()
        for key in (f"syncq:login:user:{username}", f"syncq:login:addr:{_client_address()}"):
            count = client.get(key)
            if count is not None and int(count) >= settings.login_max_attempts:
                ttl = client.ttl(key)
                return ttl if ttl and ttl > 0 else settings.login_window
    except REDIS_UNAVAILABLE:
        return None  # no limiter without Redis; scrypt still makes guessing slow
    return None


def _record_failure(username: str) -> None:
    settings = current_app.config["SYNCQ_SETTINGS"]
    try:
        pipe = get_redis().pipeline()
        for key in (f"syncq:login:user:{username}", f"syncq:login:addr:{_client_address()}"):
            pipe.incr(key)
            pipe.expire(key, settings.login_window, nx=True)
        pipe.execute()
    except REDIS_UNAVAILABLE:
        pass


@bp.post("/auth/login")
def login():
    """Exchange a username and password for a Bearer access token."""
    body = json_object()
    username = string_field(body, "username", max_length=64)
    password = string_field(body, "password", max_length=1024)
    wait = _too_many_attempts(username)
    if wait is not None:
        response = error_response(429, "Too many failed login attempts; try again later")
        response.headers["Retry-After"] = str(wait)
        return response
    user = users.authenticate(username, password)
    if user is None:
        _record_failure(username)
        raise ApiError(401, "Invalid username or password")
    settings = current_app.config["SYNCQ_SETTINGS"]
    return jsonify({"access_token": issue_token(user["username"], user["role"]),
                    "token_type": "Bearer", "expires_in": settings.jwt_expires})
