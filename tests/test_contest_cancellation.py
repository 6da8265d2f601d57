"""Upcoming contests a platform stops listing: CANCELLED after two good syncs, back when listed again;
and the platforms' health as the contest sync records it and `/platforms` and `/health` show it."""

from __future__ import annotations

import pytest

import store.contests as contests_store
import store.events as events_store
import syncs.events  # noqa: F401  (records emitted events, as the worker and the API do)
from syncs.contests import sync_platform as sync_platform_once
from tests.contest_stubs import DOWN, contest, install


@pytest.fixture()
def stubs(monkeypatch, app):
    # After the app: importing the API imports the real adapters, which register themselves.
    platforms = install(monkeypatch)
    # Five finished contests and three upcoming ones on every platform.
    for name, stub in platforms.items():
        stub.contests += [contest(name, n, phase="UPCOMING", rawPhase="BEFORE") for n in (10, 11, 12)]
    return platforms


def drop(stub, n: int) -> None:
    stub.contests = [c for c in stub.contests if c.platformId != f"{stub.name[:2]}{n}"]


def phase(platform: str, n: int) -> str:
    return contests_store.get_contest(platform, f"{platform[:2]}{n}")["phase"]


def events(type_: str) -> list[dict]:
    docs, _ = events_store.find(type_=type_, limit=100)
    return [doc["data"] for doc in docs]


def test_an_upcoming_contest_missing_from_two_good_syncs_is_cancelled_and_kept(stubs, store_db):
    sync_platform_once("codeforces")
    drop(stubs["codeforces"], 11)
    assert "cancelled" not in sync_platform_once("codeforces")  # one miss is not enough
    assert phase("codeforces", 11) == "UPCOMING"
    assert sync_platform_once("codeforces")["cancelled"] == 1
    assert phase("codeforces", 11) == "CANCELLED"
    assert store_db.contests.count_documents({"platform": "codeforces"}) == 8  # kept, never deleted
    [event] = events("contest.cancelled")
    assert (event["platform"], event["platformId"]) == ("codeforces", "co11")


def test_a_cancelled_contest_comes_back_when_listed_again(stubs, client):
    sync_platform_once("codeforces")
    drop(stubs["codeforces"], 11)
    sync_platform_once("codeforces"), sync_platform_once("codeforces")
    listed = client.get("/contests?platform=codeforces&phase=CANCELLED").get_json()["contests"]
    assert [c["platformId"] for c in listed] == ["co11"]
    stubs["codeforces"].contests.append(contest("codeforces", 11, phase="UPCOMING", rawPhase="BEFORE"))
    result = sync_platform_once("codeforces")
    assert result["restored"] == 1 and result["updated"] == 1
    stored = contests_store.get_contest("codeforces", "co11")
    assert stored["phase"] == "UPCOMING" and "cancelledAt" not in stored and "missingSyncs" not in stored
    assert [e["platformId"] for e in events("contest.restored")] == ["co11"]
    sync_platform_once("codeforces")
    assert phase("codeforces", 11) == "UPCOMING"  # and it stays


def test_a_contest_listed_again_after_one_miss_starts_counting_afresh(stubs):
    sync_platform_once("leetcode")
    drop(stubs["leetcode"], 10)
    sync_platform_once("leetcode")
    stubs["leetcode"].contests.append(contest("leetcode", 10, phase="UPCOMING"))
    sync_platform_once("leetcode")
    drop(stubs["leetcode"], 10)
    sync_platform_once("leetcode")
    assert phase("leetcode", 10) == "UPCOMING"


