"""The source contract's shared core: what every source gets done once (zones, ends, bad dates and
keys, duplicates, renames), and partial listings that never cancel a contest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

import adapters.http
import store.contests as contests_store
from adapters import codechef, leetcode, registry, source
from adapters.records import ParseResult
from adapters.source import ContestRecord, ContractError, Source
from syncs.contests import sync_platform

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKYO = Source(name="tokyo_judge", host="judge.example.jp", timezone="Asia/Tokyo")


def record(name: str = "r1", **changes) -> ContestRecord:
    fields = {
        "key": name,
        "title": f"Round {name}",
        "url": f"https://judge.example.jp/{name}",
        "start": datetime(2026, 12, 1, 21, 0),
        "duration": 5400,
    }
    fields.update(changes)
    return ContestRecord(**fields)


def finish(*records: ContestRecord, **kwargs) -> ParseResult:
    return source.finish(TOKYO, ParseResult(records=list(records), **kwargs), NOW)


def test_naive_times_take_the_declared_zone_and_a_missing_end_comes_from_the_duration():
    [contest] = finish(record()).records
    assert contest.startTime == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo
    assert contest.endTime == datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert contest.durationSeconds == 5400 and contest.phase == "UPCOMING" and contest.platform == "tokyo_judge"


def test_an_aware_end_gives_the_duration_and_the_phase_comes_from_the_times():
    start = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    [contest] = finish(record(start=start, end=start + timedelta(hours=3), duration=None)).records
    assert contest.durationSeconds == 10800 and contest.phase == "RUNNING"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"end": datetime(2026, 11, 30, 0, 0), "duration": None}, "ends before it starts"),
        ({"start": datetime(2090, 1, 1)}, "absurd start time"),
        ({"start": datetime(1970, 1, 2)}, "absurd start time"),
        ({"duration": -60}, "negative duration"),
        ({"duration": 400 * 86400}, "absurd duration"),
        ({"key": "weekly\r\nX-Evil: 1"}, "bad key"),
        ({"key": "a" * 129}, "bad key"),
        ({"key": ""}, "bad key"),
        ({"key": 17}, "key is int"),
        ({"url": "https://judge.example.jp/a\r\nb"}, "control characters"),
        ({"url": "javascript:alert(1)"}, "not an http(s) address"),
        ({"title": "  "}, "no title"),
    ],
)
def test_a_record_that_cannot_be_stored_is_a_failed_item_with_its_reason(changes, reason):
    result = finish(record("good"), record("bad", **changes))
    assert [c.platformId for c in result.records] == ["good"]
    [failure] = result.failed
    assert reason in failure["error"]
    assert "\r" not in str(failure["item"]) and "\n" not in str(failure["item"])


def test_records_listed_twice_under_one_key_are_merged_the_first_winning():
    later = record("r1", title="Second listing", kind="rated-div1", raw_phase="upcoming")
    result = finish(record("r1"), later, record("r2"))
    assert [c.platformId for c in result.records] == ["r1", "r2"] and result.failed == []
    merged = result.records[0]
    assert merged.name == "Round r1" and merged.type == "rated-div1" and merged.rawPhase == "upcoming"


def test_the_comparable_part_and_completeness_are_kept_through_the_checks():
    result = finish(record("a"), record("b", key="b\n"), record("c"), comparable=2, complete=False)
    assert result.comparable == 1 and result.complete is False


def test_a_source_breaking_the_contract_is_refused_with_its_name():
    class NoParse:
        SOURCE = Source(name="halfdone", host="half.example")
        fetch = staticmethod(lambda client, settings: None)

    with pytest.raises(ContractError, match="halfdone has no parse"):
        source.check(NoParse())

    class BadZone:
        SOURCE = Source(name="nozone", host="z.example", timezone="Mars/Olympus")
        fetch = parse = staticmethod(lambda *a: None)

    with pytest.raises(ContractError, match="time zone 'Mars/Olympus'"):
        source.check(BadZone())
    with pytest.raises(ContractError, match="no SOURCE"):
        source.check(object())


def test_every_builtin_platform_declares_itself():
    hosts = {name: registry.describe(name)["host"] for name in registry.names()}
    assert hosts == {
        "codeforces": "codeforces.com",
        "leetcode": "leetcode.com",
        "codechef": "codechef.com",
        "atcoder": "atcoder.jp",
    }
    assert registry.describe("codechef")["timezone"] == "Asia/Kolkata"


# --- through a sync --------------------------------------------------------------------------


class Renaming:
    """A source whose contest is renamed between two syncs."""

    SOURCE = Source(name="renaming", host="renaming.example")

    def __init__(self):
        self.records = [record("old-name", url="https://renaming.example/old-name")]

    def fetch(self, client, settings):
        return list(self.records)

    def parse(self, payload, now=None):
        return ParseResult(records=payload)


def test_a_renamed_contest_moves_to_its_new_key_and_keeps_its_history(monkeypatch, store_db):
    renaming = Renaming()
    monkeypatch.setitem(registry._ADAPTERS, "renaming", renaming)
    assert sync_platform("renaming")["synced"] == 1
    before = contests_store.get_contest("renaming", "old-name")
    renaming.records = [record("new-name", old_key="old-name", url="https://renaming.example/new-name")]
    result = sync_platform("renaming")
    assert result["synced"] == 0 and result["updated"] == 1, result
    assert contests_store.get_contest("renaming", "old-name") is None
    after = contests_store.get_contest("renaming", "new-name")
    assert after["createdAt"] == before["createdAt"] and after["url"] == "https://renaming.example/new-name"


def leetcode_answers(now: datetime, all_contests_gone: bool):
    """A LeetCode GraphQL stub: three upcoming weeklies, twenty past ones; `allContests` may be gone."""
    start = int(now.timestamp())
    upcoming = [
        {
            "title": f"Weekly Contest {500 + n}",
            "titleSlug": f"weekly-contest-{500 + n}",
            "startTime": start + n * 604800,
        }
        for n in (1, 2, 3)
    ]
    past = [
        {
            "title": f"Weekly Contest {500 - n}",
            "titleSlug": f"weekly-contest-{500 - n}",
            "startTime": start - n * 604800,
        }
        for n in range(1, 21)
    ]
    for item in upcoming + past:
        item["duration"] = 5400

    def handler(request: httpx.Request) -> httpx.Response:
        query = request.read().decode()
        if "topTwoContests" in query:
            return httpx.Response(200, json={"data": {"topTwoContests": upcoming[:2]}})
        if "pastContests" in query:
            data = {"pageNum": 1, "currentPage": 1, "totalNum": 20, "numPerPage": 20, "data": past}
            return httpx.Response(200, json={"data": {"pastContests": data}})
        if all_contests_gone:
            return httpx.Response(400, json={"errors": [{"message": 'Cannot query field "allContests"'}]})
        return httpx.Response(200, json={"data": {"allContests": upcoming + past}})

    return httpx.MockTransport(handler)


def test_leetcodes_fallback_listing_is_incomplete_and_never_cancels_the_contests_it_leaves_out(monkeypatch, store_db):
    now = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(adapters.http, "default_transport", leetcode_answers(now, all_contests_gone=False))
    assert sync_platform("leetcode")["synced"] == 23
    # allContests is gone: the fallback lists the next two and the past (22 of 23, health looks fine).
    monkeypatch.setattr(adapters.http, "default_transport", leetcode_answers(now, all_contests_gone=True))
    for _ in range(3):
        result = sync_platform("leetcode")
        assert result["failed"] == 1 and "cancelled" not in result, result  # the note: fallback used
    assert contests_store.get_contest("leetcode", "weekly-contest-503")["phase"] == "UPCOMING"


def test_the_fallback_and_a_broken_paging_mark_their_listings_incomplete():
    fallback = {"data": {"topTwoContests": [], "pastContests": {"data": []}}, "syncq": {"fallback": True}}
    assert leetcode.parse(fallback).complete is False
    assert leetcode.parse({"data": {"allContests": []}}).complete is True
    listing = {"status": "success", "present_contests": [], "future_contests": [], "past_contests": []}
    assert codechef.parse(listing).complete is True
    stopped = {**listing, "syncq": {"pastPaged": 0, "pagingError": "past contests at offset 20: HTTP 500"}}
    assert codechef.parse(stopped).complete is False


def test_a_leetcode_slug_with_cr_lf_is_a_failed_item_and_never_stored(monkeypatch, store_db):
    bad = {"title": "Weekly Contest 9", "titleSlug": "weekly-contest-9\r\nX: y", "startTime": 1700000000}
    good = {"title": "Weekly Contest 10", "titleSlug": "weekly-contest-10", "startTime": 1700600000}
    answer = {"data": {"allContests": [{**bad, "duration": 5400}, {**good, "duration": 5400}]}}
    monkeypatch.setattr(
        adapters.http, "default_transport", httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    )
    result = sync_platform("leetcode")
    assert result["synced"] == 1 and result["failed"] == 1
    assert "bad key" in result["failures"][0]["reason"]
    assert set(contests_store.known_hashes("leetcode")) == {"weekly-contest-10"}
