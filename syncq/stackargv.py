"""The command line of each process of a syncq stack: Redis, the Celery worker and beat, the API.

One place for each, used by `syncq standalone`, the tests that start real processes
(`tests/procs.py`) and the benchmarks (`bench/stack.py`). The store's is `embedded.secantus_argv`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from shutil import which


def redis_argv(data_dir: Path, port: int) -> list[str]:
    """redis-server with an append-only file in the data dir, else fakeredis's TCP server."""
    if which("redis-server"):
        redis_dir = data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        return [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]
    code = (
        "import sys; from fakeredis import TcpFakeServer; "
        "s = TcpFakeServer(('127.0.0.1', int(sys.argv[1])), server_type='redis'); "
        "print('fakeredis TCP server on', sys.argv[1], flush=True); s.serve_forever()"
    )
    return [sys.executable, "-c", code, str(port)]


def celery_argv(command: str, *options: str) -> list[str]:
    """`celery -A workers <command> <options>` with this interpreter (worker, beat, Flower)."""
    return [sys.executable, "-m", "celery", "-A", "workers", command, *options]


def worker_argv(
    concurrency: int, hostname: str, *, loglevel: str = "INFO", events: bool = True, alone: bool = False
) -> list[str]:
    """`celery -A workers worker`: a prefork pool of `concurrency` processes, named `hostname` (`%h`
    is the machine's name). `events` sends task events (-E, for Flower); `alone` skips the exchanges
    with other workers at start (mingle) and after (gossip), which a test's or a benchmark's worker,
    on a queue of its own, does not need."""
    argv = celery_argv("worker", "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", loglevel)
    if events:
        argv.append("-E")
    if alone:
        argv += ["--without-gossip", "--without-mingle"]
    return [*argv, "--hostname", hostname]


def beat_argv() -> list[str]:
    """`celery -A workers beat` with RedBeat (its schedule and lock in Redis)."""
    return celery_argv("beat", "--loglevel", "INFO", "--scheduler", "redbeat.RedBeatScheduler")


def api_argv() -> list[str]:
    """The API under gunicorn (`syncq.gunicorn_conf`: its address and workers from the settings)."""
    return [sys.executable, "-m", "gunicorn", "--config", "python:syncq.gunicorn_conf", "api:create_app()"]
