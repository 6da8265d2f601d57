"""Jobs over HTTP: how a trigger answers (wait for the job, or 202 at once), and the `/jobs` routes.

A trigger sent with no preference waits for its job up to `SYNCQ_SYNC_WAIT` and answers the
job's own body (the API contract in the README); RFC 7240's `Prefer: respond-async` answers
`202` at once, `Prefer: wait=N` bounds the wait, and `Preference-Applied` says what was done.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_jwt_extended import get_jwt_identity

import store.jobs as jobs_store
from api import outcomes
from api.auth import admin_required
from api.errors import ApiError
from api.openapi import doc
from api.schemas import JobsQuery, PingIn, WaitQuery
from api.validation import json_body
from jobs import kinds, service

bp = Blueprint("jobs", __name__)

_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
TRIGGER_HEADER = "X-Syncq-Trigger"
RETRY_AFTER_S = 2


def preferences() -> dict[str, str]:
    """The request's `Prefer` preferences (RFC 7240), names lower-cased, parameters dropped."""
    found: dict[str, str] = {}
    for header in request.headers.getlist("Prefer"):
        for item in header.split(","):
            name, _, value = item.split(";", 1)[0].strip().partition("=")
            if name:
                found.setdefault(name.strip().lower(), value.strip().strip('"'))
    return found


def chosen_wait(default: float) -> tuple[float, str | None]:
    """(seconds to wait, the preference applied): `Prefer: wait=N`, else `?wait=N`, else
    `Prefer: respond-async` (no wait), else `default`. A `wait` that is not a number of seconds
    is ignored, as RFC 7240 asks of a preference the server cannot honour."""
    prefer = preferences()
    limit = current_app.config["SYNCQ_SETTINGS"].sync_wait
    asked = _seconds(prefer.get("wait"))
    if asked is not None:
        wait = min(asked, max(limit, 60.0))
        return wait, f"wait={wait:g}"
    if request.context.query.wait is not None:  # every trigger's query schema has `wait`
        return request.context.query.wait, None
    if "respond-async" in prefer:
        return 0.0, "respond-async"
    return default, None


def _seconds(value: str | None) -> float | None:
    """`value` as a number of seconds (finite, not negative); None for anything else."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):  # absent, or not a number
        return None
    return seconds if 0 <= seconds < math.inf else None


def _preferred(response, applied: str | None):
    """`response` saying which preference it applied; it varies with `Prefer` (for caches)."""
    if applied:
        response.headers["Preference-Applied"] = applied
    response.vary.add("Prefer")
    return response


def _accepted(job: dict[str, Any], deduplicated: bool, applied: str | None):
    response = jsonify(outcomes.short_envelope(job, deduplicated))
    response.status_code = 202
    response.headers["Location"] = outcomes.status_url(job["_id"])
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return _preferred(response, applied)


def answer(
    job_id: str, wait: float, applied: str | None, *, deduplicated: bool = False, job: dict[str, Any] | None = None
):
    """After waiting up to `wait` s: the job's own status and body, or 202 with its envelope."""
    if wait > 0:
        job = service.wait_for(job_id, wait) or job
    if job is not None and service.is_finished(job):
        status, body = outcomes.finished(job)
        response = jsonify(body)
        response.status_code = status
        return _preferred(response, applied)
    return _accepted(job or {"_id": job_id}, deduplicated, applied)


def trigger(kind: str, params: dict[str, Any] | None = None):
    """Enqueue a job of `kind` for the current request and answer as the client preferred."""
    wait, applied = chosen_wait(current_app.config["SYNCQ_SETTINGS"].sync_wait)
    source = (request.headers.get(TRIGGER_HEADER) or "api").lower()
    queued = service.enqueue(
        kind, params or {}, trigger=source if source in ("api", "cli") else "api", user=get_jwt_identity()
    )
    return answer(queued.job["_id"], wait, applied, deduplicated=queued.deduplicated, job=queued.job)


def _job_or_404(job_id: str) -> dict[str, Any]:
    job = jobs_store.get(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise ApiError(404, f"No job with id {job_id}")
    return job


@bp.get("/jobs")
@admin_required
@doc(200, admin=True, query=JobsQuery, tags=("jobs",))
def list_jobs():
    """Recent jobs, newest first: `?kind=` filters, `?limit=` 1 to 100 (default 20)."""
    query = request.context.query
    items = [outcomes.envelope(job) for job in jobs_store.recent(query.kind, query.limit or 20)]
    return jsonify({"jobs": items, "count": len(items)})


@bp.get("/jobs/<job_id>")
@admin_required
@doc(200, 202, errors=(404, 502), prefer=True, query=WaitQuery, admin=True, tags=("jobs",))
def get_job(job_id: str):
    """One job; with `?wait=N` or `Prefer: wait=N`, its own result body once finished (202 before)."""
    job = _job_or_404(job_id)
    wait, applied = chosen_wait(0.0)
    if wait <= 0:
        return _preferred(jsonify(outcomes.envelope(job)), applied)
    job = service.wait_for(job_id, wait) or job
    if service.is_finished(job):
        return answer(job_id, 0, applied, job=job)
    response = jsonify(outcomes.envelope(job))
    response.status_code = 202
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return _preferred(response, applied)


@bp.post("/jobs/ping")
@admin_required
@doc(200, admin=True, job=True, json=PingIn, query=WaitQuery, tags=("jobs",))
def ping_job():
    """Enqueue a trivial job (checks that workers are alive end to end).

    Optional JSON body: `{"echo": <any JSON>, "delay": <seconds, 0 to 30>}`.
    """
    params: dict[str, Any] = {}
    body = json_body(PingIn, optional=True)
    if body is not None:
        if "echo" in body.model_fields_set:
            params["echo"] = body.echo
        if body.delay:
            params["delay"] = body.delay
    return trigger(kinds.PING, params)


@bp.post("/jobs/<job_id>/retry")
@admin_required
@doc(200, admin=True, job=True, errors=(404, 409, 502), query=WaitQuery, tags=("jobs",))
def retry_job(job_id: str):
    """Re-run a finished job with the same parameters, as a new job linked to the old one."""
    old = _job_or_404(job_id)
    if not service.is_finished(old):
        raise ApiError(409, f"Job {job_id} is still {old.get('state')}; retry it once it has ended")
    wait, applied = chosen_wait(current_app.config["SYNCQ_SETTINGS"].sync_wait)
    queued = service.enqueue(
        old["kind"], old.get("params") or {}, trigger="api", user=get_jwt_identity(), retry_of=job_id
    )
    return answer(queued.job["_id"], wait, applied, deduplicated=queued.deduplicated, job=queued.job)
