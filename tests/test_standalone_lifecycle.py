"""`syncq standalone` ended every way a user ends it: nothing of the stack outlives it, its ports
are free, a second launcher on its data dir is refused in one line, `--status` and `--stop` work,
and failed items say why. Real processes, started as a user starts them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest

from syncq.children import STOP_GRACE
from tests.standalone_run import ROOT, Launcher, assert_nothing_left, user_env

pytestmark = pytest.mark.slow
BUILTIN = ("codeforces", "leetcode", "codechef", "atcoder")
# Offline, the launcher turns clist.by on against the simulator: a platform per resource; and the
# example plugin (installed by `make setup`) reads its made-up site there too.
CLIST = (
    "topcoder",
    "hackerrank",
    "hackerearth",
    "geeksforgeeks",
    "yukicoder",
    "dmoj",
    "kattis",
    "toph",
    "luogu",
    "nowcoder",
)
PLATFORMS = (*BUILTIN, *CLIST, "judgeville")


def table_rows(output: str) -> dict[str, list[str]]:
    """The sync-all table's rows: platform -> [synced, updated, failed]."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in PLATFORMS and len(parts) >= 4:
            rows[parts[0]] = parts[1:4]
    return rows


@pytest.fixture()
def launcher(tmp_path):
    started: list[Launcher] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> Launcher:
        started.append(Launcher(tmp_path / "data", *extra, env=env))
        return started[-1]

    yield start
    for one in started:
        one.kill_everything()


def syncq(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "syncq.cli", *args],
        env=user_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_one_ctrl_c_stops_every_process_of_the_stack_and_frees_its_ports(launcher):
    stack = launcher()
    info = stack.wait_running()
    processes = stack.processes()
    # redis, the store, the simulator, worker (+ its pool), beat, API (+ 2 workers), Flower, reaper
    assert len(processes) >= 10, processes
    stack.signal_group(signal.SIGINT)
    assert stack.wait_exit() == 0
    assert "syncq standalone: stopped" in stack.output()
    assert not [line for line in stack.output().splitlines() if line.startswith("Traceback")]  # none of its own
    assert_nothing_left(processes, info, timeout=5)  # an orderly stop leaves nothing to wait for


def test_a_second_ctrl_c_skips_the_wait_but_never_the_killing(launcher):
    stack = launcher()
    info = stack.wait_running()
    processes = stack.processes()
    # A job the worker would finish before a warm shutdown: an unhurried stop waits out the grace.
    api, token = info["api"], stack.token()
    ping = httpx.post(
        f"{api}/jobs/ping",
        json={"delay": 30},
        params={"wait": 0},
        timeout=60,
        headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async"},
    )
    assert ping.status_code == 202
    time.sleep(1)  # let the worker take it
    stack.signal_group(signal.SIGINT)
    stack.wait_output("Ctrl-C again to stop at once")
    second = time.monotonic()
    stack.signal_group(signal.SIGINT)
    assert stack.wait_exit() == 0
    # Well under one grace period of the tier that holds the busy worker: nothing waited it out.
    assert time.monotonic() - second < STOP_GRACE, stack.output()[-2000:]
    assert "stopping at once" in stack.output()
    assert_nothing_left(processes, info, timeout=5)


def test_a_closed_terminal_sighup_stops_the_stack(launcher):
    stack = launcher()
    info = stack.wait_running()
    processes = stack.processes()
    stack.signal_group(signal.SIGHUP)
    assert stack.wait_exit() == 0
    assert "SIGHUP" in stack.output()
    assert_nothing_left(processes, info, timeout=5)


