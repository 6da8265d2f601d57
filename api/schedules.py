"""Beat schedules changed at run time (admin): list, change, and run one now.

`GET /api/schedules`, `PATCH /api/schedules/<name>` `{"cron"?, "interval"?, "timezone"?, "enabled"?}`,
`POST /api/schedules/<name>/run`. The schedules themselves are `schedules.py`; a change is stored in
Redis through RedBeat, so the running beat follows it from its next tick and a restart keeps it.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify

import schedules
from api.auth import admin_required
from api.errors import ApiError
from api.jobs import trigger
from api.openapi import doc
from api.schemas import ScheduleChange, WaitQuery
from api.validation import json_body
from jobs import service
from workers.celery_app import app as celery_app

bp = Blueprint("schedules", __name__)

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _entry_or_404(name: str) -> dict:
    try:
        if not _NAME.match(name):
            raise schedules.UnknownSchedule(name)
        return schedules.get_entry(celery_app, name)
    except schedules.UnknownSchedule:
        raise ApiError(
            404,
            f"No schedule named {name if _NAME.match(name) else 'that'}; schedules: {', '.join(schedules.names())}",
            schedules=schedules.names(),
        ) from None


@bp.get("/api/schedules")
@admin_required
@doc(200, admin=True, tags=("schedules",))
def list_schedules():
    """Every beat entry: name, task, job kind, cron (and its time zone) or interval, enabled, last and next run."""
    items = schedules.list_entries(celery_app)
    return jsonify({"schedules": items, "count": len(items)})


@bp.get("/api/schedules/<name>")
@admin_required
@doc(200, admin=True, errors=(404,), tags=("schedules",))
def get_schedule(name: str):
    """One beat entry."""
    return jsonify(_entry_or_404(name))


@bp.patch("/api/schedules/<name>")
@admin_required
@doc(200, admin=True, errors=(404,), json=ScheduleChange, tags=("schedules",))
def change_schedule(name: str):
    """Change an entry's cron or interval (seconds), its time zone (IANA name) or its enabled flag."""
    _entry_or_404(name)
    # exclude_unset: the fields as sent, other (refused) fields too
    changes = json_body(ScheduleChange).model_dump(exclude_unset=True)
    try:
        return jsonify(schedules.change(celery_app, name, changes))
    except schedules.ScheduleError as exc:
        extra = {"field": exc.field} if exc.field else {}
        raise ApiError(400, str(exc), **extra) from None


@bp.post("/api/schedules/<name>/run")
@admin_required
@doc(200, admin=True, job=True, errors=(404,), query=WaitQuery, tags=("schedules",))
def run_schedule(name: str):
    """Run the entry's job now (a job like any trigger); an entry that is not a job (the webhook
    scan) is sent to the workers as it is, answering 202."""
    entry = _entry_or_404(name)
    if entry["kind"]:
        return trigger(entry["kind"])
    task_id = service.send_task(entry["task"])  # BrokerUnavailable: 503, as for a job
    response = jsonify({"job_id": task_id, "kind": None, "state": "PENDING", "task": entry["task"]})
    response.status_code = 202
    return response
