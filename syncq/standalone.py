"""`syncq standalone`: the whole stack on one machine with nothing but Python.

Starts, as child processes with prefixed logs (also kept in `<data dir>/logs/`): Redis
(`redis-server` if on PATH, else fakeredis's TCP server), a MongoDB wire server (SecantusDB, data
in the data dir; or the `SYNCQ_MONGODB_URI` given), a Celery worker, beat, the API and Flower;
with `--offline` also the platform simulator, with every adapter pointed at it. Waits until all
are healthy, runs one sync-all, prints its table (and the failed items with their reasons), the
URLs and an admin token, and serves until Ctrl-C, SIGTERM, SIGHUP or `syncq standalone --stop`.

One stack per data dir (`syncq.stacklock`); no child outlives the launcher (`syncq.children`);
One stack per data dir (`syncq.stacklock`); no child outlives the launcher (`syncq.children`);
a child that fails is named in one line with the last lines of its log and what to do, and the
others are stopped (`syncq.supervisor`, which keeps the children while this module starts them).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from syncq.children import say
from syncq.cli_client import platforms_table, progress_line
from syncq.embedded import embedded_uri, free_port, port_open, secantus_argv
from syncq.stackargv import api_argv, beat_argv, redis_argv, worker_argv
from syncq.stackcmds import refuse_second, show_status, stop_hint, stop_stack, take_over
from syncq.stacklock import StackLock
from syncq.supervisor import Failed, Supervisor

PY = sys.executable
RESPOND_ASYNC = {"Prefer": "respond-async"}


def _pick_port(preferred: int) -> int:
    return preferred if not port_open("127.0.0.1", preferred) else free_port()


def internet_reachable(host: str = "codeforces.com", port: int = 443, timeout: float = 2.0) -> bool:
    """True when an outside service answers a TCP connect (decides offline mode)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _http(
    method: str,
    url: str,
    token: str | None = None,
    body: dict | None = None,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _secret(data_dir: Path, name: str, nbytes: int = 48) -> str:
    """A random secret kept in the data dir, so tokens and logins survive a restart."""
    path = data_dir / name
    value = secrets.token_urlsafe(nbytes)
    try:
        # Created with its final mode in one step: no moment when others may read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(value)
    return value


class Stack:
    """One run of the launcher: the stack's startup sequence, its first sync-all, its serving."""

    def __init__(self, args: argparse.Namespace, data_dir: Path, lock: StackLock):
        self.args, self.data_dir, self.lock = args, data_dir, lock
        self.procs = Supervisor(data_dir, lock)

    def run(self) -> int:
        return self.procs.run(self.serve)

    def serve(self, env: dict[str, str]) -> int:
        args, data_dir = self.args, self.data_dir
        offline = args.offline or (not args.online and not internet_reachable())
        redis_port, api_port = _pick_port(args.redis_port), _pick_port(args.port)
        flower_port = _pick_port(args.flower_port)
        api, flower = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{flower_port}"
        env.update(
            {
                "SYNCQ_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "SYNCQ_JWT_SECRET": env.get("SYNCQ_JWT_SECRET") or _secret(data_dir, "jwt-secret"),
                "FLOWER_USER": env.get("FLOWER_USER") or "admin",
                "FLOWER_PASSWORD": env.get("FLOWER_PASSWORD") or _secret(data_dir, "flower-password", 12),
            }
        )
        self.lock.update(api=api, flower=flower, redis=env["SYNCQ_REDIS_URL"])
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):  # the API's /metrics sums what the worker counted
            metrics_dir = data_dir / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)  # counts of an earlier run's processes
            metrics_dir.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

        redis = self.procs.start("redis", redis_argv(data_dir, redis_port), env, redis_port)
        self.procs.wait("listen", redis, lambda: port_open("127.0.0.1", redis_port), 30)
        if not os.environ.get("SYNCQ_MONGODB_URI"):
            mongo_port = _pick_port(args.mongo_port)
            mongo = self.procs.start(
                "mongodb", secantus_argv("127.0.0.1", mongo_port, str(data_dir / "mongo")), env, mongo_port
            )
            env["SYNCQ_MONGODB_URI"] = embedded_uri("127.0.0.1", mongo_port, "syncq")
            self.procs.wait("listen", mongo, lambda: port_open("127.0.0.1", mongo_port), 60)
        self.lock.update(mongodb=env["SYNCQ_MONGODB_URI"])
        admin_password = _secret(data_dir, "admin-password", 12)
        admin_tool = self.create_admin(env, admin_password)  # needs only the store: runs meanwhile
        if offline:
            sim_port = free_port()
            sim = self.procs.start("sim", [PY, "-m", "syncq.cli", "simulate", "--port", str(sim_port)], env, sim_port)
            self.procs.wait("listen", sim, lambda: port_open("127.0.0.1", sim_port), 30)
            from syncq.simulator import base_urls, clist_env

            env.update(base_urls(f"http://127.0.0.1:{sim_port}"))
            env.update(clist_env(f"http://127.0.0.1:{sim_port}"))  # a dozen more platforms, from its clist.by
            env.setdefault("SYNCQ_CF_RATE_PER_SECOND", "20")
            env.setdefault("SYNCQ_CF_RATE_BURST", "20")
        self.lock.update(ports={**self.procs.ports, "api": api_port, "flower": flower_port})
        worker = self.procs.start("worker", worker_argv(args.concurrency, "standalone@%h"), env)
        self.procs.start("beat", beat_argv(), env)
        api_child = self.procs.start(
            "api",
            api_argv(),
            {
                **env,
                "SYNCQ_API_BIND": f"127.0.0.1:{api_port}",
                "SYNCQ_FLOWER_URL": env.get("SYNCQ_FLOWER_URL") or flower,
            },
            api_port,
        )
        # Flower keeps its own metrics (its /metrics): not in the directory syncq's /metrics sums.
        flower_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        flower_child = self.procs.start(
            "flower",
            [PY, "-m", "syncq.cli", "flower", "--port", str(flower_port), "--address", "127.0.0.1"],
            flower_env,
            flower_port,
        )
        self.procs.wait("answer /health", api_child, lambda: _http("GET", f"{api}/health", timeout=3)[0] == 200, 90)
        self.procs.wait("listen", flower_child, lambda: port_open("127.0.0.1", flower_port), 60)

        self.procs.finish(admin_tool)
        self.api_child = api_child
        status, body = self.call("POST", f"{api}/auth/login", body={"username": "admin", "password": admin_password})
        if status != 200:
            raise Failed(self.procs.failure(api_child, f"refused the admin login ({status} {body})"))
        token = body["access_token"]
        self.procs.wait("run a ping job", worker, lambda: self.run_job(api, "/jobs/ping", token, 5)[0] == 200, 90)

        say(
            f"\nsyncq standalone: running one sync-all "
            f"({'offline, simulated platforms' if offline else 'live platforms'})..."
        )
        status, body = self.run_job(api, "/contests/sync/all", token, 600, progress=True)
        say(
            "\n"
            + (platforms_table(body.get("results", {})) if status == 200 else f"sync-all answered {status}: {body}")
        )
        say(f"""
Web UI    {api}/ui/      (log in as admin, below)
API       {api}          (try: curl {api}/contests?limit=5)
Flower    {flower}   user {env["FLOWER_USER"]}, password {env["FLOWER_PASSWORD"]}
Login     admin / {admin_password}
Token     {token}
Data      {data_dir}    (logs in {self.procs.log_dir})
Ctrl-C stops everything (or: {stop_hint(data_dir)}).
""")
        self.lock.update(state="running", running_at=time.time())
        if args.exit_after_sync:
            return 0 if status == 200 else 1
        while True:
            self.procs.check()
            time.sleep(0.3)

    def create_admin(self, env: dict[str, str], password: str) -> subprocess.Popen:
        """Start `syncq users create admin` with the stored password (created, or reset to it)."""
        argv = [PY, "-m", "syncq.cli", "users", "create", "admin", "--admin", "--password-stdin", "--update"]
        return self.procs.start_tool(argv, env, password)

    def run_job(self, api: str, path: str, token: str, timeout: float, progress: bool = False) -> tuple[int, dict]:
        """Trigger with `Prefer: respond-async`, then poll `GET /jobs/<id>` (a progress bar if asked)."""
        # Above the API's longest wait, should it answer the result rather than 202 at once.
        status, body = self.call("POST", f"{api}{path}", token, headers=RESPOND_ASYNC, timeout=75)
        deadline, last = time.monotonic() + timeout, None
        while status == 202 and time.monotonic() < deadline:
            self.procs.check()
            if progress and (line := progress_line(body)) != last:
                say(line)
                last = line
            status, body = self.call("GET", f"{api}/jobs/{body['job_id']}?wait=1", token)
        return status, body

    def call(self, *args, **kwargs) -> tuple[int, dict]:
        """`_http` to our own API; losing it is a failure of the API (or of what killed it)."""
        try:
            return _http(*args, **kwargs)
        except (OSError, ValueError) as exc:
            self.procs.check()
            raise Failed(self.procs.failure(self.api_child, f"stopped answering ({exc})")) from None


