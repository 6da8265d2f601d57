"""Real syncq processes for reliability tests: a worker and the API on their own queue."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from syncq.embedded import free_port, port_open
from syncq.stackargv import api_argv, worker_argv

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float, what: str):
    """Poll `condition` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stack_env(mongo_uri: str, db_name: str, **extra: str) -> dict[str, str]:
    """Environment for child processes: this test's database, a queue of their own."""
    base, _, query = mongo_uri.partition("?")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SYNCQ_QUEUE": f"syncq-proc-{uuid.uuid4().hex[:8]}",
        "SYNCQ_MONGODB_URI": f"{base.rstrip('/')}/{db_name}" + (f"?{query}" if query else ""),
    }
    env.update(extra)
    return env


class Worker:
    """`celery -A workers worker` (prefork) in a child process."""

    def __init__(self, env: dict[str, str], concurrency: int = 1):
        self.process = subprocess.Popen(
            worker_argv(concurrency, f"w{uuid.uuid4().hex[:6]}@%h", events=True, alone=True),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill_children(self) -> list[int]:
        """SIGKILL the pool processes (what an OOM kill does)."""
        pids = self.children()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def kill(self) -> None:
        """SIGKILL the whole worker, pool included."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Api:
    """The API under gunicorn in a child process."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.process = subprocess.Popen(
            api_argv(),
            env={**env, "SYNCQ_API_BIND": f"127.0.0.1:{self.port}", "SYNCQ_API_WORKERS": "1"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: port_open("127.0.0.1", self.port), 30, "the API to listen")

    def client(self, token: str) -> httpx.Client:
        """A client whose triggers answer 202 at once (`Prefer: respond-async`) for the test to poll."""
        return httpx.Client(
            base_url=self.url, timeout=70, headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async"}
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)
