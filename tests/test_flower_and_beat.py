"""Flower sees syncq's tasks and re-runs them as jobs; two beats fire each entry once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import store.jobs as jobs_store
from jobs.service import wait_for
from syncq.embedded import free_port, port_open
from tests.procs import wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
PIDS: dict[str, int] = {}  # each running Flower's process id, by its URL


@pytest.fixture()
def flower(redis_url, worker):
    port = free_port()
    env = {**os.environ, "FLOWER_USER": "ops", "FLOWER_PASSWORD": "flower-pass", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncq.cli", "flower", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 30, "Flower to listen")
        PIDS[f"http://127.0.0.1:{port}"] = proc.pid  # Flower itself: `syncq flower` execs it
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_flower_requires_basic_auth(flower):
    assert httpx.get(f"{flower}/api/tasks", timeout=10).status_code == 401
    assert httpx.get(f"{flower}/api/workers", auth=("ops", "wrong"), timeout=10).status_code == 401
    assert httpx.get(f"{flower}/api/workers", auth=("ops", "flower-pass"), timeout=10).status_code == 200


def test_flowers_command_line_holds_no_password(flower):
    # What `ps` shows every user of the host: the password reaches Flower through its environment.
    argv = Path(f"/proc/{PIDS[flower]}/cmdline").read_bytes().split(b"\0")
    assert b"flower" in argv and not any(b"flower-pass" in arg for arg in argv)


def test_flower_shows_a_sync_task_and_reruns_it_as_a_job(flower, client, admin_headers, simulator):
    auth = ("ops", "flower-pass")
    # Wait until Flower is subscribed to the worker's events before anything runs.
    wait_until(
        lambda: httpx.get(f"{flower}/api/workers?refresh=1", auth=auth, timeout=15).json(), 30, "a worker in Flower"
    )
    r = client.post("/contests/sync/codechef?wait=60", headers=admin_headers)
    assert r.status_code == 200

    def seen():
        tasks = httpx.get(
            f"{flower}/api/tasks", auth=auth, params={"taskname": "syncq.contests.sync_platform"}, timeout=10
        ).json()
        return [t for t in tasks.values() if t.get("state") == "SUCCESS"]

    task = wait_until(seen, 30, "the sync task in Flower")[0]
    assert "codechef" in task["args"] + task["kwargs"] and "synced" in task["result"]

    # Flower has no retry button: its task-apply API re-runs a sync, recorded with trigger flower.
    applied = httpx.post(
        f"{flower}/api/task/async-apply/syncq.contests.sync_platform",
        auth=auth,
        json={"args": ["codechef"]},
        timeout=10,
    )
    assert applied.status_code == 200
    task_id = applied.json()["task-id"]
    wait_until(lambda: jobs_store.get(task_id), 30, "the worker to record the run as a job")
    job = wait_for(task_id, 60)
    assert job["trigger"] == "flower" and job["state"] == "SUCCESS" and job["kind"] == "contests.platform"
    assert job["result"]["platform"] == "codechef"


def test_two_beats_enqueue_each_scheduled_job_once(redis_url, worker, store_db):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    beats = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.apps.fast_beat",
                "beat",
                "--scheduler",
                "redbeat.RedBeatScheduler",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        fired = wait_until(
            lambda: (lambda jobs: jobs if len(jobs) >= 6 else None)(
                [j for j in jobs_store.recent("ping", 100) if j["trigger"] == "beat"]
            ),
            60,
            "six beat runs",
        )
    finally:
        for beat in beats:
            beat.terminate()
        for beat in beats:
            beat.wait(20)
    times = sorted(job["created_at"] for job in fired)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    # One entry every second: a second beat firing too would put two runs at the same tick.
    assert min(gaps) > 0.5, gaps