def test_failed_and_degraded_syncs_do_not_count_as_misses(stubs, client):
    sync_platform_once("codechef")
    drop(stubs["codechef"], 12)
    stubs["codechef"].error = DOWN
    sync_platform_once("codechef")  # failed: not a miss
    stubs["codechef"].error = None
    stubs["codechef"].skipped = [{"id": f"bad{n}"} for n in range(3)]  # 3 of 10 items failing: degraded
    sync_platform_once("codechef")
    sync_platform_once("codechef")
    assert phase("codechef", 12) == "UPCOMING"
    assert client.get("/platforms").get_json()["platforms"][2]["health"] == "degraded"
    stubs["codechef"].skipped = []
    sync_platform_once("codechef")
    assert phase("codechef", 12) == "UPCOMING"  # the first good miss
    sync_platform_once("codechef")
    assert phase("codechef", 12) == "CANCELLED"


def test_a_partial_list_never_cancels(stubs, monkeypatch):
    stub = stubs["atcoder"]
    real_parse = stub.parse

    def partial(payload, now=None):
        result = real_parse(payload, now)
        result.complete = False  # a fallback query that lists only some contests
        return result

    monkeypatch.setattr(stub, "parse", partial)
    from adapters import registry

    monkeypatch.setitem(registry._ADAPTERS, "atcoder", stub.module())
    sync_platform_once("atcoder")
    drop(stub, 10)
    for _ in range(3):
        sync_platform_once("atcoder")
    assert phase("atcoder", 10) == "UPCOMING"


def test_finished_contests_that_disappear_are_left_alone(stubs):
    sync_platform_once("codeforces")
    drop(stubs["codeforces"], 2)
    for _ in range(3):
        sync_platform_once("codeforces")
    assert phase("codeforces", 2) == "FINISHED"


def test_platforms_show_each_platforms_health_and_reason(stubs, client):
    for name in ("codeforces", "leetcode"):
        sync_platform_once(name)
    stubs["leetcode"].contests = stubs["leetcode"].contests[:3]  # 8 contests -> 3, none upcoming
    sync_platform_once("leetcode")
    stubs["codechef"].error = DOWN
    for _ in range(3):
        sync_platform_once("codechef")
    shown = {p["platform"]: p for p in client.get("/platforms").get_json()["platforms"]}
    assert shown["codeforces"]["health"] == "ok" and shown["codeforces"]["healthReason"] is None
    assert shown["leetcode"]["health"] == "degraded"
    assert "items fell from 8 to 3" in shown["leetcode"]["healthReason"]
    assert "no upcoming contests, where the last good sync had 3" in shown["leetcode"]["healthReason"]
    assert shown["codechef"]["health"] == "failing"
    assert (
        "3 failed syncs in a row" in shown["codechef"]["healthReason"]
        and "connection refused" in shown["codechef"]["healthReason"]
    )
    assert shown["atcoder"]["health"] == "unknown" and shown["atcoder"]["healthReason"] == "never synced"
    assert shown["leetcode"]["healthSince"] is not None


def test_health_lists_the_sources_and_a_failing_one_does_not_fail_it(stubs, client):
    sync_platform_once("codeforces")
    stubs["codechef"].error = DOWN
    for _ in range(3):
        sync_platform_once("codechef")
    r = client.get("/health")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["sources"]["codeforces"]["health"] == "ok" and body["sources"]["codeforces"]["lastSuccessAt"]
    assert body["sources"]["codechef"]["health"] == "failing"
    assert "connection refused" in body["sources"]["codechef"]["reason"]
    assert set(body["sources"]) >= {"codeforces", "leetcode", "codechef", "atcoder", "students", "raida"}


def test_every_health_change_of_a_platform_is_an_event_with_its_reason(stubs, client, admin_headers):
    sync_platform_once("codechef")
    stubs["codechef"].error = DOWN
    for _ in range(3):
        sync_platform_once("codechef")
    stubs["codechef"].error = None
    sync_platform_once("codechef")
    r = client.get("/events?type=source.health_changed", headers=admin_headers)
    shown = [e["data"] for e in r.get_json()["events"] if e["data"]["source"] == "codechef"]
    assert [(e["old"], e["new"]) for e in shown] == [("failing", "ok"), ("ok", "failing"), ("unknown", "ok")]
    assert "connection refused" in shown[1]["reason"] and all(e["at"] for e in shown)
