"""The launcher's bookkeeping of its processes: start each, watch them all, wait on one, stop them all.

`Supervisor.run(serve)` runs the stack's startup sequence (`serve`, in `syncq.standalone`) under
the launcher's signals. The first Ctrl-C, SIGTERM or SIGHUP asks for a stop, any later one hurries
it; a child that dies, or does not come up in time, ends the run with one line that names it, the
last lines of its log and what to do. However the run ends, every child is stopped (the others
before Redis and the store) and the reaper is closed (`syncq.children`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from syncq.children import Child, Reaper, die_with_parent, say, stop_all
from syncq.stacklock import STACK_ENV, StackLock, start_ticks

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


class Supervisor:
    """One run of the launcher: its children, its short tools, their ports, its signals, its stop."""

    def __init__(self, data_dir: Path, lock: StackLock):
        self.data_dir, self.lock = data_dir, lock
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
    def run(self, serve: Callable[[dict[str, str]], int]) -> int:
        """`serve(env)` under the launcher's signals; every child stopped however it ends."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, STACK_ENV: self.stack_id, "PYTHONUNBUFFERED": "1"}
        self.reaper = Reaper(env)
        failure = None
        try:
            return serve(env)
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

    # --- short tools (the account setup), run while children start --------------------------------
    def start_tool(self, argv: list[str], env: dict[str, str], line: str) -> subprocess.Popen:
        """Start `argv` and give it `line` on its stdin; `finish` waits for it."""
        tool = subprocess.Popen(
            argv,
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
        tool.stdin.write(line + "\n")  # it reads one line; `finish` closes the pipe
        tool.stdin.flush()
        return tool

    def finish(self, tool: subprocess.Popen, timeout: float = 60) -> None:
        """Wait for a tool started by `start_tool`; its failure is one line like a child's."""
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
