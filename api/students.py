"""Student routes (admin token for all): CRUD, submissions, and the per-student sync."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask_jwt_extended import get_jwt_identity

import store.students as students_store
from api import outcomes
from api.auth import admin_required
from api.csvout import csv_response, wants_csv
from api.errors import ApiError
from api.jobs import trigger
from api.openapi import doc
from api.schemas import (
    StatsQuery,
    StudentDocument,
    StudentIn,
    StudentPatch,
    StudentsQuery,
    StudentSyncQuery,
    SubmissionsQuery,
    WaitQuery,
)
from api.validation import json_body
from jobs import kinds, service
from store.stats import student_stats
from syncs import cache
from syncs.students import public

bp = Blueprint("students", __name__)

HANDLE = re.compile(r"^[A-Za-z0-9_.-]{3,24}$")
CSV_COLUMNS = [
    "name",
    "email",
    "phone",
    "codeforcesHandle",
    "currRating",
    "maxRating",
    "rank",
    "maxRank",
    "lastActiveAt",
    "lastSyncedAt",
    "createdAt",
]


def valid_handle(handle: str) -> str:
    """The handle, or a 400 saying what a handle may be."""
    if not isinstance(handle, str) or not HANDLE.match(handle):
        raise ApiError(400, "A Codeforces handle is 3 to 24 characters of A-Z, a-z, 0-9, '_', '.' and '-'")
    return handle


def _student_or_404(handle: str) -> dict:
    student = students_store.get(valid_handle(handle))
    if student is None:
        raise ApiError(404, f"No student with Codeforces handle {handle}")
    return student


@bp.post("/api/students")
@admin_required
@doc(201, admin=True, errors=(409,), json=StudentIn, tags=("students",))
def create_student():
    """Create a student and enqueue its first sync: 201 with the student and the job."""
    body = json_body(StudentIn)
    handle = valid_handle(body.codeforcesHandle)
    try:
        students_store.create(body.name, body.email, handle, body.phone)
    except students_store.StudentExists:
        raise ApiError(409, f"A student with Codeforces handle {handle} already exists") from None
    try:
        queued = service.enqueue(kinds.STUDENTS_SYNC, {"handle": handle}, trigger="api", user=get_jwt_identity())
        job: dict | None = outcomes.short_envelope(queued.job, queued.deduplicated)
        extra = {}
    except service.BrokerUnavailable as exc:
        # The student is saved either way: a 503 would have a client retry into a 409. Say why its
        # first sync waits (the nightly background sync, or POST /api/codeforces/sync/<handle>).
        job, extra = (
            None,
            {
                "warning": f"created, but its first sync could not be queued: {exc}; "
                f"POST /api/codeforces/sync/{handle} once the queue is back"
            },
        )
    response = jsonify({"student": public(students_store.get(handle)), "job": job, **extra})
    response.status_code = 201
    response.headers["Location"] = f"/api/students/{handle}"
    return response


@bp.get("/api/students")
@admin_required
@doc(200, admin=True, query=StudentsQuery, tags=("students",))
def list_students():
    """Students, `?sort=name|rating|solved&limit=&cursor=&inactiveDays=N&minRating=&maxRating=`;
    `?format=csv` (or `Accept: text/csv`) answers every matching student as CSV."""
    query = request.context.query
    sort, inactive, low, high = query.sort or "name", query.inactiveDays, query.minRating, query.maxRating
    if low is not None and high is not None and low > high:
        raise ApiError(400, "'minRating' must not be above 'maxRating'")
    if wants_csv():
        return csv_response(CSV_COLUMNS, _every_student(sort, inactive, low, high), "students.csv")
    try:
        items, next_cursor = students_store.list_students(sort, query.limit or 50, query.cursor, inactive, low, high)
    except students_store.BadCursor as exc:
        raise ApiError(400, f"'cursor' is invalid: {exc}") from None
    return jsonify({"students": [public(s) for s in items], "count": len(items), "next_cursor": next_cursor})


def _every_student(sort: str, inactive: int | None, low: int | None, high: int | None) -> list[dict]:
    """Every student the filters match, read a page at a time (the CSV export has no pages)."""
    rows, cursor = [], None
    while True:
        items, cursor = students_store.list_students(sort, 200, cursor, inactive, low, high)
        rows += items
        if cursor is None:
            return rows


@bp.get("/api/students/<handle>")
@admin_required
@doc(200, admin=True, errors=(404,), tags=("students",))
def get_student(handle: str):
    """One student."""
    return jsonify(public(_student_or_404(handle)))


@bp.patch("/api/students/<handle>")
@admin_required
@doc(200, admin=True, errors=(404,), json=StudentPatch, tags=("students",))
def patch_student(handle: str):
    """Change name, email, phone or the Codeforces handle (a renamed account keeps its data)."""
    student = _student_or_404(handle)
    body = json_body(StudentPatch)
    unknown = set(body.model_extra or ())
    if unknown:
        raise ApiError(
            400, f"Only name, email, phone, reminders and codeforcesHandle can change; not {', '.join(sorted(unknown))}"
        )
    # null name or email changes nothing; a null phone clears it; reminders (inactivity reminder
    # emails, syncs.reminders) are opted in unless false
    fields = {
        key: value
        for key, value in body.model_dump(exclude_unset=True, include={"name", "email"}).items()
        if value is not None
    }
    fields.update(body.model_dump(exclude_unset=True, include={"phone", "reminders"}))
    if body.codeforcesHandle is not None:
        new_handle = valid_handle(body.codeforcesHandle)
        try:
            students_store.change_handle(student["codeforcesHandle"], new_handle)
        except students_store.StudentExists:
            raise ApiError(409, f"A student with Codeforces handle {new_handle} already exists") from None
        cache.invalidate(student["codeforcesHandle"])
        handle = new_handle
    return jsonify(public(students_store.update_fields(handle, fields)))


@bp.delete("/api/students/<handle>")
@admin_required
@doc(200, admin=True, errors=(404,), tags=("students",))
def delete_student(handle: str):
    """Delete a student, its submissions and its cache keys."""
    student = _student_or_404(handle)
    students_store.delete(student["codeforcesHandle"])
    cache.invalidate(student["codeforcesHandle"])
    return jsonify({"message": f"Deleted student {student['codeforcesHandle']}"})


@bp.get("/api/students/<handle>/submissions")
@admin_required
@doc(200, admin=True, errors=(404,), query=SubmissionsQuery, tags=("students",))
def submissions(handle: str):
    """A student's submissions, newest first: `?verdict=&limit=&cursor=`."""
    student = _student_or_404(handle)
    query = request.context.query  # verdict and cursor: patterns of the schema
    items, next_cursor = students_store.list_submissions(
        student["codeforcesHandle"], query.verdict, query.limit or 100, int(query.cursor) if query.cursor else None
    )
    return jsonify(
        {"submissions": items, "count": len(items), "next_cursor": str(next_cursor) if next_cursor else None}
    )


