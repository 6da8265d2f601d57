"""`syncq standalone`: the whole stack on one machine with nothing but Python.

Starts, as child processes with prefixed logs (also kept in `<data dir>/logs/`): Redis
(`redis-server` if on PATH, else fakeredis's TCP server), a MongoDB wire server (SecantusDB, data
in the data dir; or the `SYNCQ_MONGODB_URI` given), a Celery worker, beat, the API and Flower;
with `--offline` also the platform simulator, with every adapter pointed at it. Waits until all
are healthy, runs one sync-all, prints its table (and the failed items with their reasons), the
URLs and an admin token, and serves until Ctrl-C, SIGTERM, SIGHUP or `syncq standalone --stop`.

One stack per data dir (`syncq.stacklock`); no child outlives the launcher (`syncq.children`);
a child that fails is named in one line with the last lines of its log and what to do, and the
others are stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from syncq.children import Child, Reaper, die_with_parent, say, stop_all
from syncq.cli_client import platforms_table, progress_line
from syncq.embedded import embedded_uri, free_port, port_open, secantus_argv
from syncq.stackcmds import refuse_second, show_status, stop_hint, stop_stack, take_over
from syncq.stacklock import STACK_ENV, StackLock, start_ticks

PY = sys.executable
RESPOND_ASYNC = {"Prefer": "respond-async"}

# What each child is, for a newcomer, and what to do when it fails ({data_dir}, {port} filled in).
ROLES = {
    "redis": (
        "Redis",
        "see its log; if port {port} was taken meanwhile, start again (a free port is picked) or pass --redis-port",
    ),
    "mongodb": (
        "the store (SecantusDB)",
        "make sure {data_dir}/mongo is a directory you can write, on "
        "a disk with room, used by no other program; or pass another "
        "--data-dir, or set SYNCQ_MONGODB_URI to a MongoDB of your own",
    ),
    "sim": ("the platform simulator", "see its log, or start without --offline to use the real platforms"),
    "worker": ("the Celery worker", "see its log; it needs the Redis and the store that were up"),
    "beat": ("Celery beat", "see its log; it needs the Redis that was up"),
    "api": ("the API (gunicorn)", "see its log; check SYNCQ_JWT_SECRET and the port ({port})"),
    "flower": ("Flower", "see its log; check FLOWER_USER / FLOWER_PASSWORD and the port ({port})"),
    "tool": ("the account setup (syncq users create)", "see the lines above; it needs the store"),
}


class Stopped(Exception):
    """Ctrl-C, SIGTERM or SIGHUP asked the launcher to stop."""


class Failed(Exception):
    """A child failed; the message is the one line the user reads."""


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


def redis_argv(data_dir: Path, port: int) -> list[str]:
    """redis-server with an append-only file in the data dir, else fakeredis's TCP server."""
    from shutil import which

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
    return [PY, "-c", code, str(port)]


