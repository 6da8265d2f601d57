"""`syncq standalone --offline`: the whole stack from nothing, one sync-all, data kept across runs;
a stale lock taken over (and what its stack left ended); a store that cannot start named in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.standalone_run import ROOT, Launcher, live, user_env

pytestmark = pytest.mark.slow


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in ("codeforces", "leetcode", "codechef", "atcoder") and len(parts) >= 4:
            rows[parts[0]] = parts[1:4]
    return rows


def run_to_the_end(data_dir, timeout: float = 180) -> tuple[int, str]:
    stack = Launcher(data_dir, "--exit-after-sync")
    try:
        return stack.wait_exit(timeout), stack.output()
    finally:
        stack.kill_everything()


def test_standalone_runs_a_sync_all_keeps_its_data_and_takes_over_a_stale_lock(tmp_path):
    data = tmp_path / "data"
    code, first = run_to_the_end(data)
    assert code == 0, first[-3000:]
    rows = table_rows(first)
    assert rows["codeforces"][0] == "2000" and rows["leetcode"][0] == "650" and rows["atcoder"][0] == "1805"
    assert "Token" in first and "Flower" in first

    # A launcher that died without a word, leaving a process of its stack behind (what once held
    # the store's files and broke the next start): its pid is gone, its lock file still says running.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                              env={**user_env(), "SYNCQ_STANDALONE_ID": "0ld5tack"}, start_new_session=True)
    lock = data / "stack.lock"
    lock.write_text(json.dumps({"id": "0ld5tack", "pid": dead.pid, "state": "running",
                                "api": "http://127.0.0.1:1", "started_at": time.time() - 60}))
    try:
        code, again = run_to_the_end(data)
    finally:
        orphan.kill()
    assert code == 0, again[-3000:]
    assert f"taking over the stale lock on {data} (its launcher, pid {dead.pid}, is gone)" in again
    assert f"ended 1 process(es) left of that stack: {orphan.pid}" in again
    assert orphan.wait(5) is not None and not live(orphan.pid)
    # The store kept the first run's contests: nothing is new the second time.
    assert {name: row[0] for name, row in table_rows(again).items()} == \
        {"codeforces": "0", "leetcode": "0", "codechef": "0", "atcoder": "0"}
    assert json.loads(lock.read_text())["state"] == "stopped"


def test_a_store_that_cannot_start_is_named_in_one_line_with_its_reason_and_nothing_is_left(tmp_path):
    # "A data dir without write permission" cannot be made for root (tests run as root, and root
    # writes through any mode bits; a read-only mount needs privileges a test should not use).
    # What really stops the store here: a file where its directory must be, so SecantusDB fails
    # on its own (the launcher does not pre-check it) and the launcher must report that.
    data = tmp_path / "data"
    data.mkdir()
    (data / "mongo").write_text("not a directory\n")
    stack = Launcher(data)
    try:
        assert stack.wait_exit(120) == 1
        out = stack.output()
        lines = [line for line in out.splitlines() if line.startswith("syncq standalone: the store")]
        assert len(lines) == 1, out[-3000:]
        line = lines[0]
        assert "exited with code 1" in line and f"File exists: '{data / 'mongo'}'" in line  # why: its last line
        assert f"make sure {data / 'mongo'} is a directory you can write" in line  # what to do
        assert str(data / "logs" / "mongodb.log") in line
        assert out.rstrip().endswith(line)  # the last thing the user reads
        assert not [ln for ln in out.splitlines() if ln.startswith("Traceback")]  # none of the launcher's own
        # Redis, started before the store, was stopped with it: no process of the stack is left.
        info = json.loads((data / "stack.lock").read_text())
        assert info["state"] == "stopped" and not [pid for pid in info["children"].values() if live(pid)]
    finally:
        stack.kill_everything()
