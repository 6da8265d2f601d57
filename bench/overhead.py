"""The task-overhead case (reported, not chased): jobs through the job API against raw Celery
tasks, with CPU accounting.

Besides the ratio, it reports where each process spends CPU per job and per raw task, and a
floor measured in the same run: the CPU no job path could avoid (a raw task, a bare HTTP POST
through gunicorn and Flask, and the job record's three writes through syncq's own store calls,
each measured alone). The cores can run at most `cores / CPU-per-job` jobs a second.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bench.cases import REPS, row
from bench.http import ASYNC, post_many, start_bare
from bench.stack import Stack, cpu_seconds, median, wait_until


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_by_part(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of each part of the stack, and of this process (the benchmark's client)."""
    parts = {
        "API": [stack.api.process.pid, *stack.api.children()],
        "worker": [stack.worker.process.pid, *stack.worker.children()],
        "store": [stack.mongo.process.pid],
        "Redis": [int(stack.redis.info("server")["process_id"])],
    }
    return {**{name: sum(cpu_seconds(pid) for pid in pids) for name, pids in parts.items()}, "client": _own_cpu()}


def _per_item_ms(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    return {name: (after[name] - before[name]) / count * 1000 for name in before}


def _floor_ms(stack: Stack, count: int) -> dict[str, float]:
    """CPU ms per job, measured alone, of what no job path can skip besides the raw task itself:
    a bare HTTP POST (gunicorn + Flask server, and this client) and the job record's three writes
    (`store.jobs.create`, `mark_started` and `finish`, the calls every job makes: the store's CPU
    and pymongo's), made from two clients at once."""
    import store
    import store.jobs as jobs_store

    bare, url = start_bare(stack)
    try:
        pids = [bare.process.pid, *bare.children()]
        post_many(url, "/bare", stack.token, 200)  # warm: every connection open, every import done
        server, client = sum(cpu_seconds(pid) for pid in pids), _own_cpu()
        post_many(url, "/bare", stack.token, count)
        http = (sum(cpu_seconds(pid) for pid in pids) - server + _own_cpu() - client) / count * 1000
    finally:
        bare.stop()
    store.configure(stack.mongo.uri, f"bench_floor_{uuid.uuid4().hex[:6]}")
    store.db()  # the jobs indexes, as the API's database has them
    result = {"pong": True, "echo": None, "worker": "bench", "at": datetime.now(UTC).isoformat()}

    def record(part: list[str]) -> None:
        for job_id in part:
            jobs_store.create(job_id, "ping", {}, "api", user="bench")
            jobs_store.mark_started(job_id)
            jobs_store.finish(job_id, result)

    def writes(clients: int) -> float:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        server, client = cpu_seconds(stack.mongo.process.pid), _own_cpu()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(record, [ids[i::clients] for i in range(clients)]))
        return (cpu_seconds(stack.mongo.process.pid) - server + _own_cpu() - client) / count * 1000

    # The floor counts two clients at once, as the API (inserting) and a worker (ending) always
    # are: the store spends more CPU a call once a second connection is busy (one is reported too).
    one, two = writes(1), writes(2)
    store.client().drop_database(store.db().name)
    return {"HTTP": http, "store writes": two, "one client": one}


