"""The front of the public reads: a repeated GET answered before Flask, from the versions alone.

A WSGI middleware around the API. When a public read (`api.cached.versioned`) answers 200, it
marks the request with the versions its answer was built from and how long its query means the
same thing (the calendar's default window moves at midnight UTC, `/platforms` every minute). The
front keeps that answer (its status, headers and body) under the request's path, query string and
`Accept`; a later GET of the same URL is answered here (304 to a matching `If-None-Match`, else the
kept answer) as long as the versions it reads are still those, so what it serves is exactly what
the route would build. Anything else goes to Flask: another method, a request with credentials or
an `Origin` (CORS answers per origin), `If-Modified-Since`, and every request while
SYNCQ_PUBLIC_RATE_LIMIT is set (the limit is counted per request, in Flask).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from store import versions

ENVIRON_KEY = "syncq.front"  # set by api.cached.versioned: (version names, versions, valid until)
ENTRIES = 256
TOTAL_BYTES = 32 * 1024 * 1024  # what one process keeps at most (the least recently kept go first)
ENTRY_BYTES = TOTAL_BYTES // 8  # a larger answer is served by Flask (from its built answer)


@dataclass(frozen=True)
class _Entry:
    names: tuple[str, ...]
    versions: dict[str, int]
    until: float
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str


class Front:
    """The middleware (see the module's text); `flask_app` gives the settings in force."""

    def __init__(self, wsgi_app: Any, flask_app: Any):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.entries: OrderedDict[tuple[str, str, str], _Entry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_AUTHORIZATION" in environ
            or "HTTP_ORIGIN" in environ
            or "HTTP_IF_MODIFIED_SINCE" in environ
            or self.flask_app.config["SYNCQ_SETTINGS"].public_rate_limit
        ):
            return self.wsgi_app(environ, start_response)
        key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT", ""))
        entry = self.entries.get(key)
        if entry is not None and time.time() < entry.until and self._current(entry):
            match = environ.get("HTTP_IF_NONE_MATCH")
            if match and (
                match.strip() == "*" or entry.etag in (t.strip().removeprefix("W/") for t in match.split(","))
            ):
                kept = [(name, value) for name, value in entry.headers if name.lower() != "content-length"]
                start_response("304 NOT MODIFIED", kept)
                return [b""]
            start_response(entry.status, entry.headers)
            return [entry.body]
        return self._learn(key, environ, start_response)

    @staticmethod
    def _current(entry: _Entry) -> bool:
        try:
            return versions.current(entry.names) == entry.versions
        except versions.VersionsUnavailable:
            return False

    def _learn(self, key: tuple[str, str, str], environ: dict[str, Any], start_response: Any) -> Any:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, capture)
        marked = environ.get(ENVIRON_KEY)
        if marked is None or not str(seen.get("status", "")).startswith("200"):
            return answer
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        names, found, until = marked
        etag = next((value for name, value in seen["headers"] if name.lower() == "etag"), "")
        if len(body) <= ENTRY_BYTES and etag:
            entry = _Entry(tuple(names), dict(found), until, seen["status"], list(seen["headers"]), body, etag)
            with self.lock:
                old = self.entries.pop(key, None)
                self.size += len(body) - (len(old.body) if old is not None else 0)
                self.entries[key] = entry
                while len(self.entries) > ENTRIES or self.size > TOTAL_BYTES:
                    _, dropped = self.entries.popitem(last=False)
                    self.size -= len(dropped.body)
        return [body]
