"""Stub contest adapters for sync tests: in-memory platforms whose answers a test controls."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from adapters.errors import ParseError, TransientError
from adapters.records import Contest, ParseResult

BASE = datetime(2026, 11, 1, tzinfo=UTC)


def contest(platform: str, n: int, **changes: Any) -> Contest:
    """A plausible contest number `n` of `platform`."""
    fields = {
        "platform": platform,
        "platformId": f"{platform[:2]}{n}",
        "name": f"{platform} round {n}",
        "type": "CF",
        "phase": "FINISHED",
        "rawPhase": "FINISHED",
        "startTime": BASE + timedelta(days=n),
        "endTime": BASE + timedelta(days=n, hours=2),
        "durationSeconds": 7200,
        "url": f"https://example.test/{platform}/{n}",
        "raw": {"id": n},
    }
    fields.update(changes)
    return Contest(**fields)


class StubPlatform:
    """A platform adapter: `contests` is what it serves; `error` makes fetch fail; `gate` holds it."""

    def __init__(self, name: str, count: int = 5):
        self.name = name
        self.contests = [contest(name, n) for n in range(count)]
        self.error: Exception | None = None
        self.skipped: list[dict] = []
        self.gate: threading.Event | None = None
        self.calls = 0

    def module(self) -> SimpleNamespace:
        return SimpleNamespace(NAME=self.name, fetch=self.fetch, parse=self.parse)

    def fetch(self, client, settings) -> list[Contest]:
        self.calls += 1
        if self.gate is not None and not self.gate.wait(30):
            raise TransientError("stub gate never opened", service=self.name)
        if self.error is not None:
            raise self.error
        return list(self.contests)

    def parse(self, payload, now=None) -> ParseResult:
        result = ParseResult(records=list(payload))
        for item in self.skipped:
            result.skip(item, "bad item")
        return result


def install(monkeypatch, names=("codeforces", "leetcode", "codechef", "atcoder")) -> dict[str, StubPlatform]:
    """Replace the adapter registry with stub platforms for one test."""
    from adapters import registry

    stubs = {name: StubPlatform(name) for name in names}
    monkeypatch.setattr(registry, "_ADAPTERS", {name: stub.module() for name, stub in stubs.items()})
    monkeypatch.setattr(registry, "_loaded", True)
    return stubs


GARBAGE = ParseError("expected JSON, got an HTML page (5120 bytes, HTTP 200)", service="leetcode")
DOWN = TransientError("unreachable: ConnectError: connection refused", service="codechef")
