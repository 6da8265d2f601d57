"""The stats route's monthly aggregates answer exactly what the aggregation over every submission
answered (tests/stats_reference.py), for every window: on the simulator's student of 10,000
submissions, after an interrupted sync, after a repeated one; and the route reads no submission."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import store.students as students_store
from adapters import codeforces_users as cfu
from store import stats
from syncq.samples import students as samples
from tests.stats_reference import reference_stats

HANDLE = "heavy_10k"


@pytest.fixture(scope="module")
def heavy_records():
    """The simulator's `heavy_10k` (10,000 submissions over about 70 days, oldest first), parsed."""
    records = cfu.parse_submissions(samples.user_status(HANDLE, 10_000), HANDLE).records
    return sorted(records, key=lambda r: r["submissionId"])


def _nows(records) -> list[datetime]:
    """Times that cut the data at odd seconds: inside it (a window starts mid-day), just after the
    newest submission, and far enough that the 30-day window is empty."""
    newest = datetime.fromtimestamp(max(r["creationTimeSeconds"] for r in records), tz=UTC)
    return [newest - timedelta(days=20, seconds=12345), newest + timedelta(seconds=1), newest + timedelta(days=45)]


def _contests():
    return cfu.parse_user_rating(samples.user_rating(HANDLE))


def _assert_same_as_reference(records, contest_data, every_cut: bool = True) -> None:
    for now in _nows(records) if every_cut else _nows(records)[:1]:
        for days in (30, 90, 365):
            expected = reference_stats(HANDLE, days, contest_data, now=now)
            assert stats.student_stats(HANDLE, days, contest_data, now=now) == expected, (now, days)


def test_the_aggregates_answer_what_the_aggregation_over_10000_submissions_answers(store_db, heavy_records):
    now = _nows(heavy_records)[-1]
    stats.save_submissions(HANDLE, heavy_records, now=now)
    assert store_db.submissions.count_documents({"handle": HANDLE}) == 10_000
    answer = stats.student_stats(HANDLE, 365, [], now=_nows(heavy_records)[1])
    assert answer["submissions"] == 10_000 and answer["solved"] > 1000  # the windows do hold the data
    _assert_same_as_reference(heavy_records, _contests())


def test_incremental_syncs_keep_the_aggregates_equal_to_the_reference(store_db, heavy_records):
    now = _nows(heavy_records)[-1]
    for start in range(0, len(heavy_records), 2500):  # four syncs, each with the newer submissions
        stats.save_submissions(HANDLE, heavy_records[start : start + 2500], now=now)
    _assert_same_as_reference(heavy_records, _contests(), every_cut=False)


def test_an_interrupted_sync_is_finished_by_the_next_read(store_db, heavy_records, monkeypatch):
    now = _nows(heavy_records)[-1]
    half = len(heavy_records) // 2
    stats.save_submissions(HANDLE, heavy_records[:half], now=now)

    def stopped(*_args, **_kwargs):
        raise RuntimeError("worker killed between the write and the aggregates")

    with monkeypatch.context() as patched:
        patched.setattr(stats, "refresh", stopped)
        with pytest.raises(RuntimeError):
            stats.save_submissions(HANDLE, heavy_records[half:], now=now)
    assert store_db.submissions.count_documents({"handle": HANDLE}) == 10_000
    assert store_db.student_months.count_documents({"handle": HANDLE, "dirty": True}) > 0
    _assert_same_as_reference(heavy_records, _contests(), every_cut=False)
    newest = _nows(heavy_records)[1]  # a window over every month: each one left dirty is finished
    assert stats.student_stats(HANDLE, 365, [], now=newest) == reference_stats(HANDLE, 365, [], now=newest)
    assert store_db.student_months.count_documents({"handle": HANDLE, "dirty": True}) == 0


