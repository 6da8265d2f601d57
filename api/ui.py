"""The operator's web UI: static files under `api/static/ui/`, served at `/ui/` (`/` redirects there).

Nothing is built at run time: plain ES modules and vendored libraries (`scripts/vendor-ui.sh`).
Every UI response carries a strict Content-Security-Policy (scripts and styles from this origin
only: no inline script, no eval) and cache headers: vendored files live under a versioned folder
and never change, so browsers keep them; the app's own files are revalidated by ETag each load,
so an upgrade of syncq is seen at once without a build step that renames files.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, send_from_directory
from werkzeug.exceptions import NotFound

from api.errors import ApiError
from api.openapi import doc

bp = Blueprint("ui", __name__)

ROOT = Path(__file__).parent / "static" / "ui"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
VENDOR_MAX_AGE = 365 * 24 * 3600


def _secured(response, cache_control: str):
    # Read into memory (the files are small): the OpenAPI layer reads each response's body.
    response.direct_passthrough = False
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/")
@doc(302, tags=("ui",))
def root():
    """The UI lives at /ui/."""
    return redirect("/ui/", code=302)


@bp.get("/ui/")
@doc(200, 304, tags=("ui",))
def index():
    """The UI's single page."""
    response = send_from_directory(ROOT, "index.html", max_age=0, etag=True, conditional=True)
    return _secured(response, "no-cache")


@bp.get("/ui/config.json")
@doc(200, tags=("ui",))
def config():
    """What the UI needs from the server's settings (nothing secret): Flower's address."""
    settings = current_app.config["SYNCQ_SETTINGS"]
    return _secured(jsonify({"flowerUrl": getattr(settings, "flower_url", "") or None}), "no-cache")


@bp.get("/ui/<path:filename>")
@doc(200, 304, errors=(404,), tags=("ui",))
def asset(filename: str):
    """A static file of the UI; vendored (versioned) files are cached for a year."""
    try:
        response = send_from_directory(ROOT, filename, etag=True, conditional=True, max_age=0)
    except NotFound:
        raise ApiError(404, "Not found") from None
    immutable = filename.startswith("vendor/") and filename.count("/") >= 2
    return _secured(response, f"public, max-age={VENDOR_MAX_AGE}, immutable" if immutable else "no-cache")
