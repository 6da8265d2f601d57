"""A mock transport that answers every contest source with its recorded payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

FIXTURES = Path(__file__).parent / "fixtures"

ROUTES = {
    "/api/contest.list": ("codeforces_contest_list.json", "application/json"),
    "/graphql": ("leetcode_all_contests.json", "application/json"),
    "/api/list/contests/all": ("codechef_contests.json", "application/json"),
    "/api/list/contests/past": ("codechef_past_empty.json", "application/json"),
    "/atcoder/resources/contests.json": ("kenkoooo_contests.json", "application/json"),
    "/contests/": ("atcoder_contests.html", "text/html; charset=utf-8"),
}


class RecordedPlatforms:
    """Serves the fixtures; `overrides[path]` replaces an answer; `edit(path, fn)` edits the JSON."""

    def __init__(self):
        self.bodies = {path: (FIXTURES / name).read_bytes() for path, (name, _) in ROUTES.items()}
        self.overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def edit(self, path: str, change: Callable[[object], None]) -> None:
        data = json.loads(self.bodies[path])
        change(data)
        self.bodies[path] = json.dumps(data).encode()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.overrides:
            return self.overrides[path](request)
        if path not in ROUTES:
            return httpx.Response(404, text="not recorded")
        return httpx.Response(200, content=self.bodies[path], headers={"Content-Type": ROUTES[path][1]})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
