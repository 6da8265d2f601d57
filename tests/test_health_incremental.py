"""Source health compares like with like: a CodeChef sync that pages only until the stored contests
(an incremental one) is not a shrink against the first sync, which paged them all; a real shrink is."""

from __future__ import annotations

import json

import httpx
import pytest

import adapters.http
import store.contests as contests_store
from adapters import codechef
from syncs import health
from syncs.contests import sync_platform as sync_platform_once
from tests.recorded import RecordedPlatforms

ALL, PAST = "/api/list/contests/all", "/api/list/contests/past"


def test_later_syncs_against_the_simulator_stay_ok(simulator, store_db):
    first = sync_platform_once("codechef")
    second = sync_platform_once("codechef")
    assert first["synced"] > 60 and second["unchanged"] == 25  # the second stops at `/all`'s page
    state = health.current("codechef")
    assert (state["health"], state["reason"], state["lastRun"]["items"]) == ("ok", None, 25)
    assert sync_platform_once("codechef")["unchanged"] == 25 and health.current("codechef")["health"] == "ok"


@pytest.fixture()
def paged(monkeypatch, store_db):
    """The recorded CodeChef answer split as CodeChef serves it: `/all` with the 20 newest past
    contests, `/past` paging them all (the older ones too) from an offset."""
    recorded = RecordedPlatforms()
    past = json.loads(recorded.bodies[ALL])["past_contests"]
    recorded.edit(ALL, lambda body: body.update(past_contests=past[:20]))

    def past_page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"status": "success", "contests": past[offset : offset + 20]})

    recorded.overrides[PAST] = past_page
    monkeypatch.setattr(adapters.http, "default_transport", recorded.transport())
    return recorded


def past_requests(recorded: RecordedPlatforms) -> int:
    return sum(1 for request in recorded.requests if request.url.path == PAST)


def test_an_incremental_sync_is_ok_and_a_real_shrink_is_still_degraded(paged):
    first = sync_platform_once("codechef")
    assert first["synced"] == 66 and past_requests(paged) == 3
    assert sync_platform_once("codechef")["unchanged"] == 25 and past_requests(paged) == 3  # no paging
    assert health.current("codechef")["health"] == "ok"
    paged.edit(ALL, lambda body: body.update(past_contests=body["past_contests"][:3]))  # `/all` lists 9
    sync_platform_once("codechef")
    state = health.current("codechef")
    assert state["health"] == "degraded"
    assert "items every sync fetches fell from 25 to 9 (more than half)" in state["reason"]


def test_upcoming_contests_missing_from_two_incremental_syncs_are_cancelled(paged):
    sync_platform_once("codechef")
    gone = json.loads(paged.bodies[ALL])["future_contests"][0]["contest_code"]
    paged.edit(ALL, lambda body: body.update(future_contests=body["future_contests"][1:]))
    assert "cancelled" not in sync_platform_once("codechef")  # one miss is not enough
    assert sync_platform_once("codechef")["cancelled"] == 1
    assert contests_store.get_contest("codechef", gone)["phase"] == "CANCELLED"


def test_codechef_counts_only_the_contests_from_all_as_comparable():
    item = {
        "contest_name": "Starters",
        "contest_start_date_iso": "2025-01-01T20:00:00+05:30",
        "contest_end_date_iso": "2025-01-01T22:00:00+05:30",
    }
    past = [{**item, "contest_code": f"START{n}"} for n in range(1, 6)]
    payload = {
        "status": "success",
        "future_contests": [{**item, "contest_code": "START9"}],
        "past_contests": past,
        "present_contests": [],
        "syncq": {"pastPaged": 3, "pagingError": None},
    }
    result = codechef.parse(payload)
    assert (len(result.records), result.comparable) == (6, 3)  # START9, START1, START2 come from `/all`
    del payload["syncq"]
    assert codechef.parse(payload).comparable == 6  # nothing paged: all of it is `/all`'s


def test_a_last_good_sync_kept_before_comparable_counts_is_compared_only_where_it_measures(store_db):
    for source in ("codechef", "codeforces"):
        health.record_run(source, ok=True, items=66, upcoming=4, interval_s=3600.0)
        store_db.source_health.update_one({"_id": source}, {"$unset": {"lastGood.comparable": ""}})
    # CodeChef's old 66 held what its first sync paged: no measure for the 25 it fetches every time.
    assert health.record_run("codechef", ok=True, items=25, comparable=25, upcoming=4)["health"] == "ok"
    assert health.record_run("codechef", ok=True, items=30, comparable=5, upcoming=4)["health"] == "degraded"
    assert health.record_run("codeforces", ok=True, items=25, upcoming=4)["health"] == "degraded"
