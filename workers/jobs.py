"""Job kinds, enqueueing, one-run-at-a-time guards and job-completion notices.

A job is what an operator asked for (a sync-all, one student, a RAIDA sync); it is
recorded in MongoDB when enqueued and may run as one Celery task or a chain of them.
The API, beat (through `syncq.jobs.launch`) and `POST /jobs/<id>/retry` all enqueue here.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import redis
from celery.canvas import Signature
from kombu.exceptions import OperationalError

import store.jobs as jobs_store
from syncq import nearcache
from core.settings import get_settings
from syncq.nearcache import NearCache
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis, script


class BrokerUnavailable(Exception):
    """Redis (the broker) did not take the job; the API answers 503."""


class UnknownKind(KeyError):
    """No job kind has that name."""


def _default_success(job: dict[str, Any]) -> tuple[int, Any]:
    return 200, job.get("result")


def _default_failure(job: dict[str, Any]) -> tuple[int, Any]:
    status = job.get("error_status") or 500
    body = job.get("error_body") or {"statusCode": status, "message": job.get("error") or "Job failed"}
    return status, body


@dataclass(frozen=True)
class JobKind:
    """What a job kind runs and how it answers `?wait=`.

    `signature(params, job_id)` builds what to apply; when `task_id_is_job_id`, the
    single task is applied with the job's id as its task id (so Flower shows the same id).
    `lock_key(params)` names the one-run-at-a-time guard (None: no guard).
    """

    name: str
    signature: Callable[[dict[str, Any], str], Signature]
    task_id_is_job_id: bool = True
    lock_key: Callable[[dict[str, Any]], str | None] = field(default=lambda params: None)
    total: Callable[[dict[str, Any]], int | None] = field(default=lambda params: None)
    success_response: Callable[[dict[str, Any]], tuple[int, Any]] = _default_success
    failure_response: Callable[[dict[str, Any]], tuple[int, Any]] = _default_failure


KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Register a job kind by name (task modules do this at import)."""
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    """The registered kind (every task module is imported first if it is not yet known);
    UnknownKind if none."""
    kind = KINDS.get(name)
    if kind is None:
        # Kinds register when their task module is imported; import them all, once it matters
        # (this ran on every trigger and cost a tenth of a deduplicated one).
        from workers.celery_app import app

        app.loader.import_default_modules()
        kind = KINDS.get(name)
    if kind is None:
        raise UnknownKind(name)
    return kind


# --- guards ---------------------------------------------------------------------------

# Releasing a guard also tells every process to forget who held it (syncq.nearcache).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('publish', ARGV[2], KEYS[1])
  return redis.call('del', KEYS[1])
end
return 0
"""


def _lock_name(key: str) -> str:
    return f"syncq:guard:{key}"


def _held_by(job_id: str) -> str:
    # Which guard a job holds, so that ending it releases the guard without reading the store.
    return f"syncq:guard-of:{job_id}"


# Take the guard (KEYS[1]) for a job and note which guard the job holds (KEYS[2]), or answer the
# job already holding it: one round trip, so a burst of triggers costs each caller one call.
_TAKE = """
local holder = redis.call('get', KEYS[1])
if holder then return holder end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
return false
"""


# Ending a job in one round trip: drop the guard it holds, if it still holds it (KEYS[1] notes
# which: the guard's key is read, so the script names a key it was not passed, which a Redis
# Cluster would refuse; syncq uses one Redis), forget that note, tell every process to forget
# who held the guard, and tell waiters it ended. Answers the guard it released, if any.
_END = """
local released = false
local key = redis.call('get', KEYS[1])
if key then
  local lock = ARGV[3] .. key
  if redis.call('get', lock) == ARGV[1] then
    redis.call('del', lock)
    redis.call('publish', ARGV[5], lock)
    released = lock
  end
  redis.call('del', KEYS[1])
