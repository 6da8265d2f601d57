"""A webhook receiver for tests: a local HTTP server that records what it is sent and answers
the statuses a test queues (then 200), and a fixture environment that lets syncq call it."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import reload_settings
from tests.procs import wait_until


class Receiver:
    """Records each request (`at`, `path`, `headers`, `body`); answers `statuses` in turn, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.always: int | None = None  # answer this for ever (a dead endpoint)
        self.location: str | None = None  # with a 3xx
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "at": time.monotonic(),
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body.decode(),
                        }
                    )
                    status = receiver.always or (receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                payload = b"nope" if status >= 400 else b"ok"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        """The first `count` requests, once they arrived."""
        wait_until(lambda: len(self.requests) >= count, timeout, f"{count} webhook requests")
        return self.requests[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture()
def webhook_env(monkeypatch):
    """Private targets allowed (the receiver is on 127.0.0.1), quick backoff; restored afterwards."""
    values = {
        "SYNCQ_WEBHOOK_ALLOW_PRIVATE": "true",
        "SYNCQ_WEBHOOK_BACKOFF_BASE": "0.2",
        "SYNCQ_WEBHOOK_BACKOFF_MAX": "1",
        "SYNCQ_WEBHOOK_RETRY_WINDOW": "120",
        "SYNCQ_WEBHOOK_DISABLE_AFTER": "120",
        "SYNCQ_WEBHOOK_TIMEOUT": "5",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reload_settings()
    yield monkeypatch
    monkeypatch.undo()
    reload_settings()


def tune(monkeypatch, **values: str) -> None:
    """Change webhook settings within a test (the worker runs in this process and reads them live)."""
    for name, value in values.items():
        monkeypatch.setenv(f"SYNCQ_WEBHOOK_{name.upper()}", value)
    reload_settings()
