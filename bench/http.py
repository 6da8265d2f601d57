"""Request throughput of two API routes against a bare Flask route, all under gunicorn (2 workers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime

from bench.stack import Proc, Stack, cpu_seconds, median, wait_until
from syncq.embedded import free_port, port_open

CLIENTS, SECONDS = 32, 5
# RFC 7240: answer 202 with the job's envelope at once (a trigger with no preference waits for its job).
ASYNC = {"Prefer": "respond-async"}


def wrk(
    url: str, token: str | None = None, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(requests/s, p99 ms, requests) from wrk with 32 connections; a non-2xx/3xx answer is an error."""
    args = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--latency"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if method != "GET":
            script.write(f'wrk.method = "{method}"\n')
            script.flush()
            args += ["-s", script.name]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{method} {url}: {errors.group(1)} non-2xx responses")
    return rps, p99, total


def start_bare(stack: Stack) -> tuple[Proc, str]:
    """The bare Flask app (bench/bare.py) under gunicorn, configured like the API; (process, URL)."""
    port = free_port()
    bare = Proc(
        [sys.executable, "-m", "gunicorn", "--config", "python:syncq.gunicorn_conf", "bench.bare:app"],
        {**stack.base_env, "SYNCQ_API_BIND": f"127.0.0.1:{port}", "SYNCQ_API_WORKERS": "2"},
    )
    wait_until(lambda: port_open("127.0.0.1", port), 30, "the bare app")
    return bare, f"http://127.0.0.1:{port}"


def _measured(parts: dict[str, list[int]], run) -> dict[str, float]:
    """wrk's (requests/s, p99 ms) of `run()` and the CPU ms a request cost each of `parts` (pids)."""
    before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in parts.items()}
    rps, p99, total = run()
    cpu = {name: (sum(cpu_seconds(pid) for pid in pids) - before[name]) / total * 1000 for name, pids in parts.items()}
    return {"rps": rps, "p99": p99, **cpu}


def throughput(stack: Stack) -> list[dict]:
    """GET /jobs/<id> of a finished job, and a deduplicated `Prefer: respond-async` POST of a
    running sync-all, each against the bare route, alternating, 5 s of wrk each; with the CPU a
    request costs the API's processes, the store and Redis (the bare route's own processes)."""
    from bench.cases import REPS, row

    bare, bare_url = start_bare(stack)
    api = {
        "API": [stack.api.process.pid, *stack.api.children()],
        "store": [stack.mongo.process.pid],
        "Redis": [int(stack.redis.info("server")["process_id"])],
    }
    try:
        done = stack.http.post("/jobs/ping", headers=ASYNC)
        assert done.status_code == 202, done.text
        job_id = done.json()["job_id"]
        assert stack.http.get(f"/jobs/{job_id}", params={"wait": 10}).status_code == 200
        stack.sim("reset")
        # Codeforces answering after 60 s keeps a sync-all running (until its read timeout ends it),
        # so the POSTs during a dedup run answer that running job. respond-async: with no
        # preference each POST would wait on that job instead (the API contract in the README).
        stack.sim("latency", {"service": "codeforces", "ms": 60000})
        results = {"bare": [], "job": [], "dedup": []}
        for _ in range(REPS):
            results["bare"].append(
                _measured({"bare": [bare.process.pid, *bare.children()]}, lambda: wrk(f"{bare_url}/bare"))
            )
            results["job"].append(_measured(api, lambda: wrk(f"{stack.url}/jobs/{job_id}", stack.token)))
            stack.http.post("/contests/sync/all", headers=ASYNC)  # the held sync-all (or a new one)
            since = datetime.now(UTC)  # after that POST: a job it made was created before
            results["dedup"].append(
                _measured(api, lambda: wrk(f"{stack.url}/contests/sync/all", stack.token, "POST", ASYNC))
            )
            dedup = stack.http.post("/contests/sync/all", headers=ASYNC).json()
            # Deduplicated, all but at most one: a held sync-all whose read timeout ended it mid-run
            # was followed by exactly one new job, which the remaining POSTs answered.
            made = stack.db.jobs.count_documents({"kind": "contests.sync_all", "created_at": {"$gte": since}})
            assert dedup["deduplicated"] is True and made <= 1, (dedup, made)
    finally:
        bare.stop()
        stack.sim("reset")
        # The held sync-all must end before the next case, or it runs (and holds the guard) during it.
        held = stack.http.post("/contests/sync/all", headers=ASYNC).json()
        stack.http.get(f"/jobs/{held['job_id']}", params={"wait": 60})

    def med(key: str, field: str) -> float:
        return median([r[field] for r in results[key]])

    bare_rps, bare_cpu = med("bare", "rps"), med("bare", "bare")
    rows = []
    for key, label, goal, does in (
        ("job", "GET /jobs/<id>", 0.35, "verifies the token, reads its user and the job from the store"),
        (
            "dedup",
            "deduplicated POST /contests/sync/all (Prefer: respond-async)",
            None,
            "verifies the token, reads its user, asks Redis who holds the guard and reads that job",
        ),
    ):
        rps, ratio = med(key, "rps"), med(key, "rps") / bare_rps
        cpu = {name: med(key, name) for name in api}
        spent = ", ".join(f"{name} {value:.2f}" for name, value in cpu.items())
        why = (
            f"A request {does}: in this run it cost {sum(cpu.values()):.2f} ms of CPU ({spent}) against the "
            f"bare route's {bare_cpu:.2f} ms (its gunicorn processes), on {os.cpu_count()} cores shared "
            f"with wrk and the store."
        )
        rows.append(
            row(
                f"{label}, 32 concurrent clients, gunicorn on both cores",
                "requests/s / requests/s of a bare Flask route",
                ratio,
                f">= {goal}; report p99" if goal else "report; p99 too",
                ratio >= goal if goal else True,
                f"{rps:.0f} vs {bare_rps:.0f} req/s; p99 {med(key, 'p99'):.1f} ms (bare route "
                f"{med('bare', 'p99'):.1f} ms); CPU ms a request: {spent} (bare route {bare_cpu:.2f})",
                why,
            )
        )
    return rows


def post_many(
    url: str, path: str, token: str, count: int, threads: int = 16, headers: dict[str, str] | None = None
) -> list[dict]:
    """POST `path` `count` times from `threads` keep-alive connections, with extra `headers`;
    the JSON bodies, in order.

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
    headers = {"Authorization": f"Bearer {token}", "Content-Length": "0", **(headers or {})}

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