end
redis.call('publish', ARGV[2], ARGV[4])
return released
"""

# Who holds a guard, as this process last saw it: a burst of triggers of a running sync is
# answered without a round trip. A release tells every process (the scripts above); a guard whose
# TTL ran out without one (its worker died) is answered from here for at most a second.
_holders = NearCache(max_age=1.0)


def _take_guard(client: redis.Redis, key: str, job_id: str) -> str | None:
    """Take guard `key` for `job_id`: None when taken, else the id of the job that holds it."""
    lock = _lock_name(key)
    holder = _holders.get(lock)
    if holder is not None:
        return holder
    generation = nearcache.generation()
    holder = script(_TAKE)(keys=[lock, _held_by(job_id)], args=[job_id, key, get_settings().job_lock_ttl],
                           client=client)
    if holder:
        _holders.put(lock, holder, generation)
    return holder


def release_key(name: str, owner: str) -> None:
    """Delete the Redis key `name` if `owner` still holds it (never someone else's)."""
    _holders.drop(name)  # here at once; other processes when the notice reaches them
    try:
        script(_RELEASE)(keys=[name], args=[owner, nearcache.CHANNEL], client=get_redis())
    except REDIS_UNAVAILABLE:
        pass  # it expires by itself (SYNCQ_JOB_LOCK_TTL)


def release_guard(key: str | None, job_id: str) -> None:
    """Drop the guard `key` if `job_id` still holds it."""
    if key:
        release_key(_lock_name(key), job_id)
        try:
            get_redis().delete(_held_by(job_id))
        except REDIS_UNAVAILABLE:
            pass


def job_ended(job_id: str, state: str) -> None:
    """What ending a job does in Redis: drop whatever guard it holds (none for most kinds) and
    tell anyone waiting on it that it ended (best effort: waiters also poll)."""
    try:
        released = script(_END)(keys=[_held_by(job_id)],
                                args=[job_id, _channel(job_id), _lock_name(""), state, nearcache.CHANNEL],
                                client=get_redis())
        if released:
            _holders.drop(released)  # here at once; other processes when the notice reaches them
    except REDIS_UNAVAILABLE:
        pass  # the guard expires by itself (SYNCQ_JOB_LOCK_TTL); waiters poll


def refresh_guard(key: str | None, job_id: str) -> None:
    """Extend the guard while its job makes progress, so a long run keeps it."""
    if not key:
        return
    try:
        client = get_redis()
        if client.get(_lock_name(key)) == job_id:
            client.expire(_lock_name(key), get_settings().job_lock_ttl)
            client.expire(_held_by(job_id), get_settings().job_lock_ttl)
    except REDIS_UNAVAILABLE:
        pass


# --- enqueue -------------------------------------------------------------------------

def dispatch(signature: Signature, options: dict[str, Any]) -> None:
    """Hand a job's signature to the broker (one seam, so tests can record jobs without running them)."""
    signature.apply_async(**options)


@dataclass
class Enqueued:
    """The job that answers a trigger; `deduplicated` when it was already queued or running."""

    job: dict[str, Any]
    deduplicated: bool = False


def enqueue(kind_name: str, params: dict[str, Any] | None = None, *, trigger: str = "api",
            user: str | None = None, retry_of: str | None = None) -> Enqueued:
    """Record a job and hand it to the broker, or return the run already under way.

    Raises UnknownKind, BrokerUnavailable, or a store error when MongoDB is down.
    """
    kind = get_kind(kind_name)
    params = dict(params or {})
    job_id = str(uuid.uuid4())
    key = kind.lock_key(params)
    if key:
        try:
            holder = _take_guard(get_redis(), key, job_id)
            if holder:
                # A burst of triggers answers the running job as read within the last second.
                job = jobs_store.get(holder, max_age=1.0) or {"_id": holder, "kind": kind.name, "state": "PENDING"}
                return Enqueued(job, deduplicated=True)
        except REDIS_UNAVAILABLE as exc:
            raise BrokerUnavailable(f"Redis is unavailable: {exc}") from exc
    try:
        job = jobs_store.create(job_id, kind.name, params, trigger, user=user,
                                total=kind.total(params), retry_of=retry_of, guard=key)
    except Exception:
        release_guard(key, job_id)
        raise
    signature = kind.signature(params, job_id)
    options = {"task_id": job_id} if kind.task_id_is_job_id else {}
    try:
        dispatch(signature, options)
    except (OperationalError, *REDIS_UNAVAILABLE) as exc:
        jobs_store.fail(job_id, f"could not enqueue: the broker (Redis) is unavailable: {exc}",
                        status=503)
        release_guard(key, job_id)
        raise BrokerUnavailable(f"Redis is unavailable: {exc}") from exc
    return Enqueued(job)


# --- completion notices --------------------------------------------------------------

def _channel(job_id: str) -> str:
    return f"syncq:job-done:{job_id}"


def is_finished(job: dict[str, Any] | None) -> bool:
    """True once the job is SUCCESS or FAILURE."""
    return bool(job) and job.get("state") in jobs_store.FINISHED


def wait_for(job_id: str, timeout: float) -> dict[str, Any] | None:
    """The job once finished, or as it is after `timeout` seconds; None if unknown."""
    job = reconcile(jobs_store.get(job_id))
    if job is None or is_finished(job) or timeout <= 0:
        return job
    deadline = time.monotonic() + timeout
    pubsub = None
    try:
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(_channel(job_id))
    except REDIS_UNAVAILABLE:
        pubsub = None
    try:
        while True:
            # Read the store after subscribing, so a notice sent in between is not missed.
            job = reconcile(jobs_store.get(job_id))
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


def reconcile_after() -> float:
    """Seconds a failure Celery recorded is left for the worker to write onto its job itself:
    the store's timeout (the worker's write may wait that long) and a second."""
    return get_settings().store_timeout_ms / 1000 + 1.0


def reconcile(job: dict[str, Any] | None) -> dict[str, Any] | None:
    """A job still open in MongoDB whose task Celery saw fail, and whose worker did not write
    the failure itself in time (MongoDB was down then), is marked FAILURE now, with that error."""
    if job is None or is_finished(job):
        return job
    from celery.result import AsyncResult

    from workers.base import error_message
    from workers.celery_app import app

    try:
        result = AsyncResult(job["_id"], app=app)
        if result.state != "FAILURE":
            return job
        error, done = result.result, result.date_done
    except (OperationalError, *REDIS_UNAVAILABLE):
        return job
    # Celery records a failure just before the worker's own write, which also carries what the
    # job's kind answers (a status, a body); taking Celery's copy in that moment answered a
    # caller with a 500 and a different message, then the worker's write replaced it.
    if done is not None:
        done = done if done.tzinfo else done.replace(tzinfo=timezone.utc)
        if (datetime.now(timezone.utc) - done).total_seconds() < reconcile_after():
            return job
    jobs_store.fail(job["_id"], error_message(error), status=getattr(error, "status", None))
    return jobs_store.get(job["_id"]) or job


def response_for(job: dict[str, Any]) -> tuple[int, Any]:
    """(status, body) a finished job answers `?wait=` with, per its kind."""
    try:
        kind = get_kind(job["kind"])
    except UnknownKind:
        kind = None
    if job.get("state") == "SUCCESS":
        return kind.success_response(job) if kind else _default_success(job)
    return kind.failure_response(job) if kind else _default_failure(job)