class Stack:
    """One run of the launcher: its children, its signals, its stop."""

    def __init__(self, args: argparse.Namespace, data_dir: Path, lock: StackLock):
        self.args, self.data_dir, self.lock = args, data_dir, lock
        self.children: list[Child] = []
        self.tools: list[subprocess.Popen] = []  # short commands run meanwhile (account setup)
        self.ports: dict[str, int] = {}
        self.stopping = False
        self.hurry = threading.Event()
        self.stack_id = uuid.uuid4().hex
        self.log_dir = data_dir / "logs"

    # --- signals: the first asks for a stop, any later one hurries it; none ever raises ---------
    def on_signal(self, signum: int, _frame) -> None:
        if not self.stopping:
            self.stopping = True
            why = {signal.SIGINT: "Ctrl-C", signal.SIGHUP: "SIGHUP (terminal closed)"}.get(signum, "SIGTERM")
            say(f"\nsyncq standalone: {why}: stopping every process of the stack... (Ctrl-C again to stop at once)")
        elif not self.hurry.is_set():
            self.hurry.set()
            say("syncq standalone: stopping at once (killing what is left)")

    def check(self) -> None:
        """Raise `Stopped` if asked to stop, `Failed` if a child has died."""
        if self.stopping:
            raise Stopped()
        for child in self.children:
            if not child.alive():
                code = child.process.returncode
                how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
                raise Failed(self.failure(child, how))

    def failure(self, child: Child, what: str) -> str:
        label, hint = ROLES.get(child.name, (child.name, "see its log"))
        hint = hint.format(data_dir=self.data_dir, port=self.ports.get(child.name, "?"))
        return (
            f"syncq standalone: {label} {what}: {child.last_lines()}. What to do: {hint}. "
            f"Full log: {child.log_path}. Nothing of the stack was left running."
        )

    def wait(self, what: str, child: Child, check, timeout: float) -> None:
        """Poll `check` until true; a dead child, a stop or the timeout ends the wait."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            try:
                if check():
                    return
            except (Stopped, Failed):
                raise
            except Exception:  # not up yet
                pass
            if time.monotonic() > deadline:
                raise Failed(self.failure(child, f"did not {what} within {timeout:.0f} s"))
            time.sleep(0.2)

    def start(self, name: str, argv: list[str], env: dict[str, str], port: int | None = None) -> Child:
        if port is not None:
            self.ports[name] = port
        child = Child(name, argv, env, self.log_dir, self.reaper)
        self.children.append(child)
        self.lock.update(
            children={c.name: c.pid for c in self.children},
            starts={str(c.pid): start_ticks(c.pid) for c in self.children},
        )
        return child

    # --- the run ---------------------------------------------------------------------------------
    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, STACK_ENV: self.stack_id, "PYTHONUNBUFFERED": "1"}
        self.reaper = Reaper(env)
        failure = None
        try:
            return self.serve(env)
        except Stopped:
            return 0
        except Failed as exc:
            failure = str(exc)
            return 1
        finally:
            self.stopping = True  # from here on, any signal hurries the stop
            try:
                for tool in self.tools:
                    if tool.poll() is None:
                        tool.kill()
                        tool.wait(10)
                tiers = [
                    [c for c in reversed(self.children) if c.name not in ("mongodb", "redis")],
                    [c for c in self.children if c.name in ("mongodb", "redis")],
                ]
                stop_all(tiers, self.hurry)
            finally:
                self.reaper.close()
            say(failure, sys.stderr) if failure else say("syncq standalone: stopped")

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

        redis = self.start("redis", redis_argv(data_dir, redis_port), env, redis_port)
        self.wait("listen", redis, lambda: port_open("127.0.0.1", redis_port), 30)
        if not os.environ.get("SYNCQ_MONGODB_URI"):
            mongo_port = _pick_port(args.mongo_port)
            mongo = self.start(
                "mongodb", secantus_argv("127.0.0.1", mongo_port, str(data_dir / "mongo")), env, mongo_port
            )
            env["SYNCQ_MONGODB_URI"] = embedded_uri("127.0.0.1", mongo_port, "syncq")
            self.wait("listen", mongo, lambda: port_open("127.0.0.1", mongo_port), 60)
        self.lock.update(mongodb=env["SYNCQ_MONGODB_URI"])
        admin_password = _secret(data_dir, "admin-password", 12)
        admin_tool = self.create_admin(env, admin_password)  # needs only the store: runs meanwhile
        if offline:
            sim_port = free_port()
            sim = self.start("sim", [PY, "-m", "syncq.cli", "simulate", "--port", str(sim_port)], env, sim_port)
            self.wait("listen", sim, lambda: port_open("127.0.0.1", sim_port), 30)
            from syncq.simulator import base_urls, clist_env

            env.update(base_urls(f"http://127.0.0.1:{sim_port}"))
            env.update(clist_env(f"http://127.0.0.1:{sim_port}"))  # a dozen more platforms, from its clist.by
            env.setdefault("SYNCQ_CF_RATE_PER_SECOND", "20")
            env.setdefault("SYNCQ_CF_RATE_BURST", "20")
        self.lock.update(ports={**self.ports, "api": api_port, "flower": flower_port})
        worker = self.start(
            "worker",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "-E",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(args.concurrency),
                "--hostname",
                "standalone@%h",
            ],
            env,
        )
        self.start(
            "beat",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "workers",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "redbeat.RedBeatScheduler",
            ],
            env,
        )
        api_child = self.start(
            "api",
            [PY, "-m", "gunicorn", "--config", "python:syncq.gunicorn_conf", "api:create_app()"],
            {
                **env,
                "SYNCQ_API_BIND": f"127.0.0.1:{api_port}",
                "SYNCQ_FLOWER_URL": env.get("SYNCQ_FLOWER_URL") or flower,
            },
            api_port,
        )
        # Flower keeps its own metrics (its /metrics): not in the directory syncq's /metrics sums.
        flower_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        flower_child = self.start(
            "flower",
            [PY, "-m", "syncq.cli", "flower", "--port", str(flower_port), "--address", "127.0.0.1"],
            flower_env,
            flower_port,
        )
        self.wait("answer /health", api_child, lambda: _http("GET", f"{api}/health", timeout=3)[0] == 200, 90)
        self.wait("listen", flower_child, lambda: port_open("127.0.0.1", flower_port), 60)

        self.finish(admin_tool)
        self.api_child = api_child
        status, body = self.call("POST", f"{api}/auth/login", body={"username": "admin", "password": admin_password})
        if status != 200:
            raise Failed(self.failure(api_child, f"refused the admin login ({status} {body})"))
        token = body["access_token"]
        self.wait("run a ping job", worker, lambda: self.run_job(api, "/jobs/ping", token, 5)[0] == 200, 90)

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
Data      {data_dir}    (logs in {self.log_dir})
Ctrl-C stops everything (or: {stop_hint(data_dir)}).
""")
        self.lock.update(state="running", running_at=time.time())
        if args.exit_after_sync:
            return 0 if status == 200 else 1
        while True:
            self.check()
            time.sleep(0.3)

    def create_admin(self, env: dict[str, str], password: str) -> subprocess.Popen:
        """Start `syncq users create admin` with the stored password (created, or reset to it)."""
        tool = subprocess.Popen(
            [PY, "-m", "syncq.cli", "users", "create", "admin", "--admin", "--password-stdin", "--update"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        self.reaper.watch(tool.pid)
        self.tools.append(tool)
        assert tool.stdin is not None
        tool.stdin.write(password + "\n")  # it reads one line; `finish` closes the pipe
        tool.stdin.flush()
        return tool

    def finish(self, tool: subprocess.Popen, timeout: float = 60) -> None:
        """Wait for a tool started by `create_admin`; its failure is one line like a child's."""
        out = ""
        try:
            out, _ = tool.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            tool.kill()
            out, _ = tool.communicate()
        self.reaper.forget(tool.pid)
        self.check()
        if tool.returncode != 0:
            lines = [line for line in out.splitlines() if line.strip()][-2:]
            raise Failed(
                f"syncq standalone: {ROLES['tool'][0]} failed (code {tool.returncode}): "
                f"{' | '.join(lines)}. What to do: {ROLES['tool'][1]}. Nothing of the stack was left running."
            )

    def run_job(self, api: str, path: str, token: str, timeout: float, progress: bool = False) -> tuple[int, dict]:
        """Trigger with `Prefer: respond-async`, then poll `GET /jobs/<id>` (a progress bar if asked)."""
        # Above the API's longest wait, should it answer the result rather than 202 at once.
        status, body = self.call("POST", f"{api}{path}", token, headers=RESPOND_ASYNC, timeout=75)
        deadline, last = time.monotonic() + timeout, None
        while status == 202 and time.monotonic() < deadline:
            self.check()
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
            self.check()
            raise Failed(self.failure(self.api_child, f"stopped answering ({exc})")) from None


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
    lock.update(id=stack.stack_id, pid=os.getpid(), data_dir=str(data_dir), state="starting", started_at=time.time())
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
