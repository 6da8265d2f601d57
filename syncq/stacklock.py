"""One stack per data dir: an exclusive lock on `<data dir>/stack.lock`, which also says who holds it.

The lock is an `fcntl.flock` on the file, so the kernel drops it the moment its launcher ends,
however it ends; the file's JSON (pid, URLs, ports, children, the stack's id) then merely
describes a stack that is gone, and the next launcher takes it over. Every process of a stack
carries `SYNCQ_STANDALONE_ID=<id>` in its environment, which is how leftovers are found.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

LOCK_NAME = "stack.lock"
STACK_ENV = "SYNCQ_STANDALONE_ID"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (a zombie counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot): with the pid, a process's identity."""
    fields = _stat(pid)
    return int(fields[19]) if fields is not None else None


def stack_processes(info: dict[str, Any]) -> list[int]:
    """The live processes of the stack a lock file describes: those whose environment carries
    its id, and its recorded children still running under the same pid and start time
    (redis-server writes its title over its environment, so the id alone misses it)."""
    marker = f"{STACK_ENV}={info.get('id')}".encode() if info.get("id") else None
    starts = {int(pid): ticks for pid, ticks in (info.get("starts") or {}).items()}
    found: list[int] = []
    if not Path("/proc").is_dir():  # not Linux: the lock still works, leftovers are not looked for
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        fields = _stat(pid)
        if fields is None or fields[0] == "Z":
            continue
        if pid in starts and int(fields[19]) == starts[pid]:
            found.append(pid)
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker is not None and marker in environ.split(b"\0"):
            found.append(pid)
    return found


def end_leftovers(info: dict[str, Any], timeout: float = 5.0) -> list[int]:
    """SIGKILL every process left of the stack `info` describes; return their pids."""
    pids = stack_processes(info)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
        time.sleep(0.05)
    return pids


class StackLock:
    """The data dir's lock file: `acquire()` (non-blocking), `update(**info)`, `release()`."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self.fd: int | None = None
        self.info: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        """What the lock file says (empty if missing or unreadable)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def held(self) -> bool:
        """True when some launcher holds the lock (probed with a shared lock, released at once)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's shared lock

    def acquire(self, attempts: int = 5) -> bool:
        """Take the lock (a few tries: a `--status` probe holds it for a moment); False if held."""
        # O_CLOEXEC (Python's default) keeps children from inheriting, and so holding, the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(attempts):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return True
            except BlockingIOError:
                if attempt + 1 < attempts:
                    time.sleep(0.1)
        os.close(fd)
        return False

    def update(self, **info: Any) -> None:
        """Rewrite the lock file's description (only while holding the lock)."""
        if self.fd is None:
            return
        self.info.update(info)
        data = json.dumps(self.info, indent=2).encode()
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, data + b"\n")

    def release(self) -> None:
        """Mark the stack stopped and drop the lock."""
        if self.fd is None:
            return
        try:
            self.update(state="stopped", stopped_at=time.time())
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def describe(info: dict[str, Any]) -> str:
    """`pid 123, API http://..., Flower http://...` for messages."""
    parts = [f"pid {info.get('pid', '?')}"]
    if info.get("api"):
        parts.append(f"API {info['api']}")
    if info.get("flower"):
        parts.append(f"Flower {info['flower']}")
    return ", ".join(parts)