def test_an_interrupted_sync_repeated_leaves_the_same_aggregates_as_one_that_never_stopped(
    store_db, heavy_records, monkeypatch
):
    now = _nows(heavy_records)[-1]
    stats.save_submissions(HANDLE, heavy_records, now=now)
    fields = {"_id": 0, "marks": 0}  # how many syncs touched a month differs; its aggregates do not
    clean = list(store_db.student_months.find({}, fields).sort("month", 1))
    store_db.student_months.delete_many({})
    store_db.submissions.delete_many({})
    cut = len(heavy_records) * 3 // 4
    with monkeypatch.context() as patched:
        patched.setattr(stats, "refresh", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stopped")))
        with pytest.raises(RuntimeError):
            stats.save_submissions(HANDLE, heavy_records[:cut], now=now)
    stats.save_submissions(HANDLE, heavy_records, now=now)  # the whole sync again
    stats.save_submissions(HANDLE, heavy_records, now=now)  # and once more: nothing moves
    assert list(store_db.student_months.find({}, fields).sort("month", 1)) == clean
    _assert_same_as_reference(heavy_records, _contests(), every_cut=False)


def test_a_sync_storing_while_another_recomputes_the_month_keeps_it_dirty_for_itself(
    store_db, heavy_records, monkeypatch
):
    records = heavy_records[-1000:]  # the newest month's, and the end of the one before
    now = _nows(records)[-1]
    newest = records[-1]["creationTimeSeconds"]
    month = stats._month(newest)
    late = records[-50:]
    stats.save_submissions(HANDLE, records[:-50], now=now)
    read = stats._stored

    def read_while_another_sync_writes(*args):
        found = read(*args)  # what the first sync recomputes from: without the late submissions
        with monkeypatch.context() as patched:  # the second sync marks and writes, then stops
            patched.setattr(stats, "refresh", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stopped")))
            with pytest.raises(RuntimeError):
                stats.save_submissions(HANDLE, late, now=now)
        return found

    with monkeypatch.context() as patched:
        patched.setattr(stats, "_stored", read_while_another_sync_writes)
        stats.refresh(HANDLE, [month], now)
    assert store_db.student_months.find_one({"handle": HANDLE, "month": month})["dirty"] is True
    after = datetime.fromtimestamp(newest, tz=UTC) + timedelta(seconds=1)
    assert stats.student_stats(HANDLE, 30, [], now=after) == reference_stats(HANDLE, 30, [], now=after)


def test_months_older_than_the_widest_window_are_not_kept(store_db, heavy_records):
    later = datetime.fromtimestamp(heavy_records[-1]["creationTimeSeconds"], tz=UTC) + timedelta(days=400)
    stats.save_submissions(HANDLE, heavy_records, now=later)
    assert store_db.student_months.count_documents({"handle": HANDLE}) == 0
    assert stats.student_stats(HANDLE, 365, [], now=later) == reference_stats(HANDLE, 365, [], now=later)


def test_the_stats_route_reads_the_student_and_a_few_months_never_a_submission(
    client, admin_headers, commands, heavy_records
):
    students_store.create("Heavy", "heavy@example.com", HANDLE)
    shifted = [dict(r) for r in heavy_records]
    newest = max(r["creationTimeSeconds"] for r in shifted)
    offset = int(datetime.now(UTC).timestamp()) - 3600 - newest  # the data as of an hour ago
    for record in shifted:
        record["creationTimeSeconds"] += offset
        record["creationTime"] = datetime.fromtimestamp(record["creationTimeSeconds"], tz=UTC)
    stats.save_submissions(HANDLE, shifted)
    commands.on = True
    body = client.get(f"/api/students/{HANDLE}/stats?days=365", headers=admin_headers).get_json()
    commands.on = False
    assert body["submissions"] == 10_000
    finds = [collection for name, collection in commands.seen if name in ("find", "aggregate", "getMore")]
    assert "submissions" not in finds and finds.count("student_months") == 1, commands.seen
