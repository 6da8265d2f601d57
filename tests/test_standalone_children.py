"""The launcher's guarantees in small: a child dies with its parent, the reaper ends what a dead
launcher left, the stop is idempotent and hurried (never skipped), one lock per data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from syncq.children import Child, stop_all
from syncq.stackcmds import refuse_second
from syncq.stacklock import StackLock, pid_alive

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def gone_within(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


# A "launcher" that starts two sleepers, one asking to die with it and one not, prints their pids.
PARENT = """
import subprocess, sys, time
from syncq.children import die_with_parent
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
guarded = subprocess.Popen(sleeper, preexec_fn=die_with_parent())
bare = subprocess.Popen(sleeper)
print(guarded.pid, bare.pid, flush=True)
time.sleep(60)
"""


def test_a_child_asking_to_die_with_its_parent_ends_when_the_parent_is_sigkilled():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=ENV, stdout=subprocess.PIPE, text=True)
    guarded, bare = map(int, parent.stdout.readline().split())
    try:
        parent.kill()
        parent.wait(10)
        assert gone_within([guarded], 10), "the child with PR_SET_PDEATHSIG outlived its parent"
        assert pid_alive(bare), "the control child (no PDEATHSIG) should have survived"
    finally:
        for pid in (guarded, bare):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# A "launcher" that hands the reaper a process group of two sleepers (no PDEATHSIG), then waits.
REAPED = """
import subprocess, sys, time
from syncq.children import Reaper
reaper = Reaper(dict(__import__("os").environ))
group = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; exec sleep 61"], stdout=subprocess.PIPE,
                         text=True, start_new_session=True)
grandchild = group.stdout.readline().strip()
reaper.watch(group.pid)
print(group.pid, grandchild, reaper.process.pid, flush=True)
time.sleep(60)
"""


def test_the_reaper_ends_every_group_a_sigkilled_launcher_left_grandchildren_included():
    parent = subprocess.Popen([sys.executable, "-c", REAPED], env=ENV, stdout=subprocess.PIPE, text=True)
    leader, grandchild, reaper = map(int, parent.stdout.readline().split())
    try:
        assert pid_alive(leader) and pid_alive(grandchild)
        parent.kill()
        parent.wait(10)
        assert gone_within([leader, grandchild], 15), "the reaper left the dead launcher's group running"
        assert gone_within([reaper], 15), "the reaper did not exit after its work"
    finally:
        for pid in (leader, grandchild):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"


def test_a_hurried_stop_skips_the_wait_but_still_kills_and_a_second_stop_is_harmless(tmp_path):
    child = Child("stubborn", [sys.executable, "-c", STUBBORN], ENV, tmp_path, echo=False)
    deadline = time.monotonic() + 10
    while "up" not in child.tail and time.monotonic() < deadline:
        time.sleep(0.05)
    hurry = threading.Event()
    hurry.set()
    stop_all([[child]], hurry, grace=60)  # ignoring SIGTERM would hold an unhurried stop 60 s
    assert not child.alive() and child.process.returncode == -signal.SIGKILL
    stop_all([[child]], hurry, grace=60)  # idempotent: nothing left to do, nothing raised
    assert "--- started" in (tmp_path / "stubborn.log").read_text()


def test_an_unhurried_stop_lets_a_child_end_by_itself(tmp_path):
    child = Child("polite", [sys.executable, "-c", "import time; time.sleep(60)"], ENV, tmp_path, echo=False)
    stop_all([[child]], threading.Event(), grace=20)
    assert child.process.returncode == -signal.SIGTERM  # it took the SIGTERM; no SIGKILL was needed


def test_one_launcher_per_data_dir_and_the_lock_drops_with_its_holder(tmp_path):
    first, second = StackLock(tmp_path), StackLock(tmp_path)
    assert first.acquire()
    first.update(pid=os.getpid(), api="http://127.0.0.1:8000")
    assert not second.acquire(attempts=1) and second.held()
    assert second.read()["api"] == "http://127.0.0.1:8000"
    first.release()
    assert not second.held() and second.acquire(attempts=1)
    assert second.read()["state"] == "stopped"  # what the first left; the second now rewrites it
    second.release()


def test_a_second_launcher_is_told_in_one_line_who_runs_and_how_to_stop_it(tmp_path, capsys):
    info = {"pid": os.getpid(), "api": "http://127.0.0.1:8123", "flower": "http://127.0.0.1:5566", "state": "running"}
    assert refuse_second(tmp_path, info) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"pid {os.getpid()}" in err
    assert "http://127.0.0.1:8123" in err and "http://127.0.0.1:5566" in err
    assert f"-m syncq.cli standalone --stop --data-dir {tmp_path}" in err  # as it was started here


# What gunicorn prints when its worker fails while the arbiter still starts: the worker's
# traceback (the cause), then the arbiter's own, ending in HaltServer.
TWO_TRACEBACKS = r"""
import sys
print("[INFO] Booting worker with pid: 12")
print("Traceback (most recent call last):")
print('  File "api/__init__.py", line 44, in create_app')
print("core.settings.ConfigError: SYNCQ_JWT_SECRET is 5 bytes; it must be at least 32 bytes")
print("[INFO] Worker exiting (pid: 12)")
print("Traceback (most recent call last):")
print('  File "gunicorn/arbiter.py", line 609, in spawn_worker')
print("gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>")
print("[INFO] Shutting down: Master")
sys.exit(1)
"""


def test_a_child_s_failure_names_the_cause_and_the_error_that_ended_it(tmp_path):
    child = Child("api", [sys.executable, "-c", TWO_TRACEBACKS], ENV, tmp_path, echo=False)
    child.process.wait(30)
    assert child.last_lines() == (
        "core.settings.ConfigError: SYNCQ_JWT_SECRET is 5 bytes; it must be at least 32 bytes | "
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3> | [INFO] Shutting down: Master"
    )