def test_after_a_sigkilled_launcher_nothing_is_left_and_the_next_takes_over_with_the_data_kept(launcher, tmp_path):
    # Without redis-server on PATH the launcher serves Redis with fakeredis's TCP server, a
    # Python process of its own that must go too.
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    stack = launcher(env=user_env(PATH=str(bare_path)))
    info = stack.wait_running(timeout=180)
    assert "fakeredis TCP server" in stack.output()
    rows = table_rows(stack.output())
    assert rows["codeforces"][0] == "2000" and rows["leetcode"][0] == "650" and rows["atcoder"][0] == "1805"
    assert {name: rows[name][0] for name in CLIST} == dict.fromkeys(CLIST, "7") and rows["judgeville"][0] == "8"
    processes = stack.processes()
    stack.process.kill()
    stack.wait_exit()
    # Nobody ran an orderly stop: the kernel (PDEATHSIG) and the reaper end it all.
    assert_nothing_left(processes, info, timeout=30)

    # Its lock file still says "running" for a pid that is gone: the next launcher takes it over,
    # and ends whatever that stack may have left (a process planted here with its id).
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**user_env(), "SYNCQ_STANDALONE_ID": info["id"]},
        start_new_session=True,
    )
    try:
        again = launcher("--exit-after-sync")
        assert again.wait_exit(180) == 0, again.output()[-3000:]
    finally:
        orphan.kill()
    out = again.output()
    assert f"taking over the stale lock on {tmp_path / 'data'} (its launcher, pid {stack.pid}, is gone)" in out
    assert f"ended 1 process(es) left of that stack: {orphan.pid}" in out
    assert orphan.wait(5) == -signal.SIGKILL
    # The store kept the first run's contests: nothing is new the second time.
    assert {name: row[0] for name, row in table_rows(out).items()} == dict.fromkeys(PLATFORMS, "0")
    assert json.loads((tmp_path / "data" / "stack.lock").read_text())["state"] == "stopped"


def test_a_second_launcher_is_refused_in_one_line_status_says_where_and_stop_ends_the_first(launcher, tmp_path):
    stack = launcher()
    info = stack.wait_running()
    processes = stack.processes()

    second = subprocess.run(
        [sys.executable, "-m", "syncq.cli", "standalone", "--offline", "--data-dir", str(tmp_path / "data")],
        env=user_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1 and second.stdout == ""
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert f"pid {stack.pid}" in second.stderr and info["api"] in second.stderr and info["flower"] in second.stderr
    assert f"{sys.executable} -m syncq.cli standalone --stop --data-dir {tmp_path / 'data'}" in second.stderr
    assert stack.process.poll() is None  # the first is untouched

    status = syncq("standalone", "--status", "--data-dir", str(tmp_path / "data"))
    assert status.returncode == 0 and info["api"] in status.stdout and f"pid {stack.pid}" in status.stdout
    assert "worker" in status.stdout and "(gone)" not in status.stdout

    stop = syncq("standalone", "--stop", "--data-dir", str(tmp_path / "data"))
    assert stop.returncode == 0 and "stopped the stack" in stop.stdout, stop.stdout + stop.stderr
    assert stack.wait_exit(10) == 0  # --stop returns once the stack is down
    assert_nothing_left(processes, info, timeout=5)
    after = syncq("standalone", "--status", "--data-dir", str(tmp_path / "data"))
    assert after.returncode == 1 and "no stack is running" in after.stdout


def test_failed_items_say_why_in_the_launchers_table_the_cli_and_the_job(launcher):
    stack = launcher()
    info = stack.wait_running()
    # The simulator's CodeChef lists one contest without a code: the first table names it.
    first = stack.output().split("running one sync-all")[1]
    assert "failed items:" in first and "(no id): bad contest_code None (item named 'Practice (no code)')" in first
    # Break 25 Codeforces contests, then sync that platform with the CLI, as an operator would.
    sim = f"http://127.0.0.1:{info['ports']['sim']}"
    ids = [c["id"] for c in httpx.get(f"{sim}/codeforces/api/contest.list").json()["result"][:25]]
    for cid in ids:
        httpx.post(f"{sim}/_sim/contests/codeforces/{cid}", json={"phase": "SOON"}).raise_for_status()
    env = user_env(SYNCQ_API_URL=info["api"], SYNCQ_TOKEN=stack.token())
    cli = subprocess.run(
        [sys.executable, "-m", "syncq.cli", "sync", "platform", "codeforces"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 3, cli.stdout + cli.stderr  # ran, with failed items: scripts can tell
    table, _, below = cli.stdout.partition("failed items:")
    assert "codeforces" in table and " 25" in table
    assert f"{ids[0]}: unknown phase 'SOON'" in below and "... and 5 more" in below
    # The job keeps them: GET /jobs/<id> shows its result, failures included.
    headers = {"Authorization": f"Bearer {stack.token()}"}
    job = httpx.get(f"{info['api']}/jobs", params={"kind": "contests.platform", "limit": 1}, headers=headers).json()
    body = httpx.get(f"{info['api']}/jobs/{job['jobs'][0]['job_id']}", headers=headers).json()
    result = body["result"]
    assert result["failed"] == 25 and len(result["failures"]) == 20
    assert result["failures"][0] == {"platformId": str(ids[0]), "reason": "unknown phase 'SOON'"}
    assert json.dumps(result["failures"]).count("platformId") == 20
    stack.signal_group(signal.SIGTERM)
    assert stack.wait_exit() == 0
