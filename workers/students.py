"""Student tasks: one student's sync, and the background sync of every student."""

from __future__ import annotations

from typing import Any

import store
from core.settings import get_settings
from syncs import students
from workers.celery_app import app

_limits = get_settings()


@app.task(
    name="syncq.students.sync_student",
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    soft_time_limit=_limits.student_time_limit,
    time_limit=_limits.student_time_limit + 30,
)
def sync_student(handle: str, full: bool = False, use_cache: bool = False, job_id: str | None = None) -> dict[str, Any]:
    """Sync one student, bypassing the cache unless `use_cache`; returns the student document."""
    return students.sync_one(handle, use_cache=use_cache, full=full)


@app.task(
    name="syncq.students.sync_all",
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    max_retries=4,
    soft_time_limit=_limits.students_all_time_limit,
    time_limit=_limits.students_all_time_limit + 60,
)
def sync_all(job_id: str | None = None) -> dict[str, Any]:
    """The background sync of every student."""
    return students.sync_all()
