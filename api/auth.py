"""Authentication: `POST /auth/login`, JWT checks and the `admin_required` decorator.

Every token problem answers exactly `{"statusCode":401,"message":"Unauthorized"}` (never
flask-jwt-extended's 422) and a non-admin token on an admin route exactly
`{"statusCode":403,"message":"Forbidden resource"}`.
"""

from __future__ import annotations

import functools
import threading
import time
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
from core.settings import Settings
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis

bp = Blueprint("auth", __name__)
VERIFIED_TOKENS_MAX = 4096


class _VerifiedTokens:
    """Claims of tokens whose signature this process already checked, until each one expires.

    PyJWT re-validates every base64 segment character by character and flask-jwt-extended decodes a
    token four times a request, which made a polling client's token cost more CPU than the rest of
    the request (docs/benchmarks-notes.md). A signature check is a pure function of the token and
    the secret, so its result is kept; expiry is still checked on every use.
    """

    def __init__(self, size: int = VERIFIED_TOKENS_MAX) -> None:
        self._size = size
        self._claims: dict[str, dict] = {}
        self._lock = threading.Lock()

    def get(self, token: str, leeway: float) -> dict | None:
        """The token's claims if it was verified here and has not expired, else None."""
        claims = self._claims.get(token)
        if claims is not None and "exp" in claims and time.time() > claims["exp"] + leeway:
            with self._lock:
                self._claims.pop(token, None)
            return None
        return claims

    def put(self, token: str, claims: dict) -> None:
        """Remember a verified token's claims (the oldest is forgotten once the cache is full)."""
        with self._lock:
            if len(self._claims) >= self._size:
                self._claims.pop(next(iter(self._claims)))
            self._claims[token] = claims


class _JWTManager(JWTManager):
    """flask-jwt-extended's manager, verifying a given token once per process, not once a request."""

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        cache = current_app.extensions["syncq_verified_tokens"]
        claims = cache.get(encoded_token, current_app.config.get("JWT_DECODE_LEEWAY", 0))
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token)
            cache.put(encoded_token, claims)
        return dict(claims)  # callers may not change what is kept


jwt = _JWTManager()


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
    app.extensions["syncq_verified_tokens"] = _VerifiedTokens()
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
