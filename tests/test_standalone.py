"""`syncq standalone`: a store that cannot start is named in one line, and nothing is left.

(Starting from nothing, one sync-all, data kept across runs and a stale lock taken over:
tests/test_standalone_lifecycle.py.)"""

from __future__ import annotations

import json
import re

import pytest

from tests.standalone_run import Launcher, live, user_env

pytestmark = pytest.mark.slow


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


def test_an_api_that_cannot_start_is_named_with_the_error_its_traceback_ended_with(tmp_path):
    # A secret too short for HS256: the API refuses to start (its gunicorn workers raise).
    stack = Launcher(tmp_path / "data", env=user_env(SYNCQ_JWT_SECRET="short"))
    try:
        assert stack.wait_exit(120) == 1
        out = stack.output()
        line = out.rstrip().splitlines()[-1]
        # gunicorn halts with 3 (a worker failed to boot) or, when that happens while it still
        # starts, raises HaltServer and exits with 1: either way the line says why.
        assert re.match(r"syncq standalone: the API \(gunicorn\) exited with code [13]: ", line), line
        assert "ConfigError: SYNCQ_JWT_SECRET is 5 bytes; it must be at least 32 bytes" in line  # why
        assert "Worker failed to boot" in line and "check SYNCQ_JWT_SECRET" in line  # its last line; what to do
        info = json.loads((tmp_path / "data" / "stack.lock").read_text())
        assert not [pid for pid in info["children"].values() if live(pid)]
    finally:
        stack.kill_everything()
