"""The platform simulator serves every source in its real format, and misbehaves on request."""

from __future__ import annotations

import concurrent.futures
import csv
import io

import httpx
import pytest

from adapters import atcoder, codechef, codeforces, codeforces_gym, leetcode, raida
from adapters.http import make_client
from core.settings import Settings
from syncq.simulator import Simulator, base_urls


@pytest.fixture(scope="module")
def sim():
    with Simulator() as simulator:
        yield simulator


@pytest.fixture()
def http(sim):
    sim.reset()
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client


def test_base_urls_point_every_adapter_at_the_simulator():
    urls = base_urls("http://127.0.0.1:9000")
    assert urls["SYNCQ_CODEFORCES_URL"] == "http://127.0.0.1:9000/codeforces"
    assert urls["SYNCQ_RAIDA_URL_TEMPLATE"] == "http://127.0.0.1:9000/raida{i}"
    assert set(urls) == {
        "SYNCQ_CODEFORCES_URL",
        "SYNCQ_LEETCODE_URL",
        "SYNCQ_CODECHEF_URL",
        "SYNCQ_ATCODER_URL",
        "SYNCQ_KENKOOO_URL",
        "SYNCQ_RAIDA_URL_TEMPLATE",
        "SYNCQ_CLIST_URL",
        "SYNCQ_SOURCE_URLS",
        "SYNCQ_RAIDA_ALLOW_PRIVATE",
    }
    assert urls["SYNCQ_SOURCE_URLS"] == "judgeville=http://127.0.0.1:9000/judgeville"
    assert urls["SYNCQ_RAIDA_ALLOW_PRIVATE"] == "true"  # its RAIDA echo on loopback


def test_every_contest_source_parses_with_its_adapter(sim, http):
    cf = codeforces.parse(http.get("/codeforces/api/contest.list?gym=false").json()["result"])
    lc = leetcode.parse(http.post("/leetcode/graphql", json={}, headers={"Origin": "https://leetcode.com"}).json())
    # `/all` lists 20 past contests, as CodeChef does; the adapter pages the older ones from `/past`.
    assert len(http.get("/codechef/api/list/contests/all").json()["past_contests"]) == 20
    settings = Settings(codechef_url=f"{sim.url}/codechef", http_retries=0)
    with make_client(settings) as client:
        cc = codechef.parse(codechef.fetch(client, settings))
    at = atcoder.parse(
        {
            "kenkoooo": http.get("/kenkoooo/atcoder/resources/contests.json").json(),
            "page": http.get("/atcoder/contests/?lang=en").text,
        }
    )
    assert len(cf.records) == 2000 and len(lc.records) == 650 and len(cc.records) >= 60 and len(at.records) > 1800
    assert {c.phase for c in cf.records} >= {"UPCOMING", "FINISHED"}


def test_leetcode_without_origin_is_refused_like_the_real_one(http):
    assert http.post("/leetcode/graphql", json={}).status_code == 403


def test_user_status_honours_from_and_count(http):
    page = http.get("/codeforces/api/user.status", params={"handle": "petr", "from": 3, "count": 5}).json()["result"]
    full = http.get("/codeforces/api/user.status", params={"handle": "petr", "from": 1, "count": 7}).json()["result"]
    assert [s["id"] for s in page] == [s["id"] for s in full[2:7]]
    assert all(a["id"] > b["id"] for a, b in zip(full, full[1:]))


def test_heavy_student_has_ten_thousand_submissions(http):
    result = http.get("/codeforces/api/user.status", params={"handle": "heavy_10k"}).json()["result"]
    assert len(result) == 10000


def test_unknown_handle_is_a_400_failed_envelope(http):
    r = http.get("/codeforces/api/user.info", params={"handles": "nobody_here"})
    assert r.status_code == 400
    assert r.json() == {"status": "FAILED", "comment": "handles: User with handle nobody_here not found"}


def test_added_submissions_appear_newest_first(sim, http):
    before = http.get("/codeforces/api/user.status", params={"handle": "student_0001", "count": 1}).json()["result"]
    sim.add_submissions("student_0001", 3)
    after = http.get("/codeforces/api/user.status", params={"handle": "student_0001", "count": 4}).json()["result"]
    assert after[3]["id"] == before[0]["id"] and after[0]["id"] > before[0]["id"]


def test_raida_directory_formats(http):
    assert http.get("/raida7/service/echo").json()["status"] == "ready"
    users = list(csv.reader(io.StringIO(http.get("/raida11/service/users").text)))
    assert users[0] == ["CustomSerialNumber", "First", "Last", "Description", "InboxFee", "Class", "Beacon"]
    assert len(users) > 1000
    assert len(raida.parse_qmail_servers(http.get("/raida11/service/qmail_servers").json()).records) == 30
    assert len(raida.parse_raida_servers(http.get("/raida11/service/raida_servers").text).records) == 25


@pytest.mark.parametrize(
    "mode,check",
    [
        ("500", lambda r: r.status_code == 500),
        ("429", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "1"),
        ("html", lambda r: r.status_code == 200 and r.text.startswith("<!DOCTYPE html>")),
        ("wrong_shape", lambda r: r.json() == {"unexpected": True, "items": "not a list"}),
        (
            "empty",
            lambda r: (
                r.json() == {"status": "success", "present_contests": [], "future_contests": [], "past_contests": []}
            ),
        ),
        ("absurd", lambda r: r.json()["future_contests"][0]["contest_start_date_iso"].startswith("9999")),
        ("down", lambda r: r.status_code == 503),
    ],
)
def test_fault_modes(sim, http, mode, check):
    sim.set_fault("codechef", mode)
    assert check(http.get("/codechef/api/list/contests/all"))


