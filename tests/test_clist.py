"""clist.by as a source: recorded answers parse right, each resource is a platform of its own, a bad
key fails clearly and is never shown, and clist's limit is shared by every worker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import adapters.http
import store
from adapters import clist, registry, source
from adapters.http import make_client
from core.settings import get_settings, reload_settings
from syncq.simulator import clist_env

REAL = Path(__file__).parent / "fixtures" / "real"
NOW = datetime(2020, 6, 1, 12, 0, tzinfo=UTC)
SECRET = "f00dfacecafe0123456789abcdef0123456789ab"
DEFAULT_PLATFORMS = {
    "topcoder": "topcoder.com",
    "hackerrank": "hackerrank.com",
    "hackerearth": "hackerearth.com",
    "geeksforgeeks": "geeksforgeeks.org",
    "yukicoder": "yukicoder.me",
    "dmoj": "dmoj.ca",
    "kattis": "open.kattis.com",
    "toph": "toph.co",
    "luogu": "luogu.com.cn",
    "nowcoder": "ac.nowcoder.com",
}


def recorded(name: str):
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def parsed(host: str, payload, now: datetime = NOW):
    resource = clist.ClistResource(host, clist.platform_name(host), get_settings())
    return source.finish(resource.SOURCE, resource.parse(payload), now)


@pytest.fixture()
def account(monkeypatch):
    """clist.by turned on (a made-up account) with the default resources; settings restored after."""
    monkeypatch.setenv("SYNCQ_CLIST_USERNAME", "syncq-test")
    monkeypatch.setenv("SYNCQ_CLIST_API_KEY", SECRET)
    monkeypatch.setattr(clist, "LIMIT_KEY", f"test:clist:{uuid.uuid4().hex}")  # a budget of its own
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


def test_a_recorded_answer_parses_every_field_of_each_resources_contests():
    answer = recorded("clist_v1_contests_2020.json")
    result = parsed("topcoder.com", answer)
    assert result.failed == [] and len(result.records) == 6
    tco = next(c for c in result.records if c.platformId == "19473175")
    assert tco.platform == "topcoder" and tco.name == "TCO20 Round 4"
    assert tco.startTime == datetime(2020, 9, 5, 16, 0, tzinfo=UTC)  # naive clist times are UTC
    assert tco.endTime == datetime(2020, 9, 5, 18, 0, tzinfo=UTC) and tco.durationSeconds == 7200
    assert tco.url == "https://topcoder.com/community/events/" and tco.phase == "UPCOMING"
    assert tco.raw["resource"] == {"id": 12, "name": "topcoder.com"}
    # The other resources in the answer are left out, named, never counted as this platform's failures.
    assert "ctftime.org (28)" in result.flagged[0]["error"]
    [toph] = parsed("toph.co", answer).records
    assert (toph.platformId, toph.startTime, toph.endTime, toph.durationSeconds) == (
        "20073138",
        datetime(2020, 6, 1, 14, 0, tzinfo=UTC),
        datetime(2020, 6, 1, 17, 0, tzinfo=UTC),
        10800,
    )
    assert toph.url == "https://toph.co/c/bsmrstu-home-quarantine-contest-6-r" and toph.phase == "UPCOMING"
    long_one = next(c for c in parsed("dl.gsu.by", answer).records if c.platformId == "19619827")
    assert long_one.name == "Программирование - профессионалы (лич. 2019-2020)" and long_one.platform == "gsu"


def test_another_recorded_answer_parses_every_resource_it_lists():
    answer = recorded("clist_v1_contests_2020_all.json")
    counts = {host: len(parsed(host, answer).records) for host in ("hackerearth.com", "yukicoder.me", "hackerrank.com")}
    assert counts == {"hackerearth.com": 17, "yukicoder.me": 14, "hackerrank.com": 9}
    for host in ("hackerearth.com", "open.kattis.com"):
        result = parsed(host, answer)
        assert result.failed == []
        for contest in result.records:
            assert contest.durationSeconds == int((contest.endTime - contest.startTime).total_seconds())


def test_a_recorded_v4_object_parses_with_its_resource_as_a_host():
    item = recorded("clist_v4_contest_2020.json")
    [contest] = parsed("leetcode.com", {"meta": {}, "objects": [item]}, datetime(2026, 1, 1, tzinfo=UTC)).records
    assert contest.platformId == "20198406" and contest.name == "Weekly Contest 193"
    assert contest.startTime == datetime(2020, 6, 14, 2, 30, tzinfo=UTC)
    assert contest.endTime == datetime(2020, 6, 14, 4, 0, tzinfo=UTC) and contest.durationSeconds == 5400
    assert contest.url == "https://leetcode.com/contest/weekly-contest-193" and contest.phase == "FINISHED"
    assert contest.raw["resource"] == "leetcode.com" and contest.raw["resource_id"] == 102


def test_each_resource_is_its_own_platform_and_builtin_hosts_are_never_imported_twice(account, monkeypatch):
    assert {n: registry.describe(n)["host"] for n in registry.names()[4:]} == DEFAULT_PLATFORMS
    monkeypatch.setenv("SYNCQ_CLIST_RESOURCES", "codeforces.com,www.leetcode.com,atcoder.jp,codechef.com,dmoj.ca")
    reload_settings()
    assert registry.names() == ["codeforces", "leetcode", "codechef", "atcoder", "dmoj"]
    assert registry.describe("dmoj") == {
        "host": "dmoj.ca",
        "timezone": "UTC",
        "credentials": True,
        "ratePerMinute": 10.0,
        "pages": True,
        "fullHistory": False,
    }


def test_without_credentials_clist_adds_no_platform():
    assert registry.names() == ["codeforces", "leetcode", "codechef", "atcoder"]


def test_a_sync_all_brings_every_resource_from_the_simulators_clist_each_with_its_health(
    client, admin_headers, worker, simulator, monkeypatch
):
    for name, value in clist_env(simulator.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(clist, "PAGE_SIZE", 3)  # seven contests a resource: three pages each
    reload_settings()
    shown = {p["platform"]: p["host"] for p in client.get("/platforms").get_json()["platforms"]}
    assert {k: v for k, v in shown.items() if k in DEFAULT_PLATFORMS} == DEFAULT_PLATFORMS
    r = client.post("/contests/sync/all?wait=60", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    results = r.get_json()["results"]
    for name in DEFAULT_PLATFORMS:
        assert results[name]["synced"] == 7 and results[name]["failed"] == 0, (name, results[name])
    offsets = [e["query"] for e in simulator.log() if e["service"] == "clist" and "resource=dmoj.ca" in e["query"]]
    assert [q.split("offset=")[1] for q in offsets] == ["0", "3", "6"]
    health = client.get("/health").get_json()["sources"]
    assert all(health[name]["health"] == "ok" for name in DEFAULT_PLATFORMS), health
    contests = client.get("/contests?platform=kattis&limit=50").get_json()
    assert len(contests.get("contests") or contests.get("items") or []) == 7
    reload_settings()


def test_a_refused_key_fails_its_platform_clearly_and_the_key_is_never_shown(
    client, admin_headers, worker, account, monkeypatch, caplog
):
    def refuse(request: httpx.Request) -> httpx.Response:
        # A hostile refusal that echoes what it was sent: none of it may reach a log, job or event.
        return httpx.Response(401, text=f"bad credentials {request.headers.get('Authorization')} {request.url}")

    monkeypatch.setattr(adapters.http, "default_transport", httpx.MockTransport(refuse))
    caplog.set_level("DEBUG")
    body = client.post("/contests/sync/topcoder?wait=60", headers=admin_headers).get_json()
    assert body["failed"] == 1
    assert "clist.by refused the credentials (HTTP 401)" in body["error"]
    assert "SYNCQ_CLIST_API_KEY" in body["error"]
    platforms = {p["platform"]: p for p in client.get("/platforms").get_json()["platforms"]}
    assert "HTTP 401" in platforms["topcoder"]["lastError"]
    shown = [json.dumps(body), "\n".join(r.getMessage() for r in caplog.records)]
    for name in store.db().list_collection_names():
        shown.append(json.dumps(list(store.db()[name].find({}, {"_id": 0})), default=str))
    shown.append(client.get("/jobs?limit=50", headers=admin_headers).get_data(as_text=True))
    shown.append(client.get("/events?limit=100", headers=admin_headers).get_data(as_text=True))
    shown.append(client.get("/health").get_data(as_text=True))
    everything = "\n".join(shown)
    assert "topcoder" in everything and SECRET not in everything and SECRET[:12] not in everything


def test_the_key_goes_in_the_authorization_header_and_never_in_the_url(account):
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"meta": {"next": None}, "objects": []})

    with make_client(get_settings(), transport=httpx.MockTransport(answer)) as http:
        clist.ClistResource("dmoj.ca", "dmoj", get_settings()).fetch(http, get_settings())
    [request] = seen
    assert request.headers["Authorization"] == f"ApiKey syncq-test:{SECRET}"
    assert SECRET not in str(request.url) and request.url.params["resource"] == "dmoj.ca"
    assert request.url.params["order_by"] == "start" and "end__gt" in request.url.params


def test_the_clist_limit_holds_across_two_workers_with_clients_of_their_own(account, monkeypatch):
    period, per_period, calls_each = 1.0, 10, 12
    monkeypatch.setattr(clist, "PERIOD", period)
    monkeypatch.setattr(clist, "LIMIT_KEY", f"test:clist:{uuid.uuid4().hex}")
    monkeypatch.setenv("SYNCQ_CLIST_RATE_PER_MINUTE", str(per_period))
    settings = reload_settings()
    sent: list[float] = []
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            sent.append(time.monotonic())
        return httpx.Response(200, json={"meta": {}, "objects": []})

    def worker() -> None:
        with make_client(settings, transport=httpx.MockTransport(answer)) as http:
            for n in range(calls_each):
                clist._page(http, settings, {"resource": "dmoj.ca", "offset": n})

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(sent) == 2 * calls_each
    sent.sort()
    busiest = max(sum(1 for t in sent if start <= t < start + period) for start in sent)
    assert busiest <= per_period, f"{busiest} calls within {period} s"
    assert sent[-1] - sent[0] >= (2 * calls_each - per_period) * period / per_period


def test_a_429_from_clist_waits_its_retry_after_and_the_sync_goes_on(account, monkeypatch):
    monkeypatch.setattr(clist, "LIMIT_KEY", f"test:clist:{uuid.uuid4().hex}")
    monkeypatch.setenv("SYNCQ_CLIST_RATE_PER_MINUTE", "600")
    reload_settings()
    item = {**recorded("clist_v4_contest_2020.json"), "resource": "dmoj.ca", "host": "dmoj.ca"}
    answers = [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={"objects": [item]})]
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    settings = get_settings()
    resource = clist.ClistResource("dmoj.ca", "dmoj", settings)
    with make_client(settings, transport=httpx.MockTransport(answer)) as http:
        payload = resource.fetch(http, settings)
    assert len(seen) == 2
    assert [c.key for c in resource.parse(payload).records] == ["20198406"]
