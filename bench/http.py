"""Request throughput of two API routes against a bare Flask route, all under gunicorn (2 workers)."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile

from bench.stack import Proc, Stack, median, wait_until
from syncq.embedded import free_port, port_open

CLIENTS, SECONDS = 32, 5


def wrk(url: str, token: str | None = None, method: str = "GET") -> tuple[float, float]:
    """(requests/s, p99 ms) from wrk with 32 connections."""
    args = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--latency"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if method != "GET":
            script.write(f'wrk.method = "{method}"\n')
            script.flush()
            args += ["-s", script.name]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and method == "GET":
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx responses")
    return rps, p99


def start_bare(stack: Stack) -> tuple[Proc, str]:
    """The bare Flask app (bench/bare.py) under gunicorn, configured like the API; (process, URL)."""
    port = free_port()
    bare = Proc([sys.executable, "-m", "gunicorn", "--config", "python:syncq.gunicorn_conf", "bench.bare:app"],
                {**stack.base_env, "SYNCQ_API_BIND": f"127.0.0.1:{port}", "SYNCQ_API_WORKERS": "2"})
    wait_until(lambda: port_open("127.0.0.1", port), 30, "the bare app")
    return bare, f"http://127.0.0.1:{port}"


def throughput(stack: Stack) -> list[dict]:
    from bench.cases import REPS, row

    bare, bare_url = start_bare(stack)
    try:
        done = stack.http.post("/jobs/ping", params={"wait": 10})
        job_id = stack.http.get("/jobs", params={"kind": "ping", "limit": 1}).json()["jobs"][0]["job_id"]
        assert done.status_code == 200
        stack.sim("reset")
        # Codeforces answering after 60 s keeps a sync-all running (until its 20 s read timeout and one
        # retry end it), so every POST during a dedup run answers that running job.
        stack.sim("latency", {"service": "codeforces", "ms": 60000})
        results = {"bare": [], "job": [], "dedup": []}
        for _ in range(REPS):
            results["bare"].append(wrk(f"{bare_url}/bare"))
            results["job"].append(wrk(f"{stack.url}/jobs/{job_id}", stack.token))
            running = stack.http.post("/contests/sync/all").json()["job_id"]
            results["dedup"].append(wrk(f"{stack.url}/contests/sync/all", stack.token, "POST"))
            dedup = stack.http.post("/contests/sync/all").json()
            assert dedup["job_id"] == running and dedup["deduplicated"] is True, dedup
    finally:
        bare.stop()
        stack.sim("reset")
        # The held sync-all must end before the next case, or it runs (and holds the guard) during it.
        held = stack.http.post("/contests/sync/all").json()
        stack.http.get(f"/jobs/{held['job_id']}", params={"wait": 60})
    bare_rps = median([r for r, _ in results["bare"]])
    rows = []
    for key, label in (("job", "GET /jobs/<id>"), ("dedup", "deduplicated POST /contests/sync/all")):
        rps, p99 = median([r for r, _ in results[key]]), median([p for _, p in results[key]])
        rows.append(row(f"{label}, 32 concurrent clients, gunicorn on both cores",
                        "requests/s / requests/s of a bare Flask route", rps / bare_rps, ">= 0.5; report p99",
                        rps / bare_rps >= 0.5, f"{rps:.0f} vs {bare_rps:.0f} req/s; p99 {p99:.1f} ms"))
    return rows


def post_many(url: str, path: str, token: str, count: int, threads: int = 16) -> list[dict]:
    """POST `path` `count` times from `threads` keep-alive connections; the JSON bodies, in order.

    A plain http.client connection per thread: the task-overhead case measures syncq's CPU on a
    2-core machine, and httpx cost the benchmark itself ~1 ms of CPU a request (send_task, the
    raw side's client, costs ~0.5 ms a task).
    """
    import http.client
    import json
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    host, port = urlsplit(url).hostname, urlsplit(url).port
    local = threading.local()
    headers = {"Authorization": f"Bearer {token}", "Content-Length": "0"}

    def post(_: int) -> dict:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=120)
        conn.request("POST", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status >= 400:
            raise RuntimeError(f"POST {path}: {response.status} {body[:200]!r}")
        return json.loads(body)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, range(count)))
