"""A fake RAIDA network behind an async mock transport: each server ready, down, hanging or lying."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from syncq.samples import raida as samples

FIXTURES = Path(__file__).parent / "fixtures"


class FakeNetwork:
    """`mode[i]`: ready, down (HTTP 500), hang (never answers), not_ready (echo says so),
    garbage_dir (echo ready, directory is HTML), dir_down (echo ready, directory 503)."""

    def __init__(self, count: int = 25):
        self.mode = dict.fromkeys(range(count), "ready")
        self.users = (FIXTURES / "raida_users.csv").read_text()
        self.qmail = (FIXTURES / "raida_qmail_servers.json").read_text()
        self.raida = (FIXTURES / "raida_servers.txt").read_text()
        self.requests: list[str] = []

    def _index(self, request: httpx.Request) -> int:
        return int(request.url.path.split("/")[1].removeprefix("raida"))

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        index = self._index(request)
        service = request.url.path.rsplit("/", 1)[1]
        self.requests.append(f"{index}:{service}")
        mode = self.mode[index]
        if mode == "hang":
            await asyncio.sleep(3600)
        if mode == "down":
            return httpx.Response(500, text="internal error")
        if service == "echo":
            status = "error" if mode == "not_ready" else "ready"
            return httpx.Response(200, json=samples.echo(index, status=status))
        if mode == "dir_down":
            return httpx.Response(503, text="directory unavailable")
        if mode == "garbage_dir":
            return httpx.Response(200, text="<html><body>Oops</body></html>", headers={"Content-Type": "text/html"})
        body = {"users": self.users, "qmail_servers": self.qmail, "raida_servers": self.raida}[service]
        ctype = "application/json" if service == "qmail_servers" else "text/plain"
        return httpx.Response(200, text=body, headers={"Content-Type": ctype})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def directory_requests(self) -> list[int]:
        return [int(r.split(":")[0]) for r in self.requests if r.endswith(":users")]


TEMPLATE = "http://raida.test/raida{i}"