@bp.get("/api/students/<handle>/stats")
@admin_required
@doc(200, admin=True, errors=(404,), query=StatsQuery, tags=("students",))
def stats(handle: str):
    """A student's statistics over the last `?days=30|90|365` (default 30), from the monthly
    aggregates its syncs keep (a few documents, whatever its number of submissions)."""
    # Only what the statistics use: the student document also holds its newest submissions.
    student = students_store.get(valid_handle(handle), fields=("codeforcesHandle", "contestData"))
    if student is None:
        raise ApiError(404, f"No student with Codeforces handle {handle}")
    days = request.context.query.days or "30"
    # The app's JSON provider writes its datetimes (no walk over the heatmap to convert them first).
    return jsonify(student_stats(student["codeforcesHandle"], int(days), student.get("contestData")))


@bp.post("/api/codeforces/sync/<handle>")
@admin_required
@doc(200, admin=True, job=True, answers=StudentDocument, errors=(404,), query=StudentSyncQuery, tags=("students",))
def sync_student(handle: str):
    """Refresh one student's profile, rating history and submissions from Codeforces, bypassing the
    cache: the updated student document, or 500 `Sync failed: ...`; 404 before any call if unknown."""
    student = _student_or_404(handle)
    full = (request.context.query.full or "false").lower()
    return trigger(kinds.STUDENTS_SYNC, {"handle": student["codeforcesHandle"], "full": full in ("true", "1")})


@bp.post("/api/students/sync")
@admin_required
@doc(200, admin=True, job=True, query=WaitQuery, tags=("students",))
def sync_all():
    """Run the background sync of every student now (reads through the cache)."""
    return trigger(kinds.STUDENTS_SYNC_ALL)
