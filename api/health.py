"""`GET /health`: is the API able to reach Redis and MongoDB, and how is each source syncing?"""

from __future__ import annotations

from flask import Blueprint, jsonify

import store
from adapters import registry
from api.openapi import doc
from core.redisconn import get_redis
from syncs import health as source_health

bp = Blueprint("health", __name__)


@bp.get("/health")
@doc(200, own_bodies=(503,), tags=("health",))
def health():
    """200 `{"status":"ok","redis":"ok","mongodb":"ok","sources":{...}}`, or 503 naming what is down.

    `sources` gives each source's health and reason; a failing or stale source is reported there
    and never fails this check, which says whether the API itself can serve (liveness). `plugins`
    names each source plugin that could not be loaded, and why."""
    checks = {}
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:  # any failure means "down" here, whatever its type
        checks["redis"] = f"down: {type(exc).__name__}"
    try:
        store.ping()
        checks["mongodb"] = "ok"
    except Exception as exc:
        checks["mongodb"] = f"down: {type(exc).__name__}"
    ok = all(value == "ok" for value in checks.values())
    down = [name for name, value in checks.items() if value != "ok"]
    body = {"status": "ok" if ok else "degraded", **checks}
    if not ok:
        body["message"] = f"{' and '.join(down)} unavailable"
    if checks["mongodb"] == "ok":
        body["sources"] = _sources()
    broken = registry.plugin_errors()
    if broken:  # information, like the sources: a broken plugin never fails the check
        body["plugins"] = {name: {"loaded": False, "error": error} for name, error in broken.items()}
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    return response


def _sources() -> dict:
    try:
        return {
            name: {
                "health": state["health"],
                "reason": state["reason"],
                "since": state["since"],
                "lastSuccessAt": state["lastSuccessAt"],
                "consecutiveFailures": state["consecutiveFailures"],
            }
            for name, state in source_health.all_sources().items()
        }
    except Exception as exc:  # source health is information here, never a reason to fail the check
        return {"error": f"unavailable: {type(exc).__name__}"}
