"""Enqueue a job (guard, record, hand it to the broker) and wait for its end.

The API, beat (`syncq.jobs.launch`) and `POST /jobs/<id>/retry` all enqueue here. What a job
answers over HTTP is the API's business (api/outcomes.py); this module deals in job records.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from celery import chain
from kombu.exceptions import OperationalError

import store.jobs as jobs_store
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis
from jobs import guards, kinds, lifecycle
from jobs.lifecycle import done_channel
from workers.celery_app import app

FINISHED = jobs_store.FINISHED
# A job's record is written right after its guard is taken; a holder still unrecorded this
# many seconds later never will be.
ORPHAN_AFTER = 10.0


class BrokerUnavailable(Exception):
    """The broker (or Redis, which keeps the guards) did not take the job; the API answers 503."""


@dataclass
class Enqueued:
    """The job that answers a trigger; `deduplicated` when it was already queued or running."""

    job: dict[str, Any]
    deduplicated: bool = False


def _signature(kind: kinds.Kind, params: dict[str, Any], job_id: str):
    if kind.steps is None:
        return app.signature(
            kind.task, kwargs={**kind.arguments(params), "job_id": job_id}, immutable=True, task_id=job_id
        )
    steps = [
        app.signature(kind.task, kwargs={kind.step_argument: step, "job_id": job_id, "step": step}, immutable=True)
        for step in kind.steps(params)
    ]
    return chain(*steps)


def dispatch(signature) -> None:
    """Hand a job's signature to the broker (one seam, so tests can record jobs without running them)."""
    signature.apply_async()


def _broker_down(exc: Exception) -> str:
    broker = "RabbitMQ" if app.conf.broker_url.startswith("amqp") else "Redis"
    return f"the broker ({broker}) is unavailable: {exc}"


def send_task(name: str, args: tuple = ()) -> str:
    """Send a task that is not a job (the webhook scan, one delivery) by name; its task id.

    Raises BrokerUnavailable when the broker does not take it.
    """
    try:
        return app.send_task(name, args=args).id
    except (OperationalError, *REDIS_UNAVAILABLE) as exc:
        raise BrokerUnavailable(_broker_down(exc)) from exc


def enqueue(
    kind_name: str,
    params: dict[str, Any] | None = None,
    *,
    trigger: str = "api",
    user: str | None = None,
    retry_of: str | None = None,
) -> Enqueued:
    """Record a job and hand it to the broker, or return the run of it already under way.

    Raises kinds.UnknownKind, BrokerUnavailable, or a store error when MongoDB is down.
    """
    kind = kinds.get(kind_name)
    params = dict(params or {})
    job_id = str(uuid.uuid4())
    key = kind.guard(params)
    if key:
        try:
            holder = guards.take(key, job_id)
            job = jobs_store.get(holder) if holder else None
            if holder and _stale(key, holder, job):
                holder, job = guards.take(key, job_id), None
        except REDIS_UNAVAILABLE as exc:
            raise BrokerUnavailable(f"Redis is unavailable: {exc}") from exc
        if holder:
            # The holder's record may not be written yet (it is inserted right after its guard is
            # taken): answer its id all the same, as PENDING.
            job = job or jobs_store.get(holder) or {"_id": holder, "kind": kind.name, "state": "PENDING"}
            return Enqueued(job, deduplicated=True)
    steps = kind.steps(params) if kind.steps else None
    try:
        job = jobs_store.create(
            job_id,
            kind.name,
            params,
            trigger,
            user=user,
            total=len(steps) if steps is not None else None,
            retry_of=retry_of,
            guard=key,
            plan=steps,
        )
    except Exception:
        if key:
            guards.release(key, job_id)
        raise
    try:
        dispatch(_signature(kind, params, job_id))
    except (OperationalError, *REDIS_UNAVAILABLE) as exc:
        # Ended like any job (its guard released, waiters told), with why it never ran.
        lifecycle.fail(job_id, f"could not enqueue: {_broker_down(exc)}", code="broker_unavailable")
        raise BrokerUnavailable(_broker_down(exc)) from exc
    return Enqueued(job)


def _stale(key: str, holder: str, job: dict[str, Any] | None) -> bool:
    """Release guard `key` if `holder` cannot be running any more; True if it was released.

    Either its job has ended (its end could not release the guard: Redis, or MongoDB between the
    end and the read of the guard's key, was down then), or it has no record `ORPHAN_AFTER` s after
    taking the guard (its trigger died before writing it, or the store was emptied).
    """
    if job is not None:
        return is_finished(job) and guards.release(key, holder)
    taken = guards.age(key)
    return taken is not None and taken > ORPHAN_AFTER and guards.release(key, holder)


def is_finished(job: dict[str, Any] | None) -> bool:
    """True once the job is SUCCESS or FAILURE."""
    return job is not None and job.get("state") in FINISHED


def wait_for(job_id: str, timeout: float) -> dict[str, Any] | None:
    """The job once finished, or as it is after `timeout` seconds; None if unknown.

    Woken by the end's notice on Redis; the store is read again every second in case a notice
    was missed (Redis restarted, or down).
    """
    job = jobs_store.get(job_id)
    if job is None or is_finished(job) or timeout <= 0:
        return job
    deadline = time.monotonic() + timeout
    pubsub = None
    try:
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(done_channel(job_id))
    except REDIS_UNAVAILABLE:
        pubsub = None
    try:
        while True:
            # Read the store after subscribing, so a notice sent in between is not missed.
            job = jobs_store.get(job_id) or job
            remaining = deadline - time.monotonic()
            if is_finished(job) or remaining <= 0:
                return job
            step = min(remaining, 1.0)
            if pubsub is not None:
                try:
                    pubsub.get_message(timeout=step)
                    continue
                except (redis.RedisError, OSError):
                    pubsub = None
            time.sleep(min(step, 0.2))
    finally:
        if pubsub is not None:
            try:
                pubsub.close()
            except (redis.RedisError, OSError):
                pass
