"""Source health: each rule turns a source's health, and every change is an event with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

import store.events as events_store
import syncs.events  # noqa: F401  (records emitted events, as the worker and the API do)
from store.util import utcnow
from syncs import health

HOUR = 3600.0


def changes(source: str) -> list[dict]:
    """The source's `source.health_changed` events, oldest first."""
    docs, _ = events_store.find(type_="source.health_changed", limit=500)
    return [doc["data"] for doc in reversed(docs) if doc["data"]["source"] == source]


def good(source: str = "codeforces", items: int = 100, upcoming: int | None = 4, failed: int = 0) -> dict:
    return health.record_run(source, ok=True, items=items, failed_items=failed, upcoming=upcoming, interval_s=HOUR)


def bad(source: str = "codeforces", error: str = "codeforces: server error (HTTP 500)") -> dict:
    return health.record_run(source, ok=False, error=error, interval_s=HOUR)


def test_a_first_good_sync_makes_the_source_ok_and_records_the_change(store_db):
    assert health.current("codeforces")["health"] == "unknown"
    assert good()["health"] == "ok"
    [event] = changes("codeforces")
    assert (event["old"], event["new"], event["reason"]) == ("unknown", "ok", None)
    assert event["at"] is not None


def test_items_falling_by_more_than_half_degrade_the_source(store_db):
    good(source="leetcode", items=100)
    assert good(source="leetcode", items=50)["health"] == "ok"  # exactly half is not more than half
    good(items=100)
    state = good(items=49)
    assert state["health"] == "degraded" and "items fell from 100 to 49" in state["reason"]
    assert (
        changes("codeforces")[-1]["new"] == "degraded" and "fell from 100 to 49" in changes("codeforces")[-1]["reason"]
    )


def test_a_degraded_sync_is_not_the_baseline_of_the_next(store_db):
    good(items=100)
    good(items=40)
    assert good(items=45)["health"] == "degraded"  # still against the last good sync's 100
    assert good(items=100)["health"] == "ok"


def test_no_upcoming_contests_where_there_were_some_degrades_the_source(store_db):
    good(upcoming=3)
    state = good(upcoming=0)
    assert state["health"] == "degraded" and "no upcoming contests, where the last good sync had 3" in state["reason"]
    assert good(upcoming=1)["health"] == "ok"


def test_a_source_without_upcoming_contests_is_not_judged_on_them(store_db):
    good(source="raida", upcoming=None)
    assert good(source="raida", upcoming=None)["health"] == "ok"


def test_more_than_five_percent_of_items_failing_degrades_the_source(store_db):
    assert good(items=95, failed=5)["health"] == "ok"  # 5% exactly
    state = good(items=94, failed=6)
    assert state["health"] == "degraded" and "6 of 100 items (6%) failed to parse" in state["reason"]


def test_several_reasons_are_all_given(store_db):
    good(items=100, upcoming=2)
    reason = good(items=10, upcoming=0, failed=10)["reason"]
    assert "failed to parse" in reason and "items fell" in reason and "no upcoming" in reason


def test_three_failed_syncs_in_a_row_make_the_source_failing(store_db):
    good()
    assert bad()["health"] == "ok" and bad()["health"] == "ok"  # one or two failures: as it was
    state = bad(error="codeforces: timed out")
    assert state["health"] == "failing" and state["consecutiveFailures"] == 3
    assert state["reason"] == "3 failed syncs in a row; last error: codeforces: timed out"
    assert [e["new"] for e in changes("codeforces")] == ["ok", "failing"]


def test_a_success_between_failures_restarts_the_count(store_db):
    bad(), bad()
    good()
    assert bad()["health"] == "ok" and bad()["consecutiveFailures"] == 2


def test_a_failing_source_is_ok_again_after_a_good_sync(store_db):
    for _ in range(3):
        bad()
    assert health.current("codeforces")["health"] == "failing"
    state = good()
    assert state["health"] == "ok" and state["consecutiveFailures"] == 0 and state["lastError"] is None
    assert [(e["old"], e["new"]) for e in changes("codeforces")] == [("unknown", "failing"), ("failing", "ok")]


def backdate(store_db, source: str, hours: float) -> None:
    """Pretend the source's last success (and run) was `hours` ago."""
    then = utcnow() - timedelta(hours=hours)
    fields = {"lastRunAt": then, "firstRunAt": then}
    if store_db.source_health.find_one({"_id": source}).get("lastSuccessAt"):
        fields["lastSuccessAt"] = then
    store_db.source_health.update_one({"_id": source}, {"$set": fields})


