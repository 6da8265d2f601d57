"""The public routes' per-client limit (SYNCQ_PUBLIC_RATE_LIMIT), kept by Flask-Limiter in Redis.

Every public read shares one limit per client address (its `scope`), so that a crowd of readers
cannot tip the API over; over it a client gets 429 with `Retry-After`. With no limit set the routes
are called directly.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from flask import Flask, current_app
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from api.errors import error_response
from core.settings import Settings

SCOPE = "public"
# Counted in Redis so every API process shares one count; with Redis down nothing is limited.
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask, settings: Settings) -> None:
    """Configure the limiter on `app` and answer its 429s."""
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 2, "socket_timeout": 5},
        RATELIMIT_KEY_PREFIX=f"syncq-{settings.queue}-public",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        response = error_response(429, "Too many requests; try again later")
        reset = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 1
        response.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
        return response


def _limit() -> str:
    return current_app.config["SYNCQ_SETTINGS"].public_rate_limit or "1/second"


def _no_limit() -> bool:
    return not current_app.config["SYNCQ_SETTINGS"].public_rate_limit


def public_limit(view: Callable) -> Callable:
    """Limit a public route per client address, across every public route. With no limit set the
    view is called directly: the limiter's own checks would cost a hot read more than the read."""
    limited = limiter.shared_limit(_limit, scope=SCOPE, exempt_when=_no_limit)(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if _no_limit():
            return view(*args, **kwargs)
        return limited(*args, **kwargs)

    return wrapper
