"""`syncq standalone`: the whole stack on one machine with nothing but Python.

Starts, as child processes with prefixed logs: Redis (`redis-server` if on PATH, else
fakeredis's TCP server), a MongoDB wire server (SecantusDB, data in the data dir; or the
`SYNCQ_MONGODB_URI` given), a Celery worker, beat, the API and Flower; with `--offline` also
the platform simulator, with every adapter pointed at it. Waits until all are healthy, runs
one sync-all, prints its table, the URLs and an admin token, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from syncq.embedded import embedded_uri, free_port, port_open, secantus_argv

PY = sys.executable


def _pick_port(preferred: int) -> int:
    return preferred if not port_open("127.0.0.1", preferred) else free_port()


def internet_reachable(host: str = "codeforces.com", port: int = 443, timeout: float = 2.0) -> bool:
    """True when an outside service answers a TCP connect (decides offline mode)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Child:
    """A child process whose output is copied to ours, each line prefixed with its name."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: str | None = None):
        self.name = name
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        text=True, bufsize=1, start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            sys.stdout.write(f"[{self.name:>7}] {line}")
            sys.stdout.flush()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (warm shutdown for Celery), then SIGKILL if it lingers."""
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _wait(what: str, check, timeout: float, children: list[Child]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited (code {child.process.returncode}) "
                                   f"while waiting for {what}")
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s")


def _http(method: str, url: str, token: str | None = None, body: dict | None = None,
          timeout: float = 70.0) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
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
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value


def start_redis(data_dir: Path, port: int, env: dict[str, str]) -> Child:
    """redis-server with an append-only file in the data dir, else fakeredis's TCP server."""
    from shutil import which

    if which("redis-server"):
        redis_dir = data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        return Child("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                               "--dir", str(redis_dir), "--appendonly", "yes", "--save", ""], env)
    code = ("import sys; from fakeredis import TcpFakeServer; "
            "s = TcpFakeServer(('127.0.0.1', int(sys.argv[1])), server_type='redis'); "
            "print('fakeredis TCP server on', sys.argv[1], flush=True); s.serve_forever()")
    return Child("redis", [PY, "-c", code, str(port)], env)


def table(results: dict) -> str:
    """The per-platform result table of a sync-all."""
    rows = [("platform", "synced", "updated", "failed", "error")]
    for platform, r in results.items():
        rows.append((platform, str(r.get("synced", 0)), str(r.get("updated", 0)),
                     str(r.get("failed", 0)), (r.get("error") or "")[:70]))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Start everything, run one sync-all, print how to reach it, serve until Ctrl-C."""
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    offline = args.offline or (not args.online and not internet_reachable())
    env = {k: v for k, v in os.environ.items()}
    children: list[Child] = []
    redis_port, api_port = _pick_port(args.redis_port), _pick_port(args.port)
    flower_port = _pick_port(args.flower_port)
    env.update({
        "SYNCQ_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SYNCQ_JWT_SECRET": env.get("SYNCQ_JWT_SECRET") or _secret(data_dir, "jwt-secret"),
        "FLOWER_USER": env.get("FLOWER_USER") or "admin",
        "FLOWER_PASSWORD": env.get("FLOWER_PASSWORD") or _secret(data_dir, "flower-password", 12),
        "PYTHONUNBUFFERED": "1",
    })

    def stop_all(*_args) -> None:
        for child in reversed(children):
            child.stop()

    try:
        children.append(start_redis(data_dir, redis_port, env))
        _wait("Redis", lambda: port_open("127.0.0.1", redis_port), 30, children)
        if not os.environ.get("SYNCQ_MONGODB_URI"):
            mongo_port = _pick_port(args.mongo_port)
            children.append(Child("mongodb", secantus_argv("127.0.0.1", mongo_port, str(data_dir / "mongo")), env))
            env["SYNCQ_MONGODB_URI"] = embedded_uri("127.0.0.1", mongo_port, "syncq")
            _wait("MongoDB", lambda: port_open("127.0.0.1", mongo_port), 60, children)
        if offline:
            sim_port = free_port()
            children.append(Child("sim", [PY, "-m", "syncq.cli", "simulate", "--port", str(sim_port)], env))
            _wait("the simulator", lambda: port_open("127.0.0.1", sim_port), 30, children)
            from syncq.simulator import base_urls

            env.update(base_urls(f"http://127.0.0.1:{sim_port}"))
            env.setdefault("SYNCQ_CF_RATE_PER_SECOND", "20")
            env.setdefault("SYNCQ_CF_RATE_BURST", "20")
        children.append(Child("worker", [PY, "-m", "celery", "-A", "workers", "worker", "-E",
                                         "--loglevel", "INFO", "--concurrency", str(args.concurrency),
                                         "--hostname", "standalone@%h"], env))
        children.append(Child("beat", [PY, "-m", "celery", "-A", "workers", "beat", "--loglevel", "INFO",
                                       "--scheduler", "redbeat.RedBeatScheduler"], env))
        api_env = {**env, "SYNCQ_API_BIND": f"127.0.0.1:{api_port}",
                   "SYNCQ_FLOWER_URL": env.get("SYNCQ_FLOWER_URL") or f"http://127.0.0.1:{flower_port}"}
        children.append(Child("api", [PY, "-m", "gunicorn", "--config", "python:syncq.gunicorn_conf",
                                      "api:create_app()"], api_env))
        children.append(Child("flower", [PY, "-m", "syncq.cli", "flower", "--port", str(flower_port),
                                         "--address", "127.0.0.1"], env))
        api = f"http://127.0.0.1:{api_port}"
        _wait("the API", lambda: _http("GET", f"{api}/health", timeout=3)[0] == 200, 90, children)

        admin_password = _secret(data_dir, "admin-password", 12)
        subprocess.run([PY, "-m", "syncq.cli", "users", "create", "admin", "--admin", "--password-stdin",
                        "--update"], input=admin_password + "\n", text=True, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        status, body = _http("POST", f"{api}/auth/login", body={"username": "admin", "password": admin_password})
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        token = body["access_token"]
        _wait("a worker", lambda: _http("POST", f"{api}/jobs/ping?wait=5", token)[0] == 200, 90, children)

        print(f"\nsyncq standalone: running one sync-all ({'offline, simulated platforms' if offline else 'live platforms'})...",
              flush=True)
        status, body = _http("POST", f"{api}/contests/sync/all?wait=60", token)
        while status == 202:
            status, body = _http("GET", f"{api}/jobs/{body['job_id']}?wait=60", token)
        print("\n" + (table(body.get("results", {})) if status == 200 else f"sync-all answered {status}: {body}"))
        print(f"""
Web UI    {api}/ui/      (log in as admin, below)
API       {api}          (try: curl {api}/contests?limit=5)
Flower    http://127.0.0.1:{flower_port}   user {env['FLOWER_USER']}, password {env['FLOWER_PASSWORD']}
Login     admin / {admin_password}
Token     {token}
Data      {data_dir}
Ctrl-C stops everything.
""", flush=True)
        if args.exit_after_sync:
            return 0 if status == 200 else 1
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(child.alive() for child in children):
            time.sleep(0.5)
        dead = [child.name for child in children if not child.alive()]
        print(f"syncq standalone: {', '.join(dead)} stopped; shutting down", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nsyncq standalone: stopping...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"syncq standalone: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all()


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
    p.add_argument("--data-dir", default=".syncq", help="where data survives restarts")
    p.add_argument("--exit-after-sync", action="store_true", help="stop after the first sync-all (CI, demos)")
    p.set_defaults(func=run)
