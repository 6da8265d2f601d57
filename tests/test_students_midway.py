"""A student deleted or renamed while its sync runs keeps nothing under the old handle: the sync is
held midway (its Codeforces calls slowed in the simulator, the change made while they are in flight)."""

from __future__ import annotations

import threading

import pytest

import store.students as students_store
from syncs.errors import SyncFailed
from tests.procs import wait_until

HANDLE = "light_0007"


def _in_flight(simulator, method: str, handle: str) -> bool:
    return any(e["path"].endswith(method) and f"={handle}" in e["query"] and e["end"] is None for e in simulator.log())


def _run(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as exc:  # the test asserts on it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _held(simulator, target, handle: str = HANDLE):
    """Start `target` with Codeforces slowed; return once its `user.status` call is in flight."""
    simulator.set_latency("codeforces", 1500)
    thread, outcome = _run(target)
    wait_until(lambda: _in_flight(simulator, "user.status", handle), 30, "the sync's user.status call")
    return thread, outcome


@pytest.fixture()
def student(store_db, simulator):
    students_store.create("Ada", "ada@example.com", HANDLE)
    return store_db


def test_a_student_deleted_while_its_sync_runs_keeps_no_submissions(student, simulator):
    from syncs.students import sync_one

    thread, outcome = _held(simulator, lambda: sync_one(HANDLE, use_cache=False, full=True))
    assert students_store.delete(HANDLE)  # what DELETE /api/students/<handle> does
    thread.join(60)
    assert isinstance(outcome.get("error"), SyncFailed) and outcome["error"].code == "not_found"
    assert "deleted or renamed while it synced" in str(outcome["error"])
    assert student.submissions.count_documents({}) == 0 and student.students.count_documents({}) == 0


def test_a_student_renamed_while_its_sync_runs_keeps_only_what_followed_it(student, simulator):
    from syncs.students import sync_one

    sync_one(HANDLE, use_cache=False, full=True)
    before = student.submissions.count_documents({"handle": HANDLE})
    assert before > 0
    thread, outcome = _held(simulator, lambda: sync_one(HANDLE, use_cache=False, full=True))
    assert students_store.change_handle(HANDLE, "light_0007_new")  # what PATCH codeforcesHandle does
    thread.join(60)
    assert isinstance(outcome.get("error"), SyncFailed)
    assert student.submissions.count_documents({"handle": HANDLE}) == 0
    assert student.submissions.count_documents({"handle": "light_0007_new"}) == before


def test_the_background_sync_keeps_nothing_of_a_student_deleted_meanwhile(student, simulator):
    from syncs.students_background import sync_all_students

    students_store.create("Grace", "grace@example.com", "light_0008")
    thread, outcome = _held(simulator, sync_all_students)
    assert students_store.delete(HANDLE)
    thread.join(120)
    assert "error" not in outcome, outcome
    assert student.submissions.count_documents({"handle": HANDLE}) == 0
    assert student.submissions.count_documents({"handle": "light_0008"}) > 0  # the other student's stay
