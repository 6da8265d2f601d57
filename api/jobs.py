"""Jobs: the trigger helper every sync route uses, and the `/jobs` routes that poll them."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request
from flask_jwt_extended import get_jwt_identity

import store.jobs as jobs_store
from api.auth import admin_required
from api.errors import ApiError
from api.validation import int_arg, json_object, wait_arg
from workers import jobs

bp = Blueprint("jobs", __name__)

_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
TRIGGER_HEADER = "X-Syncq-Trigger"


def envelope(job: dict[str, Any]) -> dict[str, Any]:
    """The public view of a job record."""
    return {
        "job_id": job["_id"], "kind": job.get("kind"), "state": job.get("state", "PENDING"),
        "progress": job.get("progress"), "result": job.get("result"), "error": job.get("error"),
        "trigger": job.get("trigger"), "created_at": job.get("created_at"),
        "started_at": job.get("started_at"), "finished_at": job.get("finished_at"),
        "params": job.get("params"), "retry_of": job.get("retry_of"),
    }


def _status_url(job_id: str) -> str:
    # What url_for("jobs.get_job") builds, without its cost on every trigger (ids are URL-safe).
    return f"{request.script_root}/jobs/{job_id}"


def accepted(job: dict[str, Any], deduplicated: bool = False):
    """202 with the short job envelope and a Location header."""
    body = {"job_id": job["_id"], "kind": job.get("kind"), "state": job.get("state", "PENDING"),
            "status_url": _status_url(job["_id"])}
    if deduplicated:
        body["deduplicated"] = True
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["status_url"]
    return response


def finished_or_accepted(job_id: str, wait: float, deduplicated: bool = False, job: dict | None = None):
    """After waiting up to `wait` s: the job's own result body, or 202 with its envelope."""
    if wait > 0:
        job = jobs.wait_for(job_id, wait) or job
    if job is not None and jobs.is_finished(job):
        status, body = jobs.response_for(job)
        response = jsonify(body)
        response.status_code = status
        return response
    return accepted(job or {"_id": job_id}, deduplicated)


def trigger(kind: str, params: dict[str, Any] | None = None):
    """Enqueue a job of `kind` for the current request and answer per the job contract."""
    wait = wait_arg()
    source = (request.headers.get(TRIGGER_HEADER) or "api").lower()
    queued = jobs.enqueue(kind, params or {}, trigger=source if source in ("api", "cli") else "api",
                          user=get_jwt_identity())
    return finished_or_accepted(queued.job["_id"], wait, queued.deduplicated, queued.job)


def _job_or_404(job_id: str) -> dict[str, Any]:
    job = jobs_store.get(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise ApiError(404, f"No job with id {job_id}")
    return job


@bp.get("/jobs")
@admin_required
def list_jobs():
    """Recent jobs, newest first: `?kind=` filters, `?limit=` 1 to 100 (default 20)."""
    kind = request.args.get("kind") or None
    if kind is not None and not re.fullmatch(r"[a-z_.]{1,64}", kind):
        raise ApiError(400, "'kind' must be a job kind such as contests.sync_all")
    limit = int_arg("limit", 20, 1, 100)
    items = [envelope(job) for job in jobs_store.recent(kind, limit)]
    return jsonify({"jobs": items, "count": len(items)})


@bp.get("/jobs/<job_id>")
@admin_required
def get_job(job_id: str):
    """One job; `?wait=N` waits up to N s and then answers its result body once finished."""
    wait = wait_arg()
    job = jobs.reconcile(_job_or_404(job_id))
    if wait > 0:
        job = jobs.wait_for(job_id, wait) or job
        if jobs.is_finished(job):
            return finished_or_accepted(job_id, 0, job=job)
        response = jsonify(envelope(job))
        response.status_code = 202
        return response
    return jsonify(envelope(job))


@bp.post("/jobs/ping")
@admin_required
def ping_job():
    """Enqueue a trivial job (checks that workers are alive end to end).

    Optional JSON body: `{"echo": <any JSON>, "delay": <seconds, 0 to 30>}`.
    """
    params: dict[str, Any] = {}
    if request.data:
        body = json_object()
        if "echo" in body:
            params["echo"] = body["echo"]
        delay = body.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 30:
            raise ApiError(400, "'delay' must be a number of seconds from 0 to 30")
        if delay:
            params["delay"] = delay
    return trigger("ping", params)


@bp.post("/jobs/<job_id>/retry")
@admin_required
def retry_job(job_id: str):
    """Re-run a finished job with the same parameters, as a new job linked to the old one."""
    old = _job_or_404(job_id)
    if not jobs.is_finished(old):
        raise ApiError(409, f"Job {job_id} is still {old.get('state')}; retry it once it has ended")
    wait = wait_arg()
    queued = jobs.enqueue(old["kind"], old.get("params") or {}, trigger="api",
                          user=get_jwt_identity(), retry_of=job_id)
    return finished_or_accepted(queued.job["_id"], wait, queued.deduplicated, queued.job)
