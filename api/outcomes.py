"""What a job answers over HTTP: the seed documents' status and body for each kind's end,
and the envelope of a job still running."""

from __future__ import annotations

from typing import Any

from flask import request

from store.util import iso, utcnow


def envelope(job: dict[str, Any]) -> dict[str, Any]:
    """The public view of a job record (`GET /jobs/<id>`)."""
    return {
        "job_id": job["_id"],
        "kind": job.get("kind"),
        "state": job.get("state", "PENDING"),
        "progress": job.get("progress"),
        "result": job.get("result"),
        "error": job.get("error"),
        "trigger": job.get("trigger"),
        "created_at": job.get("created_at"),
        "started_at": job.get("started_at"),
        "finished_at": job.get("finished_at"),
        "params": job.get("params"),
        "retry_of": job.get("retry_of"),
    }


def status_url(job_id: str) -> str:
    """Where a job is polled (keeps the prefix the API is mounted under)."""
    return f"{request.script_root}/jobs/{job_id}"


def short_envelope(job: dict[str, Any], deduplicated: bool = False) -> dict[str, Any]:
    """What a 202 answers: the job's id, kind and state, and where to poll it."""
    body = {
        "job_id": job["_id"],
        "kind": job.get("kind"),
        "state": job.get("state", "PENDING"),
        "status_url": status_url(job["_id"]),
    }
    if job.get("progress"):
        body["progress"] = job["progress"]
    if deduplicated:
        body["deduplicated"] = True
    return body


def finished(job: dict[str, Any]) -> tuple[int, Any]:
    """(status, body) of a finished job, as its kind's seed document says."""
    if job.get("state") == "SUCCESS":
        return 200, job.get("result")
    kind, code = job.get("kind"), job.get("error_code")
    message = job.get("error") or "Job failed"
    if code == "broker_unavailable":
        return 503, {"statusCode": 503, "message": message}
    if kind == "raida.sync":
        ended = job.get("finished_at") or utcnow()
        return 502, {
            "status": "error",
            "users_synced": 0,
            "servers_synced": 0,
            "timestamp": iso(ended),
            "message": message,
            **(job.get("error_details") or {}),
        }
    if code == "not_found":
        return 404, {"statusCode": 404, "message": message}
    if kind == "students.sync" and not message.startswith("Sync failed"):
        message = f"Sync failed: {message}"
    return 500, {"statusCode": 500, "message": message}