def run(args: argparse.Namespace) -> int:
    """`syncq standalone [--stop | --status]`: serve one stack per data dir until stopped."""
    data_dir = Path(args.data_dir).resolve()
    if args.stop:
        return stop_stack(data_dir)
    if args.status:
        return show_status(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = StackLock(data_dir)
        previous = lock.read()
        acquired = lock.acquire()
    except OSError as exc:
        say(
            f"syncq standalone: cannot use {data_dir} as the data dir: {exc.strerror or exc}. "
            f"What to do: pass --data-dir a directory you can write.",
            sys.stderr,
        )
        return 1
    if not acquired:
        return refuse_second(data_dir, lock.read())
    stack = Stack(args, data_dir, lock)
    take_over(previous, data_dir)
    lock.update(
        id=stack.procs.stack_id, pid=os.getpid(), data_dir=str(data_dir), state="starting", started_at=time.time()
    )
    try:
        return stack.run()
    finally:
        lock.release()


def add_commands(sub) -> None:
    """Add `syncq standalone` to the CLI."""
    p = sub.add_parser("standalone", help="run the whole stack locally and one sync-all")
    p.add_argument("--offline", action="store_true", help="use the platform simulator (no internet)")
    p.add_argument("--online", action="store_true", help="never fall back to the simulator")
    p.add_argument("--port", type=int, default=8000, help="API port (a free one if taken)")
    p.add_argument("--flower-port", type=int, default=5555)
    p.add_argument("--redis-port", type=int, default=6380)
    p.add_argument("--mongo-port", type=int, default=27018)
    p.add_argument("--concurrency", type=int, default=4, help="worker processes")
    p.add_argument("--data-dir", default=".syncq", help="where data survives restarts (one stack per dir)")
    p.add_argument("--exit-after-sync", action="store_true", help="stop after the first sync-all (CI, demos)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--stop", action="store_true", help="stop the stack running on --data-dir, and exit")
    what.add_argument("--status", action="store_true", help="say whether a stack runs on --data-dir, and where")
    p.set_defaults(func=run)
