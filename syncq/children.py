"""The launcher's child processes, and what makes sure none outlives the launcher.

Three layers, because no single one covers every way a launcher can end:

- `stop_all`: the orderly stop (SIGTERM, a grace period, then SIGKILL of each child's whole
  process group), idempotent, and cut short (never skipped) by `hurry`.
- `die_with_parent`: each child asks the kernel (`prctl(PR_SET_PDEATHSIG)`, Linux) for SIGTERM
  when the launcher dies, even by SIGKILL. It covers the child the launcher forked, not the
  child's own children (a Celery pool, gunicorn workers).
- the reaper (`python -m syncq.children`): a small process that learns each child's process
  group through a pipe from the launcher. When the pipe closes and groups are still alive
  (the launcher died without stopping them), it ends those groups, grandchildren included.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_GRACE = 10.0  # seconds an orderly stop gives each tier of children before SIGKILL
REAPER_GRACE = 8.0  # seconds the reaper gives orphaned groups between SIGTERM and SIGKILL

# Loaded before any fork: in the child, between fork and exec, only a plain call is safe.
_PRCTL = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive `sig` when the launcher dies (Linux only).

    The kernel sends it when the *thread* that forked exits, so fork from the main thread.
    """
    if _PRCTL is None:
        return None
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "start children from the main thread: PR_SET_PDEATHSIG fires when the "
            "forking thread ends, which would end the child with it"
        )
    parent = os.getpid()

    def preexec() -> None:
        if _PRCTL(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os.kill(os.getpid(), signal.SIGKILL)  # better no child than one that may be orphaned
        if os.getppid() != parent:  # the launcher died between fork and prctl
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def group_alive(pgid: int) -> bool:
    """True while any process is left in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def signal_group(pgid: int, sig: int) -> None:
    """Send `sig` to a process group that may already be gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def say(text: str, stream: TextIO | None = None) -> None:
    """Print a line; a closed terminal (after SIGHUP) must not break a stop."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a signal handler's print inside a print
        pass


class Reaper:
    """The launcher's side of the reaper: tell it each child's group; `close` when all are stopped."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncq.children"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def _send(self, line: str) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass

    def watch(self, pgid: int) -> None:
        self._send(f"watch {pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"forget {pgid}")

    def close(self, timeout: float = REAPER_GRACE + 5) -> None:
        """Close the pipe (the reaper then ends what is left, if anything) and wait for it."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except (OSError, ValueError):
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def reaper_main() -> int:
    """Read `watch PGID` / `forget PGID` lines until the launcher's end closes stdin; end what is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        verb, _, pgid = line.strip().partition(" ")
        if pgid.isdigit():
            (groups.add if verb == "watch" else groups.discard)(int(pgid))
    left = [g for g in groups if group_alive(g)]
    for pgid in left:
        signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + REAPER_GRACE
    while time.monotonic() < deadline and any(group_alive(g) for g in left):
        time.sleep(0.1)
    for pgid in left:
        signal_group(pgid, signal.SIGKILL)
    return 0


def _short(line: str, limit: int = 240) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Child:
    """A child process in a process group of its own, its output copied to ours (each line
    prefixed with its name), to its log file, and to the tail kept for error messages."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_dir: Path,
        reaper: Reaper | None = None,
        cwd: str | None = None,
        echo: bool = True,
    ):
        self.name, self.echo = name, echo
        self.tail: collections.deque[str] = collections.deque(maxlen=300)
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 (open while the child runs)
        self._log.write(f"--- started {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(argv)}\n")
        self._stopped = False
        # A session of its own: a Ctrl-C or a closed terminal reaches the launcher alone, which
        # then stops the children in order (a worker before the Redis it acknowledges through).
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            errors="replace",
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        self.pid = self.process.pid
        self.reaper = reaper
        if reaper is not None:
            reaper.watch(self.pid)
        self._pump_thread = threading.Thread(target=self._pump, name=f"pump-{name}", daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.tail.append(line.rstrip("\n"))
            try:
                self._log.write(line)
                self._log.flush()
            except (OSError, ValueError):
                pass
            if self.echo:
                try:
                    sys.stdout.write(f"[{self.name:>7}] {line}")
                    sys.stdout.flush()
                except (OSError, ValueError):
                    pass

    def alive(self) -> bool:
        return self.process.poll() is None

    def last_lines(self, count: int = 2) -> str:
        """Why it failed, from its output: the errors its last two Python tracebacks ended with (if
        any) and the last line, else the last `count` lines; joined into one line."""
        self._pump_thread.join(0.5)  # the last lines of a process that just exited
        lines = [line.rstrip() for line in self.tail if line.strip() and not line.startswith("--- started")]
        if not lines:
            return "(it printed nothing)"
        tracebacks = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
        if tracebacks:  # a traceback's error is the first unindented line after its frames
            errors: list[str] = []
            for start in tracebacks:
                error = next((line for line in lines[start + 1 :] if not line[:1].isspace()), None)
                if error and error not in errors:
                    errors.append(error)
            # Two, not one: a server whose worker failed prints the worker's error (the cause) and
            # then its own (gunicorn's HaltServer, when it halts while still starting).
            picked = errors[-2:] + ([lines[-1]] if lines[-1] not in errors[-2:] else [])
        else:
            picked = lines[-count:]
        return " | ".join(_short(line.strip()) for line in picked)

    def terminate(self) -> None:
        """Ask the child itself to stop (Celery: warm shutdown; gunicorn, Redis: graceful)."""
        if self.alive():
            try:
                self.process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the child's whole group (pool processes, workers), reap it, tell the reaper."""
        if self._stopped:
            return
        signal_group(self.pid, signal.SIGKILL)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            return  # unkillable for now (D state): leave it to the reaper
        deadline = time.monotonic() + 5
        while group_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not group_alive(self.pid):
            self._stopped = True
            if self.reaper is not None:
                self.reaper.forget(self.pid)
        try:
            self._log.close()
        except OSError:
            pass


def stop_all(tiers: list[list[Child]], hurry: threading.Event, grace: float = STOP_GRACE) -> None:
    """Stop tier after tier: SIGTERM, wait up to `grace` s (unless `hurry` is set), then SIGKILL
    every group. Idempotent; `hurry` skips the waiting, never the killing."""
    for tier in tiers:
        for child in tier:
            if not hurry.is_set():
                child.terminate()
        deadline = time.monotonic() + grace
        while not hurry.is_set() and time.monotonic() < deadline and any(c.alive() for c in tier):
            time.sleep(0.1)
        for child in tier:
            child.kill()


if __name__ == "__main__":
    sys.exit(reaper_main())
