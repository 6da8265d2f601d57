"""`syncq standalone --offline`: the whole stack from nothing, one sync-all, data kept across runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncq.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run_standalone(data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCQ_", "FLOWER_"))}
    env["PYTHONPATH"] = str(ROOT)
    args = [sys.executable, "-m", "syncq.cli", "standalone", "--offline", "--exit-after-sync",
            "--data-dir", str(data_dir), "--port", str(free_port()), "--flower-port", str(free_port()),
            "--redis-port", str(free_port()), "--mongo-port", str(free_port()), "--concurrency", "2"]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in ("codeforces", "leetcode", "codechef", "atcoder") and len(parts) >= 4:
            rows[parts[0]] = parts[1:4]
    return rows


def test_standalone_runs_a_sync_all_and_keeps_its_data(tmp_path):
    first = run_standalone(tmp_path / "data")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    rows = table_rows(first.stdout)
    assert rows["codeforces"][0] == "2000" and rows["leetcode"][0] == "650" and rows["atcoder"][0] == "1805"
    assert "Token" in first.stdout and "Flower" in first.stdout
    again = run_standalone(tmp_path / "data")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    # The store kept the first run's contests: nothing is new the second time.
    assert {name: row[0] for name, row in table_rows(again.stdout).items()} == \
        {"codeforces": "0", "leetcode": "0", "codechef": "0", "atcoder": "0"}
