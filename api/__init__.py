"""syncq's HTTP API: `flask --app api run`, or `gunicorn 'api:create_app()'`.

The API only authenticates, validates, enqueues and reads: every sync runs in a worker.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date, datetime
from typing import Any

from bson import ObjectId
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from core.settings import Settings, get_settings
from store.util import iso

BLUEPRINTS = (
    "api.auth",
    "api.health",
    "api.jobs",
    "api.contests",
    "api.students",
    "api.raida",
    "api.events",
    "api.metrics",
    "api.webhooks",
    "api.feeds",
    "api.schedules",
    "api.ui",
    "api.openapi",
)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, keeping key order and writing datetimes and ObjectIds readably."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return iso(o)
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, ObjectId):
            return str(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # A body nested thousands deep fits in the size limit but overflows the parser's stack:
        # as a ValueError, Flask answers it like any other malformed JSON (a 400), not a 500.
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(settings: Settings | None = None) -> Flask:
    """Build the API; raises ConfigError (saying why) when SYNCQ_JWT_SECRET is missing or short."""
    from api import auth, errors, front, openapi, public_limit

    settings = settings or get_settings()
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(SYNCQ_SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    if settings.trusted_proxies:
        # The client's address from X-Forwarded-For, as appended by our own proxies only: the login
        # limits and the access log then see clients, not the proxy. Without proxies it stays off,
        # or any client could name its own address.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    auth.init_app(app, settings)
    public_limit.init_app(app, settings)
    errors.register(app)

    @app.before_request
    def _refuse_large_bodies() -> None:
        # Werkzeug enforces the limit only when a view reads the body: a trigger that reads none
        # would otherwise take (and its client send) a body of any size.
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge()

    # Admin panels served from another origin (a dev server) call the API: only listed origins.
    CORS(
        app,
        origins=list(settings.cors_origins),
        allow_headers=["Authorization", "Content-Type", "Prefer"],
        expose_headers=["Location", "Retry-After", "Preference-Applied"],
        max_age=600,
    )
    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)
    openapi.init_app(app)  # the document of every route above, from their request schemas
    app.wsgi_app = front.Front(app.wsgi_app, app)  # type: ignore[method-assign]  # repeated reads, before Flask
    logging.getLogger("syncq").setLevel(settings.log_level)
    from adapters import registry

    registry.report_at_start()  # a plugin that cannot load is named now, not at its first use
    return app
