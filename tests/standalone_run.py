"""A `syncq standalone` started as a user starts it, watched from outside through /proc."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from syncq.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of the test suite's SYNCQ_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCQ_", "FLOWER_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def live(pid: int, start: str | None = None) -> bool:
    """The process is there, not a zombie, and (if given) the same one that started at `start`."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and (start is None or fields[19] == start)


class Launcher:
    """`python -m syncq.cli standalone --offline ...` in a session of its own (as a shell's job),
    its output in a file."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = data_dir.parent / f"{data_dir.name}-launcher-{time.monotonic_ns()}.out"
        args = [
            sys.executable,
            "-m",
            "syncq.cli",
            "standalone",
            "--offline",
            "--data-dir",
            str(data_dir),
            "--port",
            str(free_port()),
            "--flower-port",
            str(free_port()),
            "--redis-port",
            str(free_port()),
            "--mongo-port",
            str(free_port()),
            "--concurrency",
            "1",
            *extra,
        ]
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                args,
                env=env or user_env(),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid = self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def info(self) -> dict:
        try:
            return json.loads((self.data_dir / "stack.lock").read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def wait_running(self, timeout: float = 150) -> dict:
        """Until the lock file says this launcher's stack runs (its first sync-all done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.info()
            if info.get("pid") == self.pid and info.get("state") == "running":
                return info
            assert self.process.poll() is None, f"launcher exited {self.process.returncode}:\n{self.output()[-4000:]}"
            time.sleep(0.25)
        raise AssertionError(f"the stack was not running within {timeout} s:\n{self.output()[-4000:]}")

    def wait_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert time.monotonic() < deadline, f"{text!r} not printed within {timeout} s:\n{self.output()[-3000:]}"
            time.sleep(0.1)

    def processes(self) -> dict[int, str]:
        """Every descendant of the launcher now (pid -> start time), pool and gunicorn workers included."""
        parents: dict[int, list[int]] = {}
        starts: dict[int, str] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
                starts[int(entry.name)] = fields[19]
        found, todo = {}, [self.pid]
        while todo:
            for child in parents.get(todo.pop(), []):
                found[child] = starts[child]
                todo.append(child)
        return found

    def signal_group(self, sig: int) -> None:
        """What a terminal does: the signal to the launcher's whole foreground process group."""
        os.killpg(self.pid, sig)

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the launcher did not exit within {timeout} s:\n{self.output()[-3000:]}") from None

    def token(self) -> str:
        return re.search(r"^Token\s+(\S+)", self.output(), re.M).group(1)

    def kill_everything(self) -> None:
        """Cleanup after a failed test: nothing of this stack may outlive it."""
        for pid in [self.pid, *self.processes()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def with_marker(stack_id: str) -> list[int]:
    """Live processes whose environment carries the stack's id."""
    marker = f"SYNCQ_STANDALONE_ID={stack_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and marker in (entry / "environ").read_bytes().split(b"\0")
                and live(int(entry.name))
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def port_free(port: int) -> bool:
    """A server could listen on the port now (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
            return True
        except OSError:
            return False


def assert_nothing_left(processes: dict[int, str], info: dict, timeout: float = 30) -> None:
    """No process of the stack remains (by pid and start time, and by the id in the environment),
    and every port it used is free; waits up to `timeout` s for the last ones to go."""
    deadline = time.monotonic() + timeout
    while True:
        left = {pid for pid, start in processes.items() if live(pid, start)} | set(with_marker(info["id"]))
        busy = [port for port in info["ports"].values() if not port_free(port)]
        if not left and not busy:
            return
        if time.monotonic() > deadline:
            names = {
                pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:80]
                for pid in left
                if Path(f"/proc/{pid}/cmdline").exists()
            }
            raise AssertionError(f"left running: {names}; ports still taken: {busy}")
        time.sleep(0.2)
