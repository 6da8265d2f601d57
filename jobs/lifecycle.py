"""The one place a job's life is written: started, progress, retry, step results, its end.

Wired into Celery once, by its task signals (as a Dramatiq middleware's before/after hooks):
tasks only return results or raise. A task runs as a whole job (kwarg `job_id`, or its own id
when started from Flower, which records a job of its own) or as one step of a chained job
(kwargs `job_id` and `step`); the job ends exactly once, with the first end written (a
conditional update: a redelivered task or a second last step finds it ended and does nothing).

An end that cannot be written because MongoDB is down is written later by the worker side:
`syncq.jobs.record` retries it with backoff until the store is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import current_task, shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

import store
import store.jobs as jobs_store
from core import signals as core_signals
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis
from jobs import guards, kinds

log = logging.getLogger(__name__)


def done_channel(job_id: str) -> str:
    """The Redis channel on which a job's end is announced (waiters: `jobs.service.wait_for`)."""
    return f"syncq:job-done:{job_id}"


def error_message(exc: BaseException) -> str:
    """A one-line, user-safe description of why something failed."""
    if isinstance(exc, (SoftTimeLimitExceeded, TimeLimitExceeded)):
        return "the run took longer than its time limit and was stopped"
    if getattr(exc, "user_message", False) or exc.__class__.__module__.split(".")[0] in ("syncs", "adapters"):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _job_of(task_name: str, task_id: str | None, kwargs: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """(job id, step) of a task run, or None for a task that is not a job's (launch, record)."""
    kwargs = kwargs or {}
    if kwargs.get("job_id"):
        return kwargs["job_id"], kwargs.get("step")
    if task_name in kinds.BY_TASK and task_id:
        return task_id, None
    return None


# --- the writes; each one that ends something may be retried later by `record` -----------


def started(job_id: str, step: str | None) -> None:
    """STARTED (a step: PROGRESS, naming the step, and the job's guard given its full lifetime
    again, so a chain of steps longer than one guard's lifetime keeps it)."""
    if step is None:
        jobs_store.mark_started(job_id)
        return
    try:
        _keep_guard(jobs_store.step_started(job_id, step), job_id)
    except REDIS_UNAVAILABLE:
        log.warning("job %s: guard not extended at step %s (Redis unavailable)", job_id, step)


def _keep_guard(job: dict[str, Any] | None, job_id: str) -> None:
    # A long run keeps its guard while it moves (a step starts, progress is written).
    if job and job.get("guard"):
        guards.extend(job["guard"], job_id)


def finish(job_id: str, result: Any) -> None:
    """SUCCESS with `result`, unless the job already ended."""
    if jobs_store.finish(job_id, result):
        _ended(job_id, "SUCCESS")


def fail(job_id: str, error: str, code: str | None = None, details: dict[str, Any] | None = None) -> None:
    """FAILURE with `error` (and the failure's `code` and `details`), unless the job already ended."""
    if jobs_store.fail(job_id, error, code=code, details=details):
        job = _ended(job_id, "FAILURE")
        core_signals.emit("job.failed", {"job_id": job_id, "kind": (job or {}).get("kind"), "error": error})


def end_step(job_id: str, step: str, result: Any) -> None:
    """Keep one step's result; the step that completes the plan ends the job with the combined result."""
    job = jobs_store.record_step(job_id, step, result)
    if job is None or job.get("state") in jobs_store.FINISHED:
        return
    plan = job.get("plan") or []
    results = job.get("steps") or {}
    if all(name in results for name in plan):
        kind = kinds.KINDS.get(job.get("kind", ""))
        ordered = {name: results[name] for name in plan}
        finish(job_id, kind.combine(ordered) if kind and kind.combine else ordered)


def _ended(job_id: str, state: str) -> dict[str, Any] | None:
    # Release the guard the job held and tell anyone waiting (best effort: the guard expires by
    # itself and waiters also read the store).
    job = jobs_store.get(job_id)
    try:
        if job and job.get("guard"):
            guards.release(job["guard"], job_id)
        get_redis().publish(done_channel(job_id), state)
    except REDIS_UNAVAILABLE:
        log.warning("job %s ended %s; Redis unavailable to release its guard or tell waiters", job_id, state)
    return job


WRITES: dict[str, Callable[..., None]] = {"finish": finish, "fail": fail, "end_step": end_step}


@shared_task(
    name="syncq.jobs.record",
    autoretry_for=store.UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=120,
    ignore_result=True,
)
def record(write: str, *args: Any) -> None:
    """Write a job's end that MongoDB was down for (retried until the store is back)."""
    WRITES[write](*args)


def _durably(write: str, *args: Any) -> None:
    try:
        WRITES[write](*args)
    except store.UNAVAILABLE:
        log.warning("MongoDB unavailable to record %s of job %s; retrying it in the background", write, args[0])
        record.apply_async(args=(write, *args), countdown=1)


def _best_effort(fn: Callable[..., None], *args: Any) -> None:
    # Bookkeeping of a running job must never stop its run: its own store calls retry.
    try:
        fn(*args)
    except store.UNAVAILABLE:
        log.warning("MongoDB unavailable to record %s of job %s", fn.__name__, args[0])


# --- Celery's signals ----------------------------------------------------------------------


@signals.task_prerun.connect
def _on_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **_: Any) -> None:
    run = _job_of(task.name, task_id, kwargs)
    if run is None:
        return
    job_id, step = run
    if not (kwargs or {}).get("job_id"):  # started from Flower: record the job it is
        kind = kinds.BY_TASK[task.name]
        _best_effort(jobs_store.ensure, job_id, kind.name, kind.from_call(tuple(args or ()), kwargs or {}), "flower")
    _best_effort(started, job_id, step)


