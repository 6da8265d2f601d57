"""`GET /health`: is the API able to reach Redis and MongoDB?"""

from __future__ import annotations

from flask import Blueprint, jsonify

import store
from core.redisconn import get_redis

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 `{"status":"ok","redis":"ok","mongodb":"ok"}`, or 503 naming what is down."""
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
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    return response