def task_overhead(stack: Stack, jobs: int = 2000) -> list[dict]:
    """2,000 trivial jobs through the job API against 2,000 bare Celery no-op tasks on the same worker;
    also the CPU each costs every process, the ceilings that CPU sets on jobs/s, and the floor."""
    from celery import Celery

    celery = Celery("bench", broker=stack.base_env["SYNCQ_REDIS_URL"])
    celery.conf.task_default_queue = stack.base_env["SYNCQ_QUEUE"]
    ours, raw, job_cpu, task_cpu = [], [], [], []
    for _ in range(REPS):
        counter = f"bench:noop:{time.time_ns()}"
        before = _cpu_by_part(stack)
        start = time.perf_counter()
        for _ in range(jobs):
            celery.send_task("syncq.system.noop", kwargs={"counter": counter})
        wait_until(lambda counter=counter: int(stack.redis.get(counter) or 0) >= jobs, 120, "the no-op tasks")
        raw.append(jobs / (time.perf_counter() - start))
        task_cpu.append(_per_item_ms(before, _cpu_by_part(stack), jobs))
        before = _cpu_by_part(stack)
        since = datetime.now(UTC)
        start = time.perf_counter()
        ids = [body["job_id"] for body in post_many(stack.url, "/jobs/ping", stack.token, jobs, headers=ASYNC)]
        # One FIFO queue: once the last jobs enqueued (16 threads, so the last 32 answered) have
        # ended, so have the others. Waiting through the API costs the store nothing; polling it
        # with a query over thousands of jobs would (a count over 2,000 ids takes it ~3 s of CPU).
        for job_id in ids[-32:]:
            stack.http.get(f"/jobs/{job_id}", params={"wait": 60})
        elapsed = time.perf_counter() - start
        job_cpu.append(_per_item_ms(before, _cpu_by_part(stack), jobs))

        def all_done(since: datetime = since) -> bool:
            return (
                stack.db.jobs.count_documents({"kind": "ping", "created_at": {"$gte": since}, "state": "SUCCESS"})
                >= jobs
            )

        if not all_done():  # some were still running: the figure then counts the wait for them too
            wait_until(all_done, 300, "the jobs", interval=0.5)
            elapsed = time.perf_counter() - start
        ours.append(jobs / elapsed)
    floors = [_floor_ms(stack, jobs) for _ in range(REPS)]
    ratio = median(ours) / median(raw)
    job_ms = {name: median([c[name] for c in job_cpu]) for name in job_cpu[0]}
    task_ms = {name: median([c[name] for c in task_cpu]) for name in task_cpu[0]}
    floor_ms = {
        "raw task": sum(task_ms.values()),
        **{name: median([f[name] for f in floors]) for name in ("HTTP", "store writes")},
    }
    one_client = median([f["one client"] for f in floors])
    # Every process shares the machine's cores, so jobs/s can never exceed cores / (CPU seconds
    # all of them spend per job); the store is one Python process, so never 1 / its own either.
    cores = os.cpu_count() or 1
    spent = sum(job_ms.values())
    ceiling = min(cores / (spent / 1000), 1 / (job_ms["store"] / 1000))
    floor = sum(floor_ms.values())
    floor_ceiling = cores / (floor / 1000)

    def parts(ms: dict[str, float]) -> str:
        return ", ".join(f"{name} {value:.2f}" for name, value in ms.items())

    case = "task overhead: 2,000 trivial jobs through the job API"
    return [
        row(
            case,
            "jobs/s end to end / raw Celery no-op tasks/s",
            ratio,
            "report",
            True,
            f"{median(ours):.0f} jobs/s vs {median(raw):.0f} tasks/s",
        ),
        row(case, "CPU per job, every process (ms)", spent, "report", True, parts(job_ms)),
        row(case, "CPU per raw no-op task, every process (ms)", sum(task_ms.values()), "report", True, parts(task_ms)),
        row(
            case,
            "ceiling that CPU sets on jobs/s / raw tasks/s",
            ceiling / median(raw),
            "report",
            True,
            f"{ceiling:.0f} jobs/s at most ({cores} cores; the store alone: {1000 / job_ms['store']:.0f})",
        ),
        row(
            case,
            "floor: CPU a job cannot skip, each part alone (ms)",
            floor,
            "report",
            True,
            f"{parts(floor_ms)} (store writes: insert, STARTED, end, two clients at once; {one_client:.2f} "
            f"from one); syncq's job path spends {spent - floor:.2f} above it",
        ),
        row(
            case,
            "ceiling at that floor / raw tasks/s",
            floor_ceiling / median(raw),
            "report",
            True,
            f"{floor_ceiling:.0f} jobs/s with every core busy and nothing but the floor",
        ),
    ]
