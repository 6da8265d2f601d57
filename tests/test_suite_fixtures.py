"""The suite's own fixtures (tests/plugins/): the session's worker runs only for tests that ask for it,
and work a test leaves running is named, so its teardown fails that test."""

from __future__ import annotations

from tests.plugins.celery_worker import settle
from tests.procs import wait_until


def _active_queues(app, hostname: str) -> list[str]:
    replies = app.control.inspect(destination=[hostname], timeout=5.0, limit=1).active_queues() or {}
    return sorted(queue["name"] for queue in replies.get(hostname, []))


def test_the_session_worker_consumes_nothing_for_a_test_without_the_worker_fixture(
    _session_worker, celery_app_under_test
):
    assert _active_queues(celery_app_under_test, _session_worker.hostname) == []


def test_the_worker_fixture_consumes_the_test_queues(worker, celery_app_under_test):
    queues = sorted(queue.name for queue in celery_app_under_test.conf.task_queues)
    assert _active_queues(celery_app_under_test, worker.hostname) == queues


def test_settling_names_the_work_a_test_leaves_running(worker, celery_app_under_test):
    from workers.system import ping

    run = ping.apply_async(kwargs={"delay": 2})
    inspect = celery_app_under_test.control.inspect(destination=[worker.hostname], timeout=2.0, limit=1)
    wait_until(lambda: (inspect.active() or {}).get(worker.hostname), 30, "the ping to start")
    left = settle(celery_app_under_test, worker.hostname, timeout=0.1)
    assert left == [f"syncq.system.ping[{run.id}]"]  # the fixture's teardown fails a test with this
    assert settle(celery_app_under_test, worker.hostname) == []  # it ends within its delay
