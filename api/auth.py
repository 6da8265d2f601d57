"""Authentication: `POST /auth/login`, `POST /auth/logout`, JWT checks and the `admin_required`
decorator.

A token carries its user's token version (claim `ver`): a password change, a role change and a
logout move the stored version on, which ends every token issued before (the check reads the
user each request already reads). Login throttling lives in `api.login_guard`.

Every token problem answers exactly `{"statusCode":401,"message":"Unauthorized"}` (never
flask-jwt-extended's 422) and a non-admin token on an admin route exactly
`{"statusCode":403,"message":"Forbidden resource"}`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_jwt_extended import JWTManager, create_access_token, get_current_user, verify_jwt_in_request

import store.users as users
from api import login_guard
from api.errors import ApiError, error_response
from api.openapi import doc
from api.schemas import Login
from api.validation import json_body
from core.settings import Settings

bp = Blueprint("auth", __name__)
jwt = JWTManager()


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
    jwt.init_app(app)

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
        # A token outlives nothing: a deleted user's tokens stop working at once, and so do the
        # tokens issued before its password, its role or a logout moved its version on.
        user = users.get(str(payload.get("sub")))
        if user is None or payload.get("ver", 0) != users.token_version(user):
            return None
        return user


def issue_token(username: str, role: str, *, version: int, expires: timedelta | None = None) -> str:
    """A signed access token for `username` with claims `role` and `ver` (the user's token version,
    `store.users.token_version`), living `expires` (default SYNCQ_JWT_EXPIRES); inside an app context."""
    claims = {"role": role, "ver": version}
    if expires is None:
        return create_access_token(identity=str(username), additional_claims=claims)
    return create_access_token(identity=str(username), additional_claims=claims, expires_delta=expires)


def is_admin() -> bool:
    """True when the request carries a valid token of a user whose stored role is admin (a
    public route that shows admins more; no token, or a bad one, is simply not an admin)."""
    try:
        verify_jwt_in_request(optional=True)
    except Exception:  # any token problem: answered as the public, never as an error
        return False
    return (get_current_user() or {}).get("role") == "admin"


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


def _too_many(seconds: int):
    response = error_response(429, "Too many failed login attempts; try again later")
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.post("/auth/login")
@doc(200, errors=(401, 429), json=Login, tags=("auth",))
def login():
    """Exchange a username and password for a Bearer access token. Repeated failures answer 429
    with `Retry-After`: per address and account, per address, and (slowing many addresses guessing
    one account) per account, never for an address that has not failed."""
    body = json_body(Login)
    settings = current_app.config["SYNCQ_SETTINGS"]
    address = request.remote_addr or ""
    wait = login_guard.wait_before(settings, body.username, address)
    if wait is not None:
        return _too_many(wait)
    user = users.authenticate(body.username, body.password)
    if user is None:
        login_guard.failed(settings, body.username, address)
        raise ApiError(401, "Invalid username or password")
    login_guard.succeeded(settings, body.username, address)
    return jsonify(
        {
            "access_token": issue_token(user["username"], user["role"], version=users.token_version(user)),
            "token_type": "Bearer",
            "expires_in": settings.jwt_expires,
        }
    )


@bp.post("/auth/logout")
@doc(200, errors=(401,), tags=("auth",))
def logout():
    """End every token of the caller's account issued until now (this one too), on every device."""
    verify_jwt_in_request()
    username = get_current_user()["username"]
    users.end_tokens(username)
    return jsonify({"status": "logged_out", "username": username})
