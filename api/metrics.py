"""`GET /metrics`: Prometheus metrics (admin token as a bearer token, which Prometheus sends)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.auth import admin_required
from api.openapi import doc
from core import metrics
from core.redisconn import get_redis
from core.settings import get_settings
from syncs import health

bp = Blueprint("metrics", __name__)

_COLLECTORS = (
    metrics.QueueCollector(get_redis, lambda: [get_settings().queue]),
    metrics.SourceCollector(health.all_sources),
)


@bp.get("/metrics")
@admin_required
@doc(200, admin=True, tags=("health",))
def scrape():
    """Every metric in Prometheus's text format: sync runs, items, durations, retries, rate-limit
    waits (summed over every process), and queue lengths and source health read now."""
    body = metrics.scrape(*_COLLECTORS, other_dirs=get_settings().metrics_dirs)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
