"""The stack a benchmark runs against: store, simulator, worker and API as real processes."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from syncq.embedded import free_port, port_open, start_secantus
from syncq.stackargv import api_argv, worker_argv

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values)


class Proc:
    """A child process in its own session (so it is stopped with all its children)."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


class Stack:
    """Secantus, the simulator, a worker and the API (gunicorn, 2 workers) on a queue of their own."""

    def __init__(self, redis_url: str | None = None):
        # A Redis database of its own (guards and rate-limit keys are not per queue).
        redis_url = redis_url or os.environ.get("SYNCQ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
        self.mongo = start_secantus(":memory:")
        self.sim_port = free_port()
        self.base_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SYNCQ_REDIS_URL": redis_url,
            "SYNCQ_QUEUE": f"syncq-bench-{uuid.uuid4().hex[:6]}",
            "SYNCQ_MONGODB_URI": self.mongo.uri.replace("/?", "/bench?"),
            "SYNCQ_JWT_SECRET": "bench-secret-" + uuid.uuid4().hex * 2,
            "SYNCQ_HTTP_RETRIES": "1",
            "SYNCQ_LOG_LEVEL": "WARNING",
        }
        self.sim_proc = Proc(
            [sys.executable, "-m", "syncq.cli", "simulate", "--port", str(self.sim_port)], self.base_env
        )
        wait_until(lambda: port_open("127.0.0.1", self.sim_port), 30, "the simulator")
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        from syncq.simulator import base_urls

        self.base_env.update(base_urls(self.sim_url))
        self.worker: Proc | None = None
        self.api_port = free_port()
        self.api = Proc(
            api_argv(),
            {**self.base_env, "SYNCQ_API_BIND": f"127.0.0.1:{self.api_port}", "SYNCQ_API_WORKERS": "2"},
        )
        self.url = f"http://127.0.0.1:{self.api_port}"
        wait_until(lambda: port_open("127.0.0.1", self.api_port), 30, "the API")
        subprocess.run(
            [sys.executable, "-m", "syncq.cli", "users", "create", "bench", "--admin", "--password-stdin", "--update"],
            input="bench-password\n",
            text=True,
            env=self.base_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        self.token = subprocess.run(
            [sys.executable, "-m", "syncq.cli", "token", "--sub", "bench"],
            env=self.base_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)
        self.simctl = httpx.Client(base_url=self.sim_url, timeout=30)
        from pymongo import MongoClient

        self.db = MongoClient(self.mongo.uri)["bench"]
        import redis

        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)

    def start_worker(self, concurrency: int = 4, **env: str) -> Proc:
        """(Re)start the worker with extra settings; waits until it answers a ping job."""
        if self.worker is not None:
            self.worker.stop()
        self.worker = Proc(
            worker_argv(concurrency, f"bench{uuid.uuid4().hex[:4]}@%h", loglevel="WARNING", events=False, alone=True),
            {**self.base_env, **env},
        )
        wait_until(lambda: self.http.post("/jobs/ping", params={"wait": 5}).status_code == 200, 60, "the worker")
        return self.worker

    def purge(self) -> None:
        """Empty the queue, so one case's leftovers never run during the next."""
        import celery

        with celery.Celery(broker=self.base_env["SYNCQ_REDIS_URL"]).connection_for_write() as conn:
            for queue in (self.base_env["SYNCQ_QUEUE"], self.base_env["SYNCQ_QUEUE"] + ".manual"):
                conn.default_channel.queue_purge(queue)

    def sim(self, path: str, body: dict | None = None) -> dict:
        return self.simctl.post(f"/_sim/{path}", json=body or {}).json()

    def sim_log(self, service: str | None = None) -> list[dict]:
        entries = self.simctl.get("/_sim/log").json()["requests"]
        return [e for e in entries if service is None or e["service"] == service]

    def timed(self, method: str, path: str, **kw) -> tuple[float, httpx.Response]:
        start = time.perf_counter()
        response = self.http.request(method, path, **kw)
        return time.perf_counter() - start, response

    def close(self) -> None:
        for proc in (self.worker, self.api, self.sim_proc):
            if proc is not None:
                proc.stop()
        self.mongo.stop()
