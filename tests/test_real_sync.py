"""Recorded real answers through a whole contest sync: a local HTTP server on 127.0.0.1 answers
with them at the services' real paths, the adapters reach it over real HTTP, MongoDB stores."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters import registry
from core.settings import reload_settings
from syncs.contests import sync_platform as sync_platform_once

REAL = Path(__file__).parent / "fixtures" / "real"
Answer = tuple[int, str, bytes]  # status, content type, body


def real(name: str):
    text = (REAL / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def as_json(value, status: int = 200) -> Answer:
    return status, "application/json", json.dumps(value).encode()


class Services(ThreadingHTTPServer):
    """`routes[path](query, body) -> (status, content type, body)`; `requests` logs (path, query, body)."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self):
        self.routes: dict[str, Callable[[dict, dict | None], Answer]] = {}
        self.requests: list[tuple[str, dict, dict | None]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, body: dict | None) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.requests.append((parts.path, query, body))
        route = self.server.routes.get(parts.path)
        status, ctype, content = route(query, body) if route else (404, "text/plain", b"not found")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:
        self._answer(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(json.loads(self.rfile.read(length) or b"null"))


@pytest.fixture()
def services(monkeypatch, store_db):
    server = Services()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name, path in (("CODEFORCES", "/cf"), ("LEETCODE", "/lc"), ("CODECHEF", "/cc")):
        monkeypatch.setenv(f"SYNCQ_{name}_URL", server.url + path)
    monkeypatch.setenv("SYNCQ_HTTP_RETRIES", "2")
    reload_settings()
    yield server
    server.shutdown()
    server.server_close()
    monkeypatch.undo()
    reload_settings()


def test_leetcode_2018_recording_is_stored_with_every_contest_typed(services, store_db):
    services.routes["/lc/graphql"] = lambda q, body: as_json(real("leetcode_all_contests_2018.json"))
    result = sync_platform_once("leetcode")
    assert (result["synced"], result["failed"]) == (97, 0)
    docs = {d["platformId"]: d for d in store_db.contests.find({"platform": "leetcode"})}
    assert docs["leetcode-weekly-contest-18a"]["type"] == "weekly"
    assert docs["weekly-contest-by-app-academy"]["type"] == "weekly"
    assert docs["warm-up-contest"]["type"] == "special" and docs["warm-up-contest"]["durationSeconds"] == 86400
    assert sync_platform_once("leetcode")["unchanged"] == 97


def _leetcode_without_all_contests(services) -> None:
    past = [
        {k: c[k] for k in ("title", "titleSlug", "startTime", "duration")}
        for c in real("leetcode_all_contests_2018.json")["data"]["allContests"]
    ]

    def graphql(query, body):
        text = body["query"]
        if "allContests" in text:
            return as_json({"errors": [{"message": 'Cannot query field "allContests" on type "Query".'}]}, 400)
        if "topTwoContests" in text:
            return as_json(real("leetcode_top_two_contests_2022.json"))
        page, size = body["variables"]["pageNo"], body["variables"]["numPerPage"]
        return as_json(
            {
                "data": {
                    "pastContests": {
                        "pageNum": -(-len(past) // size),
                        "currentPage": page,
                        "totalNum": len(past),
                        "numPerPage": size,
                        "data": past[(page - 1) * size : page * size],
                    }
                }
            }
        )

    services.routes["/lc/graphql"] = graphql


def test_leetcode_fallback_sync_stores_the_next_two_and_pages_the_past_once(services, store_db, monkeypatch):
    _leetcode_without_all_contests(services)
    monkeypatch.setenv("SYNCQ_LEETCODE_MAX_PAST_PAGES", "4")
    reload_settings()
    first = sync_platform_once("leetcode")
    assert first["synced"] == 2 + 40 and first["failed"] == 1
    assert "fallback used" in first["failures"][0]["reason"] and "allContests" in first["failures"][0]["reason"]
    stored = {d["platformId"]: d for d in store_db.contests.find({"platform": "leetcode"})}
    assert stored["weekly-contest-308"]["type"] == "weekly" and stored["biweekly-contest-86"]["type"] == "biweekly"
    assert stored["weekly-contest-308"]["url"] == "https://leetcode.com/contest/weekly-contest-308"
    services.requests.clear()
    second = sync_platform_once("leetcode")
    pages = [body["variables"]["pageNo"] for _, _, body in services.requests if "pastContests" in body["query"]]
    assert pages == [1] and second["synced"] == 0 and second["unchanged"] == 12  # page 1 was all stored


def test_codechef_recording_then_older_pages_until_stored_ones(services, store_db, monkeypatch):
    recorded = real("codechef_all_contests_2025.json")
    template = recorded["past_contests"][0]
    older = [{**template, "contest_code": f"START{202 - k}", "contest_name": f"Starters {202 - k}"} for k in range(45)]
    past = recorded["past_contests"] + older
    services.routes["/cc/api/list/contests/all"] = lambda q, body: as_json(recorded)
    services.routes["/cc/api/list/contests/past"] = lambda q, body: as_json(
        {
            "status": "success",
            "message": "Past contests list",
            "contests": past[int(q["offset"]) : int(q["offset"]) + 20],
        }
    )
    first = sync_platform_once("codechef")
    assert (first["synced"], first["failed"]) == (23 + 45, 0)
    offsets = [q["offset"] for path, q, _ in services.requests if path.endswith("/past")]
    assert offsets == ["20", "40", "60"]  # the third page is short: the end of the list
    weekend = store_db.contests.find_one({"platform": "codechef", "platformId": "DEVWEEKEND20"})
    assert weekend["durationSeconds"] == 2 * 86400 and weekend["phase"] == "FINISHED"
    services.requests.clear()
    assert sync_platform_once("codechef")["unchanged"] == 23  # what `/all` lists; the older ones stay stored
    assert [p for p, _, _ in services.requests] == ["/cc/api/list/contests/all"]  # nothing new: no paging
    assert store_db.contests.count_documents({"platform": "codechef"}) == 68


def test_codeforces_behind_a_cloudflare_challenge_fails_clearly_and_keeps_what_is_stored(services, store_db):
    contests = [
        {
            "id": 2257,
            "name": "Codeforces Round (Div. 2)",
            "type": "CF",
            "phase": "BEFORE",
            "frozen": False,
            "durationSeconds": 7200,
            "startTimeSeconds": 1786977300,
            "relativeTimeSeconds": -694879,
        }
    ]
    services.routes["/cf/api/contest.list"] = lambda q, body: as_json({"status": "OK", "result": contests})
    assert sync_platform_once("codeforces")["synced"] == 1
    page = real("cloudflare_just_a_moment.html").encode()
    services.routes["/cf/api/contest.list"] = lambda q, body: (403, "text/html; charset=UTF-8", page)
    services.requests.clear()
    result = sync_platform_once("codeforces")
    assert result["failed"] == 1 and "Cloudflare challenge" in result["error"] and "all 3 attempts" in result["error"]
    assert len(services.requests) == 3
    assert store_db.contests.count_documents({"platform": "codeforces"}) == 1


def test_codeforces_gym_is_a_platform_only_when_enabled(services, store_db, monkeypatch):
    assert "codeforces_gym" not in registry.names()
    with pytest.raises(KeyError):
        registry.get("codeforces_gym")
    gym = [
        {
            "id": 105123,
            "name": "2024 ICPC Asia Regional (mirror)",
            "type": "ICPC",
            "phase": "FINISHED",
            "frozen": False,
            "durationSeconds": 18000,
            "startTimeSeconds": 1730000000,
            "preparedBy": "someone",
            "kind": "Official ICPC Contest",
            "season": "2024-2025",
            "country": "Japan",
            "city": "Yokohama",
        }
    ]
    services.routes["/cf/api/contest.list"] = lambda q, body: as_json(
        {"status": "OK", "result": gym if q.get("gym") == "true" else []}
    )
    monkeypatch.setenv("SYNCQ_CODEFORCES_GYM_ENABLED", "true")
    reload_settings()
    assert registry.names()[-1] == "codeforces_gym"
    assert sync_platform_once("codeforces_gym")["synced"] == 1
    doc = store_db.contests.find_one({"platform": "codeforces_gym"})
    assert doc["url"] == "https://codeforces.com/gym/105123" and doc["raw"]["kind"] == "Official ICPC Contest"
    assert store_db.contests.count_documents({"platform": "codeforces"}) == 0
