"""`JobTask`: the Celery task base whose runs keep their job record in MongoDB current.

A task runs either as a whole job (its return value is the job's result) or as one step
of a chained job (kwarg `step` given; the chain's last task finishes the job). A task run
with no `job_id` (from Flower's task-apply API) records a job of its own, trigger `flower`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

import store
import store.jobs as jobs_store
from adapters.errors import SyncError
from store.util import utcnow
from workers import jobs
from workers.startmarks import StartMarks

log = logging.getLogger(__name__)

# This process's jobs whose STARTED mark waits a moment (workers.startmarks).
start_marks = StartMarks(lambda job_id, at: jobs_store.mark_started(job_id, at, keep_progress=True))


class JobFailed(Exception):
    """A job ends in FAILURE with this message; `status`/`body` are what `?wait=` answers."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


def error_message(exc: BaseException) -> str:
    """A one-line, user-safe description of why something failed."""
    if isinstance(exc, (JobFailed, SyncError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class JobTask(Task):
    """Base for every syncq task; set `job_kind` to the kind a Flower-started run records."""

    job_kind: str | None = None
    # False for a task that starts a job's work but does not end it (a fan-out launcher).
    finishes_job: bool = True
    # Extra attempts when the store or the broker hiccups (not when a sync fails for good).
    max_retries = 3
    # A job's state and result live in its MongoDB record, so Celery's result backend keeps only
    # failures (what `workers.jobs.reconcile` reads when the store was down to record one). Storing
    # every result too cost a job 4 Redis round trips in the worker (STARTED and SUCCESS, each a
    # read, a write and a publish) and 2 more in the API (subscribing to, then dropping, the
    # result's channel), duplicating what the job record already says.
    ignore_result = True
    store_errors_even_if_ignored = True

    def job_id(self, kwargs: dict[str, Any] | None = None) -> str:
        """The job this run belongs to: the `job_id` kwarg, else its own task id."""
        kwargs = self.request.kwargs if kwargs is None else kwargs
        return (kwargs or {}).get("job_id") or self.request.id

    @staticmethod
    def is_step(kwargs: dict[str, Any] | None) -> bool:
        return (kwargs or {}).get("step") is not None

    def params_from(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The job params a Flower-started run is recorded with (override per task)."""
        params = {k: v for k, v in (kwargs or {}).items() if k not in ("job_id", "step", "total")}
        if args:
            params["args"] = list(args)
        return params

    def ends_its_job(self, kwargs: dict[str, Any] | None) -> bool:
        """True when this run's end is its job's end (a whole job, not a step or a launcher)."""
        return self.finishes_job and not self.is_step(kwargs)

    def before_start(self, task_id, args, kwargs):
        job_id = (kwargs or {}).get("job_id")
        try:
            if job_id is None and self.job_kind:
                job_id = task_id
                jobs_store.ensure(job_id, self.job_kind, self.params_from(args, kwargs),
                                  (kwargs or {}).get("trigger") or "flower")
            if job_id and self.ends_its_job(kwargs):
                # Written once the run has lasted a moment; an end sooner records the start itself.
                start_marks.started(job_id, utcnow())
            elif job_id:
                jobs_store.mark_started(job_id)
        except store.UNAVAILABLE:
            # Bookkeeping must not stop the run: the task's own store calls retry with backoff.
            log.warning("job %s: MongoDB unavailable to mark it started", job_id)

    def on_success(self, retval, task_id, args, kwargs):
        if not self.ends_its_job(kwargs):
            return
        self.finish_job(self.job_id(kwargs), retval)

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        started = start_marks.ended(self.job_id(kwargs))  # not running until the retry starts again
        try:
            jobs_store.mark_retry(self.job_id(kwargs), error_message(exc), started_at=started)
        except store.UNAVAILABLE:
            log.warning("job %s: retrying (%s); MongoDB unavailable to record it", self.job_id(kwargs),
                        error_message(exc))

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_id = self.job_id(kwargs)
        status = getattr(exc, "status", None) if isinstance(exc, JobFailed) else None
        body = getattr(exc, "body", None) if isinstance(exc, JobFailed) else None
        log.warning("job %s failed: %s", job_id, error_message(exc))
        try:
            jobs_store.fail(job_id, error_message(exc), status=status, body=body,
                            started_at=start_marks.ended(job_id))
        except store.UNAVAILABLE:
            # MongoDB is down too: Celery's result keeps the failure, and the job is marked
            # from it when next read (workers.jobs.reconcile).
            log.error("job %s failed and MongoDB is unavailable to record it", job_id)
        self._ended(job_id, "FAILURE")

    def finish_job(self, job_id: str, result: Any) -> None:
        """Mark the job SUCCESS with `result`, release its guard and tell waiters."""
        jobs_store.finish(job_id, result, started_at=start_marks.ended(job_id))
        self._ended(job_id, "SUCCESS")

    def _ended(self, job_id: str, state: str) -> None:
        jobs.job_ended(job_id, state)
