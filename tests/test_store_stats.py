"""Students' statistics from the monthly aggregates the syncs keep (store.stats), checked by hand-computed
values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import store.students as students_store
from adapters import codeforces_users as cfu
from store import stats
from store.stats import save_submissions, student_stats

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def item(sid, contest, index, rating, verdict, days_ago, handle="stat_user"):
    created = int((NOW - timedelta(days=days_ago)).timestamp())
    problem = {"contestId": contest, "index": index, "name": f"P{contest}{index}"}
    if rating is not None:
        problem["rating"] = rating
    return cfu.parse_submission(
        {"id": sid, "contestId": contest, "creationTimeSeconds": created, "problem": problem, "verdict": verdict},
        handle,
    )


RECORDS = [
    item(1, 1000, "A", 800, "OK", 1),
    item(2, 1000, "A", 800, "OK", 2),
    item(3, 1000, "B", 1500, "WRONG_ANSWER", 1),
    item(4, 1000, "B", 1500, "OK", 1),
    item(5, 1001, "C", 2100, "OK", 40),
    item(6, 1002, "D", None, "OK", 3),
    item(7, 1003, "E", 1550, "OK", 400),
    item(8, 9999, "Z", 3500, "OK", 1, handle="someone_else"),
]
CONTESTS = [
    {
        "contestId": 1,
        "oldRating": 1500,
        "newRating": 1480,
        "ratingUpdateTimeSeconds": int((NOW - timedelta(days=100)).timestamp()),
    },
    {
        "contestId": 2,
        "oldRating": 1480,
        "newRating": 1530,
        "ratingUpdateTimeSeconds": int((NOW - timedelta(days=10)).timestamp()),
    },
]


@pytest.fixture()
def recorded(store_db):
    for handle in ("stat_user", "someone_else"):
        save_submissions(handle, [r for r in RECORDS if r["handle"] == handle], now=NOW)


def test_thirty_days_of_stats_match_the_hand_computed_values(recorded):
    s = student_stats("stat_user", 30, CONTESTS, now=NOW)
    assert s["solved"] == 3  # 1000A (twice), 1000B, 1002D (unrated)
    assert s["hardest"]["problemKey"] == "1000B" and s["hardest"]["rating"] == 1500
    assert s["averageRating"] == 1150.0 and s["problemsPerDay"] == 0.1
    assert s["solvedByRating"] == [{"rating": 800, "count": 1}, {"rating": 1500, "count": 1}]
    assert s["submissions"] == 5 and s["accepted"] == 4
    assert s["heatmap"] == [
        {"date": "2026-06-27", "submissions": 1, "accepted": 1},
        {"date": "2026-06-28", "submissions": 1, "accepted": 1},
        {"date": "2026-06-29", "submissions": 3, "accepted": 2},
    ]
    assert [c["contestId"] for c in s["ratingChanges"]] == [2] and s["ratingDelta"] == 50


def test_wider_windows_take_in_older_solves_and_rating_changes(recorded):
    s90 = student_stats("stat_user", 90, CONTESTS, now=NOW)
    assert s90["solved"] == 4 and s90["hardest"]["problemKey"] == "1001C"
    assert s90["averageRating"] == round((800 + 1500 + 2100) / 3, 1)
    assert [b["rating"] for b in s90["solvedByRating"]] == [800, 1500, 2100]
    s365 = student_stats("stat_user", 365, CONTESTS, now=NOW)
    assert s365["solved"] == 4 and s365["ratingDelta"] == 30 and len(s365["ratingChanges"]) == 2


def test_a_student_without_submissions_has_empty_stats(store_db):
    s = student_stats("nobody_here", 30, [], now=NOW)
    assert s["solved"] == 0 and s["hardest"] is None and s["averageRating"] is None and s["heatmap"] == []


def test_a_rating_that_is_not_a_number_counts_the_problem_as_solved_and_unrated(store_db):
    odd = [item(20 + k, 1004, index, 1900, "OK", 2) for k, index in enumerate("FHI")]
    for record, rating in zip(odd, ("hard", float("nan"), float("inf"))):
        record["problem"]["rating"] = rating  # what a hostile or broken answer may carry
    save_submissions("stat_user", [*odd, item(30, 1005, "G", 1300, "OK", 2)], now=NOW)
    s = student_stats("stat_user", 30, [], now=NOW)
    assert s["solved"] == 4 and s["hardest"]["problemKey"] == "1005G"
    assert s["averageRating"] == 1300.0 and s["solvedByRating"] == [{"rating": 1300, "count": 1}]


def test_months_stored_in_an_older_layout_are_recomputed_by_the_next_read(recorded, store_db):
    store_db.student_months.update_many({}, {"$unset": {"format": "", "keys": "", "firstTimes": ""}})
    s = student_stats("stat_user", 30, CONTESTS, now=NOW)
    assert s["solved"] == 3 and s["hardest"]["problemKey"] == "1000B" and s["averageRating"] == 1150.0
    months = list(store_db.student_months.find({"handle": "stat_user"}))
    assert months and all(m.get("format") == stats.FORMAT and "keys" in m for m in months)


def test_a_month_marked_by_a_running_sync_before_its_first_aggregates_is_left_out_of_a_read(
    recorded, store_db, monkeypatch
):
    store_db.student_months.insert_one({"handle": "stat_user", "month": "2026-04", "dirty": True, "marks": 1})

    def marked_again_while_read(*_args):  # the running sync marks it again during the read's refresh
        store_db.student_months.update_one({"handle": "stat_user", "month": "2026-04"}, {"$inc": {"marks": 1}})
        return {}  # and has stored nothing of it yet

    monkeypatch.setattr(stats, "_stored", marked_again_while_read)
    s = student_stats("stat_user", 90, CONTESTS, now=NOW)
    assert s["solved"] == 4 and s["hardest"]["problemKey"] == "1001C"
    assert store_db.student_months.find_one({"month": "2026-04"})["dirty"] is True


def test_the_stats_route_answers_the_window_and_refuses_other_windows(client, admin_headers, store_db):
    students_store.create("Stat", "stat@example.com", "stat_user")
    now = datetime.now(UTC)
    save_submissions(
        "stat_user",
        [
            cfu.parse_submission(
                {
                    "id": 1,
                    "contestId": 5,
                    "creationTimeSeconds": int(now.timestamp()) - 3600,
                    "problem": {"contestId": 5, "index": "A", "rating": 1200},
                    "verdict": "OK",
                },
                "stat_user",
            )
        ],
    )
    r = client.get("/api/students/STAT_USER/stats?days=90", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["days"] == 90 and body["solved"] == 1 and body["hardest"]["rating"] == 1200
    assert body["to"].endswith("Z") and body["hardest"]["solvedAt"].endswith("Z")
    bad = client.get("/api/students/stat_user/stats?days=7", headers=admin_headers)
    assert bad.status_code == 400 and bad.get_json()["message"] == "'days' must be 30, 90 or 365"
    assert client.get("/api/students/ghost_user/stats", headers=admin_headers).status_code == 404
    assert client.get("/api/students/stat_user/stats").status_code == 401


def test_the_list_filters_by_rating_range_and_sorts_by_problems_solved(client, admin_headers, store_db):
    for handle, rating, solved in (
        ("low_one", 900, 5),
        ("mid_one", 1500, 50),
        ("top_one", 2400, 20),
        ("new_one", None, None),
    ):
        students_store.create(handle, f"{handle}@example.com", handle)
        store_db.students.update_one(
            {"handleLower": handle},
            {"$set": {"currRating": rating, "submissions": None if solved is None else {"solvedCount": solved}}},
        )
    r = client.get("/api/students?minRating=1000&maxRating=2400", headers=admin_headers).get_json()
    assert sorted(s["codeforcesHandle"] for s in r["students"]) == ["mid_one", "top_one"]
    r = client.get("/api/students?sort=solved&limit=2", headers=admin_headers).get_json()
    assert [s["codeforcesHandle"] for s in r["students"]] == ["mid_one", "top_one"]
    rest = client.get(f"/api/students?sort=solved&cursor={r['next_cursor']}", headers=admin_headers).get_json()
    assert [s["codeforcesHandle"] for s in rest["students"]] == ["low_one", "new_one"]
    bad = client.get("/api/students?minRating=2000&maxRating=1000", headers=admin_headers)
    assert bad.status_code == 400
