"""Student tasks: one student's sync, and the background sync of every student."""

from __future__ import annotations

from typing import Any

import store
from core.settings import get_settings
from jobs import kinds
from syncs import students
from workers.celery_app import app

_limits = get_settings()
ONE, ALL = kinds.get(kinds.STUDENTS_SYNC), kinds.get(kinds.STUDENTS_SYNC_ALL)


@app.task(
    name=ONE.task,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=4,
    **ONE.limits.task_options(_limits),
)
def sync_student(
    handle: str, full: bool = False, use_cache: bool = False, job_id: str | None = None
) -> dict[str, Any] | None:
    """Sync one student, bypassing the cache unless `use_cache`; returns the student document."""
    return students.sync_one(handle, use_cache=use_cache, full=full)


@app.task(
    name=ALL.task,
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    max_retries=4,
    **ALL.limits.task_options(_limits),
)
def sync_all(job_id: str | None = None) -> dict[str, Any]:
    """The background sync of every student."""
    return students.sync_all()