@signals.task_success.connect
def _on_success(sender=None, result=None, **_: Any) -> None:
    run = _job_of(sender.name, sender.request.id, sender.request.kwargs)
    if run is None:
        return
    job_id, step = run
    if step is None:
        _durably("finish", job_id, result)
    else:
        _durably("end_step", job_id, step, result)


@signals.task_failure.connect
def _on_failure(sender=None, task_id=None, exception=None, kwargs=None, **_: Any) -> None:
    run = _job_of(sender.name, task_id, kwargs)
    if run is None:
        return
    job_id, step = run
    message = error_message(exception)
    if step is not None:
        message = f"{step}: {message}"
    log.warning("job %s failed: %s", job_id, message)
    _durably("fail", job_id, message, getattr(exception, "code", None), getattr(exception, "details", None))


@signals.task_retry.connect
def _on_retry(sender=None, request=None, reason=None, **_: Any) -> None:
    run = _job_of(sender.name, request.id, request.kwargs)
    if run is not None:
        _best_effort(
            jobs_store.mark_retry, run[0], error_message(reason) if isinstance(reason, BaseException) else str(reason)
        )


PROGRESS_EVERY_S = 0.5
_last_progress: dict[str, float] = {}  # job id -> when its progress was last written (this process)


@signals.task_postrun.connect
def _on_postrun(sender=None, task_id=None, kwargs=None, **_: Any) -> None:
    # However the run ended (success, failure, retry), its throttle entry goes with it.
    run = _job_of(sender.name, task_id, kwargs)
    if run is not None:
        _last_progress.pop(run[0], None)


@core_signals.progress.connect
def _on_progress(_sender: Any, done: int = 0, total: int | None = None, current: str | None = None) -> None:
    task = current_task
    if not task:
        return
    run = _job_of(task.name, task.request.id, task.request.kwargs)
    if run is None:
        return
    job_id = run[0]
    # A sync of thousands of students reports each one: the record is written twice a second at most.
    now = time.monotonic()
    last = _last_progress.get(job_id)  # None: this run's first report, always written
    if done != total and last is not None and now - last < PROGRESS_EVERY_S:
        return
    _last_progress[job_id] = now
    try:
        _keep_guard(jobs_store.set_progress(job_id, done, total, current), job_id)
    except (*store.UNAVAILABLE, *REDIS_UNAVAILABLE):
        log.warning("job %s: progress not recorded (store or Redis unavailable)", job_id)