def test_no_success_for_twice_the_interval_is_stale_when_read(store_db):
    good()
    backdate(store_db, "codeforces", 1.9)
    assert health.current("codeforces")["health"] == "ok"
    backdate(store_db, "codeforces", 2.1)
    state = health.current("codeforces")
    assert state["health"] == "stale" and "more than twice the schedule's interval (1 h" in state["reason"]
    health.current("codeforces")  # read again: no second event
    assert [(e["old"], e["new"]) for e in changes("codeforces")] == [("unknown", "ok"), ("ok", "stale")]
    assert "no successful sync since" in changes("codeforces")[-1]["reason"]


def test_failed_syncs_do_not_keep_a_source_fresh(store_db):
    good()
    backdate(store_db, "codeforces", 3)
    state = bad()
    assert state["health"] == "stale" and state["lastError"].startswith("codeforces")


def test_a_source_that_never_succeeded_goes_stale_from_its_first_attempt(store_db):
    bad()
    assert health.current("codeforces")["health"] == "unknown"
    backdate(store_db, "codeforces", 3)
    assert "since the first attempt" in health.current("codeforces")["reason"]


def test_any_run_turns_the_other_stale_sources(store_db):
    good(source="leetcode")
    backdate(store_db, "leetcode", 5)
    good(source="codechef")
    assert store_db.source_health.find_one({"_id": "leetcode"})["health"] == "stale"
    assert changes("leetcode")[-1]["new"] == "stale"


def test_a_stale_source_is_ok_after_a_good_sync(store_db):
    good()
    backdate(store_db, "codeforces", 3)
    assert health.current("codeforces")["health"] == "stale"
    assert good()["health"] == "ok"
    assert changes("codeforces")[-1]["old"] == "stale" and changes("codeforces")[-1]["new"] == "ok"


def test_a_source_without_a_schedule_never_goes_stale(store_db):
    health.record_run("students", ok=True, items=3, interval_s=None)
    backdate(store_db, "students", 10_000)
    assert health.current("students")["health"] == "ok"


def test_failing_outranks_stale(store_db):
    good()
    backdate(store_db, "codeforces", 3)
    for _ in range(3):
        state = bad()
    assert state["health"] == "failing"


def test_every_run_is_kept_with_the_health_it_led_to(store_db):
    import store.health as health_store

    good(items=100)
    good(items=10)
    bad()
    runs = health_store.recent_runs("codeforces")
    assert [(r["ok"], r["items"], r["health"]) for r in runs] == [
        (False, 0, "degraded"),
        (True, 10, "degraded"),
        (True, 100, "ok"),
    ]


@pytest.mark.parametrize(
    "kind, seconds", [("contests.sync_all", 6 * HOUR), ("students.sync_all", 24 * HOUR), ("raida.sync", HOUR)]
)
def test_each_source_goes_stale_on_its_own_schedule(kind, seconds):
    assert health.schedule_interval(kind) == seconds


@pytest.mark.parametrize(
    "cron, seconds",
    [
        ("30 9 * * 1-5", 3 * 24 * HOUR),
        ("0 3,4 * * *", 23 * HOUR),
        ("*/20 * * * *", 1200.0),
        ("0 0 1 * *", 31 * 24 * HOUR),
    ],
)
def test_a_cron_schedules_interval_is_its_longest_gap(cron, seconds):
    import schedules
    from core.settings import Settings

    assert schedules.interval_seconds(Settings(students_schedule_cron=cron), "students.sync_all") == seconds
    assert (
        schedules.interval_seconds(
            Settings(students_schedule_cron=cron, students_schedule_enabled=False), "students.sync_all"
        )
        is None
    )


def test_platforms_and_health_say_how_many_syncs_in_a_row_failed(client, store_db):
    from syncs import health

    health.record_run("leetcode", ok=False, error="leetcode: answered an HTML page")
    health.record_run("leetcode", ok=False, error="leetcode: answered an HTML page")
    platform = next(p for p in client.get("/platforms").get_json()["platforms"] if p["platform"] == "leetcode")
    assert platform["consecutiveFailures"] == 2
    assert client.get("/health").get_json()["sources"]["leetcode"]["consecutiveFailures"] == 2
