"""The job catalog (jobs/kinds.py): every kind and periodic task it declares is wired into Celery,
beat and the API from that one entry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import schedules
from core.settings import Settings
from jobs import kinds
from workers.celery_app import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registered() -> set[str]:
    app.loader.import_default_modules()
    return set(app.tasks)


def test_every_catalog_task_is_registered_on_the_celery_app(registered):
    tasks = {k.task for k in kinds.KINDS.values()} | {p.task for p in kinds.PERIODIC}
    tasks |= {kinds.LAUNCH_TASK, kinds.RECORD_TASK, kinds.WEBHOOKS_DELIVER_TASK, kinds.NOOP_TASK}
    assert tasks - registered == set()


def test_each_kind_names_the_module_that_defines_its_task(registered):
    for kind in kinds.KINDS.values():
        assert app.tasks[kind.task].__module__ == kind.module, kind.name


def test_celery_includes_exactly_the_catalog_modules_and_the_job_modules():
    from workers.celery_app import create_celery

    fresh = create_celery(Settings())
    assert list(fresh.conf.include) == kinds.task_modules()
    assert list(fresh.conf.imports) == list(kinds.JOB_MODULES)


def test_every_default_schedule_names_a_kind_or_a_periodic_task(registered):
    for entry in schedules.entries(Settings()):
        if entry["kind"] is not None:
            assert entry["kind"] in kinds.KINDS and entry["task"] == kinds.LAUNCH_TASK, entry
        else:
            assert entry["task"] in {p.task for p in kinds.PERIODIC}, entry
        assert entry["task"] in registered
        schedules.parse_cron(entry["cron"])


def test_the_default_schedules_keep_their_names_and_order():
    # RedBeat stores entries by these names: a renamed one would be a second entry.
    names = [e["name"] for e in schedules.entries(Settings())]
    assert names == [
        "sync-all-contests",
        "sync-all-students",
        "sync-raida",
        "webhooks-scan",
        "prune-history",
        "refresh-schedules",
    ]


def test_task_names_in_use_are_kept():
    # Queued messages and stored beat entries name these tasks.
    assert {k.name: k.task for k in kinds.KINDS.values()} == {
        "ping": "syncq.system.ping",
        "contests.platform": "syncq.contests.sync_platform",
        "contests.sync_all": "syncq.contests.sync_platform",
        "students.sync": "syncq.students.sync_student",
        "students.sync_all": "syncq.students.sync_all",
        "raida.sync": "syncq.raida.sync",
    }
    assert kinds.LAUNCH_TASK == "syncq.jobs.launch"


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_every_kind_has_an_answer_for_its_failure(name):
    job = {"_id": "j", "kind": name, "state": "FAILURE", "error": "it broke"}
    status, body = kinds.get(name).failed(job)
    assert 400 <= status < 600 and "it broke" in body["message"]


def test_a_kind_tasks_time_limits_come_from_its_setting():
    settings = Settings(raida_time_limit=123, students_all_time_limit=456)
    assert app.tasks["syncq.raida.sync"].soft_time_limit == Settings().raida_time_limit
    assert kinds.get(kinds.RAIDA_SYNC).limits.task_options(settings) == {"soft_time_limit": 123, "time_limit": 153}
    assert kinds.get(kinds.STUDENTS_SYNC_ALL).limits.task_options(settings)["time_limit"] == 516


def test_a_kind_on_the_manual_queue_is_routed_there():
    routes = kinds.routes(Settings(queue="q"))
    assert routes == {"syncq.students.sync_student": {"queue": "q.manual"}}
    assert app.conf.task_routes == kinds.routes(Settings())


def test_health_sources_come_from_the_catalog():
    from adapters import registry
    from syncs import health

    assert health.expected_sources() == [*registry.names(), "students", "raida"]


def _string_constants(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)}


def test_kind_names_are_written_only_in_the_catalog():
    names = set(kinds.KINDS) - {kinds.PING}  # "ping" is also MongoDB's admin command
    found = []
    for package in ("api", "jobs", "workers", "syncs", "syncq"):
        for path in (ROOT / package).rglob("*.py"):
            if path != ROOT / "jobs" / "kinds.py" and (hits := _string_constants(path) & names):
                found.append(f"{path.relative_to(ROOT)}: {sorted(hits)}")
    found += [f"schedules.py: {h}" for h in _string_constants(ROOT / "schedules.py") & names]
    assert not found, found


def test_one_platform_run_waits_for_another_holding_its_guard(redis_url):
    from jobs import guards

    key = kinds.platform_guard("codechef")
    with guards.hold(key, "first", wait=0.1) as first:
        assert first
        with guards.hold(key, "second", wait=0.1) as second:
            assert not second  # held elsewhere: waited, then gave up
        with guards.hold(key, "first", wait=0.1) as again:
            assert again  # the owner itself (a redelivered task) carries on
    assert guards.holder(key) is None
