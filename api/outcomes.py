"""What a job answers over HTTP: the status and body of its end (each kind's failure answer is in
the job catalog, `jobs.kinds`), and the envelope of a job still running."""

from __future__ import annotations

from typing import Any

from flask import request

from jobs import kinds


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
    """(status, body) of a finished job: its result, 503 if the broker never took it, or its kind's failure answer."""
    if job.get("state") == "SUCCESS":
        return 200, job.get("result")
    message = job.get("error") or "Job failed"
    if job.get("error_code") == "broker_unavailable":
        return 503, {"statusCode": 503, "message": message}
    kind = kinds.KINDS.get(job.get("kind") or "")
    return (kind.failed if kind else kinds.failed_answer)(job)
