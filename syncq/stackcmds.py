"""What `syncq standalone` says and does about a stack already on a data dir:
refuse a second launcher, take over a stale lock, `--status`, `--stop`."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from syncq.children import say
from syncq.stacklock import StackLock, describe, end_leftovers, pid_alive, stack_processes

STOP_WAIT = 60.0  # seconds `--stop` waits for an orderly stop before it kills the launcher


def own_command() -> str:
    """How the user can run `syncq` again: `syncq` if that is on PATH, else the script's path
    (`make run` users have `.venv/bin/syncq`), else `python -m syncq.cli`."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "syncq":
        on_path = shutil.which("syncq")
        if on_path and Path(on_path).resolve() == argv0.resolve():
            return "syncq"
        return os.path.relpath(argv0) if not argv0.is_absolute() or Path.cwd() in argv0.parents else str(argv0)
    return f"{sys.executable} -m syncq.cli"


def stop_hint(data_dir: Path) -> str:
    """The command that stops the stack on `data_dir`."""
    return f"{own_command()} standalone --stop --data-dir {data_dir}"


def refuse_second(data_dir: Path, info: dict[str, Any]) -> int:
    """The one line a second launcher on a held data dir prints; exit code 1."""
    pid = info.get("pid")
    if pid and pid_alive(int(pid)):
        state = "starting" if info.get("state") == "starting" else "running"
        say(
            f"syncq standalone: a stack is already {state} on {data_dir} ({describe(info)}); "
            f"stop it with: {stop_hint(data_dir)} (or Ctrl-C in its terminal)",
            sys.stderr,
        )
    else:
        say(
            f"syncq standalone: {data_dir} is locked by processes left of a stack whose launcher "
            f"(pid {pid or '?'}) is gone; end them with: {stop_hint(data_dir)}",
            sys.stderr,
        )
    return 1


def take_over(previous: dict[str, Any], data_dir: Path) -> None:
    """After acquiring the lock: say so if it was stale, and end what that stack left behind."""
    if previous.get("state") not in (None, "stopped"):
        say(
            f"syncq standalone: taking over the stale lock on {data_dir} (its launcher, pid "
            f"{previous.get('pid', '?')}, is gone)"
        )
    leftovers = end_leftovers(previous)
    if leftovers:
        say(
            f"syncq standalone: ended {len(leftovers)} process(es) left of that stack: {', '.join(map(str, leftovers))}"
        )


def show_status(data_dir: Path) -> int:
    """`--status`: what runs on this data dir, and where; exit 0 if a stack runs, 1 if not."""
    lock = StackLock(data_dir)
    info = lock.read()
    if not lock.held():
        say(f"syncq standalone: no stack is running on {data_dir}")
        return 1
    since = datetime.fromtimestamp(info["started_at"]).strftime("%Y-%m-%d %H:%M:%S") if info.get("started_at") else "?"
    lines = [
        f"syncq standalone: a stack is {info.get('state', 'running')} on {data_dir} "
        f"(launcher pid {info.get('pid', '?')}, since {since})"
    ]
    for key, label in (("api", "API"), ("flower", "Flower"), ("redis", "Redis"), ("mongodb", "MongoDB")):
        if info.get(key):
            lines.append(f"  {label:<8}{info[key]}")
    children = info.get("children") or {}
    if children:
        lines.append(
            "  children: "
            + ", ".join(f"{name} {pid} ({'up' if pid_alive(int(pid)) else 'gone'})" for name, pid in children.items())
        )
    lines.append(f"  stop it with: {stop_hint(data_dir)}")
    say("\n".join(lines))
    return 0


def _wait_free(lock: StackLock, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock.held():
            return True
        time.sleep(0.2)
    return not lock.held()


def stop_stack(data_dir: Path) -> int:
    """`--stop`: SIGTERM the launcher (an orderly stop), wait for its lock to drop, kill if it must."""
    lock = StackLock(data_dir)
    info = lock.read()
    pid = int(info.get("pid") or 0)
    if not lock.held():
        leftovers = end_leftovers(info)
        tail = f" (ended {len(leftovers)} process(es) left of an earlier one)" if leftovers else ""
        say(f"syncq standalone: no stack is running on {data_dir}{tail}")
        return 0
    if pid and pid_alive(pid) and pid != os.getpid():
        say(f"syncq standalone: stopping the stack on {data_dir} ({describe(info)})...")
        try:
            os.kill(pid, signal.SIGTERM)
        except PermissionError:
            say(f"syncq standalone: not allowed to stop pid {pid} (another user's stack?)", sys.stderr)
            return 1
        if not _wait_free(lock, STOP_WAIT):
            say(f"syncq standalone: it did not stop within {STOP_WAIT:.0f} s; killing it")
            os.kill(pid, signal.SIGKILL)
            _wait_free(lock, 10)
    leftovers = end_leftovers(info)
    if lock.held() or stack_processes(info):
        say(
            f"syncq standalone: {data_dir} is still locked; see `{own_command()} standalone --status "
            f"--data-dir {data_dir}`",
            sys.stderr,
        )
        return 1
    say(
        f"syncq standalone: stopped the stack on {data_dir}"
        + (f" (and ended {len(leftovers)} leftover process(es))" if leftovers else "")
    )
    return 0
