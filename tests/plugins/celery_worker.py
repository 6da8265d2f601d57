"""The session's Celery worker: the project's own app on the test Redis and queue, and a real worker
(thread pool) that consumes only while a test that asks for `worker` runs.

Between such tests it consumes nothing, so a job another test enqueued never runs in a later test's
database; each `worker` test starts from an empty queue, and its teardown fails the test when work it
started is still running after `SETTLE_TIMEOUT` seconds.
"""

from __future__ import annotations

import pytest

from tests.procs import wait_until

SETTLE_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def celery_app_under_test(redis_url):
    """The project's own Celery app, pointed at the test Redis and queue."""
    from workers import app as celery_app

    celery_app.conf.update(broker_url=redis_url, result_backend=redis_url)
    celery_app.loader.import_default_modules()
    return celery_app


def _queues(app) -> list[str]:
    return [queue.name for queue in app.conf.task_queues]


@pytest.fixture(scope="session")
def _session_worker(celery_app_under_test):
    """A real Celery worker (thread pool) on the test queues, idle until a test asks for `worker`."""
    from celery.contrib.testing.worker import start_worker

    app = celery_app_under_test
    app.control.purge()
    with start_worker(
        app, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20
    ) as worker:
        _consume(app, worker.hostname, False)
        yield worker


def _consume(app, hostname: str, on: bool) -> None:
    """Start or stop the worker's consuming of the test queues (acknowledged by the worker)."""
    for queue in _queues(app):
        if on:
            replies = app.control.add_consumer(queue, destination=[hostname], reply=True, limit=1, timeout=10)
        else:
            replies = app.control.cancel_consumer(queue, destination=[hostname], reply=True, limit=1, timeout=10)
        assert replies, f"the worker did not answer {'add' if on else 'cancel'}_consumer({queue})"


@pytest.fixture()
def worker(_session_worker, celery_app_under_test, store_db):
    """The session's worker, consuming the test queues for this test, on this test's store.

    Afterwards it stops consuming, drops what it holds for later (prefetched tasks, retries waiting
    for their countdown) and waits for what is running: a job still running after `SETTLE_TIMEOUT`
    fails the test (it would run on in the next test's database).
    """
    app, hostname = celery_app_under_test, _session_worker.hostname
    app.control.purge()  # what tests without a worker enqueued
    _consume(app, hostname, True)
    yield _session_worker
    _consume(app, hostname, False)
    left = settle(app, hostname)
    app.control.purge()
    if left:
        pytest.fail(f"the test left work running in the worker after {SETTLE_TIMEOUT:.0f} s: {left}")


def settle(app, hostname: str, timeout: float = SETTLE_TIMEOUT) -> list[str]:
    """Revoke what the worker holds for later and wait for what it runs; the names of the tasks still
    running after `timeout` (empty: it is idle)."""
    inspect = app.control.inspect(destination=[hostname], timeout=2.0, limit=1)
    later = [entry["request"]["id"] for entry in (inspect.scheduled() or {}).get(hostname, [])]
    later += [request["id"] for request in (inspect.reserved() or {}).get(hostname, [])]
    if later:
        app.control.revoke(later, destination=[hostname])
    try:
        wait_until(lambda: not (inspect.active() or {}).get(hostname), timeout, "the worker to finish the test's jobs")
    except AssertionError:
        return [f"{task['name']}[{task['id']}]" for task in (inspect.active() or {}).get(hostname, [])]
    return []
