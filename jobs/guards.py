"""One run at a time: a guard is a redis-py `Lock` (key `syncq:guard:<key>`) whose token is its owner's id.

A job kind's guard is taken at enqueue (token: the job's id): a trigger that finds it held answers
the job that holds it, and the job's end releases it (only its own: an expired guard taken over by
another job is left alone). A run inside a worker holds a guard with `hold` (a platform's sync),
waiting for another run that holds it. A guard whose worker died expires by itself after
`SYNCQ_JOB_LOCK_TTL`; one whose job was never recorded is released by `jobs.service`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import redis
from redis.exceptions import LockError

from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis
from core.settings import get_settings

log = logging.getLogger(__name__)


def _lock(key: str, wait: float | None = None) -> redis.lock.Lock:
    # thread_local=False: the job that takes a guard is ended by another process.
    return get_redis().lock(
        f"syncq:guard:{key}", timeout=get_settings().job_lock_ttl, blocking_timeout=wait, thread_local=False
    )


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


@contextmanager
def hold(key: str, owner: str, wait: float) -> Iterator[bool]:
    """Hold guard `key` for `owner` while the block runs, waiting up to `wait` s for another holder;
    yields whether it is held. An owner that already holds it (a redelivered task whose first attempt
    died holding it) carries on at once. Without Redis it yields True: the guarded writes are
    idempotent upserts, and a run is better than none."""
    lock = _lock(key, wait)
    try:
        if get_redis().get(lock.name) == owner:
            lock.local.token = owner
            held = bool(lock.reacquire())
        else:
            held = lock.acquire(token=owner)
    except REDIS_UNAVAILABLE:
        yield True
        return
    try:
        yield held
    finally:
        if held:
            try:
                lock.do_release(owner)
            except (LockError, *REDIS_UNAVAILABLE):  # expired or Redis gone: it lapses by itself
                log.info("guard %s already lapsed or unreachable at release", key)
