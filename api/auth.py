"""Authentication: `POST /auth/login`, JWT checks and the `admin_required` decorator.

Every token problem answers exactly `{"statusCode":401,"message":"Unauthorized"}` (never
flask-jwt-extended's 422) and a non-admin token on an admin route exactly
`{"statusCode":403,"message":"Forbidden resource"}`.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_jwt_extended import JWTManager, create_access_token, get_current_user, verify_jwt_in_request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

import store.users as users
from api.errors import ApiError, error_response
from api.openapi import doc
from api.schemas import Login
from api.validation import json_body
from core.settings import Settings

bp = Blueprint("auth", __name__)
jwt = JWTManager()
# Failed logins only (deduct_when), per username and per address, counted in Redis so every API
# process shares them; with Redis down nothing is limited (scrypt still makes guessing slow).
limiter = Limiter(key_func=get_remote_address)


def unauthorized(*_args: Any):
    """The one 401 body, naming the scheme that authenticates (RFC 7235, RFC 6750)."""
    response = error_response(401, "Unauthorized")
    response.headers["WWW-Authenticate"] = 'Bearer realm="syncq"'
    return response


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
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 2, "socket_timeout": 5},
        RATELIMIT_KEY_PREFIX=f"syncq-{settings.queue}-login",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    jwt.init_app(app)
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        if getattr(exc.limit, "scope", None) == PUBLIC_SCOPE:
            response = error_response(429, "Too many requests; try again later")
            reset = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
            response.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
            return response
        response = error_response(429, "Too many failed login attempts; try again later")
        response.headers["Retry-After"] = str(current_app.config["SYNCQ_SETTINGS"].login_window)
        return response

    for loader in (
        "unauthorized_loader",
        "invalid_token_loader",
        "expired_token_loader",
        "revoked_token_loader",
        "needs_fresh_token_loader",
        "user_lookup_error_loader",
        "token_verification_failed_loader",
    ):
        getattr(jwt, loader)(unauthorized)

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> dict | None:
        # A token outlives nothing: a deleted user's tokens stop working at once.
        return users.get(str(payload.get("sub")))


def issue_token(username: str, role: str) -> str:
    """A signed access token for `username` with claim `role` (inside an app context)."""
    return create_access_token(identity=str(username), additional_claims={"role": role})


def is_admin() -> bool:
    """True when the request carries a valid token of a user whose stored role is admin (a
    public route that shows admins more; no token, or a bad one, is simply not an admin)."""
    try:
        verify_jwt_in_request(optional=True)
    except Exception:  # any token problem: answered as the public, never as an error
        return False
    return (get_current_user() or {}).get("role") == "admin"


PUBLIC_SCOPE = "public"


def _public_limit() -> str:
    return current_app.config["SYNCQ_SETTINGS"].public_rate_limit or "1/second"


def _no_public_limit() -> bool:
    return not current_app.config["SYNCQ_SETTINGS"].public_rate_limit


def public_limit(view: Callable) -> Callable:
    """Limit a public route per client address, across every public route (SYNCQ_PUBLIC_RATE_LIMIT).
    With no limit set the view is called directly: the limiter's own checks cost a hot read more
    than the read itself."""
    limited = limiter.shared_limit(_public_limit, scope=PUBLIC_SCOPE, exempt_when=_no_public_limit)(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if _no_public_limit():
            return view(*args, **kwargs)
        return limited(*args, **kwargs)

    return wrapper


def admin_required(view: Callable) -> Callable:
    """Let a request through only with a valid token whose user exists and has role admin."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        # The stored role decides, not the token's claim: a user made non-admin loses admin
        # routes at once, and a token minted with a role its user lacks gains nothing.
        if (get_current_user() or {}).get("role") != "admin":
            return forbidden()
        return view(*args, **kwargs)

    return wrapper


def _login_limit() -> str:
    settings = current_app.config["SYNCQ_SETTINGS"]
    return f"{settings.login_max_attempts} per {settings.login_window} seconds"


def _username() -> str:
    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return f"user:{name[:64]}" if isinstance(name, str) else "user:"


def _failed(response) -> bool:
    return response.status_code == 401


@bp.post("/auth/login")
@limiter.limit(_login_limit, key_func=_username, deduct_when=_failed)
@limiter.limit(_login_limit, key_func=get_remote_address, deduct_when=_failed)
@doc(200, errors=(401, 429), json=Login, tags=("auth",))
def login():
    """Exchange a username and password for a Bearer access token."""
    body = json_body(Login)
    user = users.authenticate(body.username, body.password)
    if user is None:
        raise ApiError(401, "Invalid username or password")
    settings = current_app.config["SYNCQ_SETTINGS"]
    return jsonify(
        {
            "access_token": issue_token(user["username"], user["role"]),
            "token_type": "Bearer",
            "expires_in": settings.jwt_expires,
        }
    )
