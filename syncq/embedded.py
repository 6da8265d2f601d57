"""Embedded stand-ins for the services syncq needs: a SecantusDB (MongoDB wire) process.

Used by the test suite and by `syncq standalone`: a real MongoDB wire server in its own
process, spoken to with the real pymongo.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def secantus_command() -> list[str]:
    """How to start `secantusd-py` from this environment (the venv's script first)."""
    beside = Path(sys.executable).with_name("secantusd-py")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("secantusd-py")
    if found:
        return [found]
    raise FileNotFoundError(
        "secantusd-py not found: install the embedded extra "
        "(pip install -e '.[embedded]', which pins secantusdb==0.7.0b3)"
    )


# Started `--standalone`: as a single-node replica set (its default) it also writes an oplog
# entry for every document written, for change streams, which syncq does not use. No retryable
# writes: it keeps a record of every retryable write and sweeps them all on each new one, so a
# write's cost would grow with the writes before it (docs/benchmarks-notes.md has the figures).
# Our writes are idempotent upserts or fail into the job's own retry, so the driver's one silent
# retry is not missed.
URI_OPTIONS = "directConnection=true&retryWrites=false"


def secantus_argv(host: str, port: int, storage: str) -> list[str]:
    """The command that serves SecantusDB on host:port with `storage` (a dir or :memory:)."""
    return [
        *secantus_command(),
        "--host",
        host,
        "--port",
        str(port),
        "--storage-path",
        storage,
        "--log-level",
        "WARNING",
        "--standalone",
    ]


def embedded_uri(host: str, port: int, database: str = "") -> str:
    """The URI for a SecantusDB process at host:port (optionally naming a database)."""
    return f"mongodb://{host}:{port}/{database}?{URI_OPTIONS}"


@dataclass
class EmbeddedMongo:
    """A running `secantusd-py` process and the URI that reaches it."""

    process: subprocess.Popen
    host: str
    port: int

    @property
    def uri(self) -> str:
        return embedded_uri(self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (terminate, then kill if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_secantus(
    storage: str = ":memory:", *, host: str = "127.0.0.1", port: int | None = None, log_file=None, timeout: float = 30.0
) -> EmbeddedMongo:
    """Start SecantusDB on `port` (free one if None) with `storage` (a dir or :memory:); wait for it."""
    port = port or free_port(host)
    if storage != ":memory:":
        Path(storage).mkdir(parents=True, exist_ok=True)
    cmd = secantus_argv(host, port, storage)
    out = log_file if log_file is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    server = EmbeddedMongo(process, host, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"secantusd-py exited with code {process.returncode} at start")
        if port_open(host, port):
            try:
                with MongoClient(server.uri, serverSelectionTimeoutMS=1000) as probe:
                    probe.admin.command("ping")
                return server
            except PyMongoError:
                pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"secantusd-py did not answer on {host}:{port} within {timeout:.0f} s")