def test_truncated_json_does_not_parse(sim, http):
    sim.set_fault("kenkoooo", "truncated")
    r = http.get("/kenkoooo/atcoder/resources/contests.json")
    with pytest.raises(ValueError):
        r.json()


def test_call_limit_is_a_failed_envelope(sim, http):
    sim.set_fault("codeforces", "call_limit", times=1)
    r = http.get("/codeforces/api/contest.list")
    assert r.status_code == 503 and r.json()["comment"] == "Call limit exceeded"
    assert http.get("/codeforces/api/contest.list").json()["status"] == "OK"


def test_fault_for_n_requests_then_healthy(sim, http):
    sim.set_fault("atcoder", "500", times=2)
    codes = [http.get("/atcoder/contests/").status_code for _ in range(3)]
    assert codes == [500, 500, 200]


def test_timeout_mode_holds_the_request_past_the_client_timeout(sim):
    sim.set_fault("leetcode", "timeout", times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{sim.url}/leetcode/graphql", json={}, headers={"Origin": "x"}, timeout=0.3)


def test_one_raida_down_the_others_fine(sim, http):
    sim.set_raida_down([4])
    assert http.get("/raida4/service/echo").status_code == 503
    assert http.get("/raida5/service/echo").status_code == 200


def test_codeforces_call_limit_per_second(http):
    http.post("/_sim/codeforces/limit", json={"calls_per_second": 2})
    statuses = [http.get("/codeforces/api/user.rating", params={"handle": "petr"}).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 503


def test_the_simulator_answers_requests_side_by_side(sim):
    # Each request is held until all 25 are inside the server at once: a server that
    # answered one at a time would break the barrier (504) instead of answering 200.
    sim.hold_until(25, timeout=20)
    try:
        with concurrent.futures.ThreadPoolExecutor(25) as pool:
            codes = list(
                pool.map(lambda i: httpx.get(f"{sim.url}/raida{i}/service/echo", timeout=30).status_code, range(25))
            )
    finally:
        sim.hold_until(None)
    assert codes == [200] * 25
    log = sim.log()[-25:]
    assert max(e["start"] for e in log) < min(e["end"] for e in log)


def test_broken_barrier_answers_504(sim):
    sim.hold_until(2, timeout=0.2)
    try:
        assert httpx.get(f"{sim.url}/raida1/service/echo", timeout=10).status_code == 504
    finally:
        sim.hold_until(None)


def test_admin_routes_control_and_reset(http):
    assert http.post("/_sim/fault", json={"service": "leetcode", "mode": "html", "times": 1}).status_code == 200
    assert http.post("/_sim/latency", json={"service": "codechef", "ms": 5}).json()["latency_ms"] == {"codechef": 5.0}
    assert http.post("/_sim/fault", json={"service": "nowhere", "mode": "html"}).status_code == 400
    assert http.post("/_sim/fault", json={"service": "leetcode", "mode": "explode"}).status_code == 400
    http.get("/codechef/api/list/contests/all")
    log = http.get("/_sim/log").json()
    assert log["count"] >= 1 and log["requests"][-1]["service"] == "codechef"
    http.post("/_sim/reset")
    state = http.get("/_sim/state").json()
    assert state["faults"] == {} and state["latency_ms"] == {}
    assert http.delete("/_sim/log").json() == {"count": 0}


def test_leetcode_without_all_contests_answers_the_queries_the_adapter_falls_back_to(sim, http):
    assert http.post("/_sim/leetcode/all_contests", json={"gone": True}).json() == {"gone": True}
    try:
        settings = Settings(leetcode_url=f"{sim.url}/leetcode", http_retries=0, leetcode_max_past_pages=2)
        with make_client(settings) as client:
            result = leetcode.parse(leetcode.fetch(client, settings), now=sim.data.now)
        queries = [e for e in sim.log() if e["service"] == "leetcode"]
    finally:
        sim.reset()
    upcoming = [c for c in result.records if c.phase == "UPCOMING"]
    assert 1 <= len(upcoming) <= 2 and {c.type for c in upcoming} <= {"weekly", "biweekly"}
    assert len(result.records) == len(upcoming) + 20  # two past pages of 10
    assert result.failed[0]["item"] == "allContests" and "Cannot query field" in result.failed[0]["error"]
    assert [e["status"] for e in queries] == [400, 200, 200, 200]


def test_codechef_past_pages_from_an_offset(http):
    first = http.get("/codechef/api/list/contests/past", params={"offset": 20, "mode": "all"}).json()
    second = http.get("/codechef/api/list/contests/past", params={"offset": 40, "mode": "all"}).json()
    newest = http.get("/codechef/api/list/contests/all").json()["past_contests"]
    assert len(first["contests"]) == 20 and first["contests"][0]["contest_code"] not in {
        c.get("contest_code") for c in newest
    }
    assert not {c.get("contest_code") for c in first["contests"]} & {c.get("contest_code") for c in second["contests"]}


def test_the_raida_list_names_the_binary_echo_listeners(sim, http):
    listed = raida.parse_raida_servers(http.get("/raida11/service/raida_servers").text)
    assert [(r["host"], r["port"]) for r in listed.records] == [("127.0.0.1", p) for p in sim.echo.ports]
    assert len(set(sim.echo.ports)) == 25


def test_gym_contests_are_served_apart_and_parse_as_the_gym_platform(http):
    gym = http.get("/codeforces/api/contest.list", params={"gym": "true"}).json()["result"]
    result = codeforces_gym.parse(gym)
    assert len(result.records) == 60 and result.failed == []
    assert {c.platform for c in result.records} == {"codeforces_gym"}
    assert result.records[0].url == "https://codeforces.com/gym/106000" and result.records[0].raw["kind"]
    assert sum(1 for c in result.records if c.startTime is None) == 9  # gym contests without a date
