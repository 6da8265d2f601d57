"""One run at a time: a job kind's guard is a redis-py `Lock` whose token is the job's id.

A trigger that finds the guard held answers the job that holds it; the job's end releases
it (only its own: an expired guard taken over by another job is left alone); a guard whose
worker died expires by itself after `SYNCQ_JOB_LOCK_TTL`, and one whose job was never recorded
is released by `jobs.service` (see `ORPHAN_AFTER` there).
"""

from __future__ import annotations

from typing import cast

import redis
from redis.exceptions import LockError

from core.redisconn import get_redis
from core.settings import get_settings


def _lock(key: str) -> redis.lock.Lock:
    # thread_local=False: the job that takes a guard is ended by another process.
    return get_redis().lock(f"syncq:guard:{key}", timeout=get_settings().job_lock_ttl, thread_local=False)


def take(key: str, job_id: str) -> str | None:
    """Take guard `key` for `job_id`: None when taken, else the id of the job holding it."""
    lock = _lock(key)
    for _ in range(3):
        if lock.acquire(blocking=False, token=job_id):
            return None
        # the client decodes answers (core.redisconn's decode_responses=True): a str, not bytes
        holder = cast("str | None", get_redis().get(lock.name))
        if holder:
            return holder
        # released between the two calls: try again
    return None if lock.acquire(blocking=False, token=job_id) else cast("str | None", get_redis().get(lock.name))


def holder(key: str) -> str | None:
    """The id of the job holding guard `key`, if any."""
    return cast("str | None", get_redis().get(_lock(key).name))


def age(key: str) -> float | None:
    """Seconds since guard `key` was taken or last extended; None when it is not held."""
    left = get_redis().pttl(_lock(key).name)
    return None if left < 0 else max(0.0, get_settings().job_lock_ttl - left / 1000)


def release(key: str, job_id: str) -> bool:
    """Release guard `key` if `job_id` still holds it; True if it did."""
    try:
        _lock(key).do_release(job_id)
        return True
    except LockError:
        return False


def extend(key: str, job_id: str) -> None:
    """Give a long job's guard its full lifetime again (only while `job_id` holds it)."""
    lock = _lock(key)
    lock.local.token = job_id
    try:
        lock.reacquire()
    except LockError:
        pass
