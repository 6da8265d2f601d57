"""The calendar feed and the CSV exports, end to end: contests synced from the simulator by a real
worker, then read over HTTP and parsed by two iCalendar parsers that share no code with the
`icalendar` library that writes the feed (ics-py and vobject)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import ics
import pytest
import vobject

import store.contests as contests_store
import store.students as students_store

pytestmark = pytest.mark.slow


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _sync(client, admin_headers, platform: str) -> None:
    r = client.post(f"/contests/sync/{platform}?wait=60", headers=admin_headers)
    assert r.status_code == 200, r.get_json()


def _contests(client, query: str, dated: bool = True) -> dict[str, dict]:
    """The JSON API's contests by feed UID; `dated`: only those with a start time (a contest announced
    without a date has no place on a calendar)."""
    body = client.get(f"/contests?{query}&limit=500").get_json()
    assert body["next_cursor"] is None
    return {f"{c['platform']}-{c['platformId']}@syncq": c for c in body["contests"] if c["startTime"] or not dated}


def _by_ics(text: str) -> dict[str, dict]:
    calendar = ics.Calendar(text)
    events = {}
    for event in calendar.events:
        extra = {line.name: line.value for line in event.extra}
        events[event.uid] = {
            "start": event.begin.datetime.astimezone(UTC),
            "end": event.end.datetime.astimezone(UTC),
            "summary": event.name,
            "url": event.url,
            "status": event.status,
            "sequence": int(extra["SEQUENCE"]),
            "categories": set(event.categories),
        }
    return events


def _by_vobject(text: str) -> dict[str, dict]:
    calendar = vobject.readOne(text)
    events = {}
    for event in calendar.contents.get("vevent", []):
        events[event.uid.value] = {
            "start": event.dtstart.value.astimezone(UTC),
            "end": event.dtend.value.astimezone(UTC),
            "summary": event.summary.value,
            "url": event.url.value,
            "status": event.status.value,
            "sequence": int(event.sequence.value),
            "categories": set(event.categories.value),
        }
    return events


@pytest.fixture()
def synced(client, admin_headers, worker, simulator):
    _sync(client, admin_headers, "codeforces")
    _sync(client, admin_headers, "codechef")
    return simulator


def test_the_feed_lists_each_contest_once_and_two_parsers_read_every_field(client, synced):
    expected = _contests(client, "platform=codeforces&phase=UPCOMING")
    expected.update(_contests(client, "platform=codechef&phase=UPCOMING"))
    assert len(expected) >= 3
    r = client.get("/contests.ics?platform=codeforces,codechef&phase=UPCOMING")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    text = r.get_data(as_text=True)
    assert "\r\n" in text and text.startswith("BEGIN:VCALENDAR")
    for events in (_by_ics(text), _by_vobject(text)):
        assert set(events) == set(expected)
        for uid, contest in expected.items():
            event = events[uid]
            assert event["start"] == _when(contest["startTime"])
            assert event["end"] == _when(contest["startTime"]) + timedelta(seconds=contest["durationSeconds"])
            assert event["summary"] == contest["name"]
            assert event["url"] == contest["url"]
            assert event["status"] == "CONFIRMED" and event["sequence"] == 0
            assert event["categories"] == {contest["platform"]}

    calendar = vobject.readOne(text)
    refresh = calendar.contents["refresh-interval"][0]
    assert refresh.params == {"VALUE": ["DURATION"]} and refresh.value == "PT1H"
    assert calendar.contents["x-published-ttl"][0].value == "PT1H"
    assert calendar.version.value == "2.0" and calendar.prodid.value
    # Every time is written in UTC ("Z"), never floating or with a TZID the file does not define.
    assert "TZID" not in text and all(
        line.endswith("Z") for line in text.splitlines() if line.startswith(("DTSTART", "DTEND"))
    )


def test_a_moved_contest_keeps_its_uid_and_raises_its_sequence(client, admin_headers, synced):
    upcoming = _contests(client, "platform=codeforces&phase=UPCOMING")
    moved_uid, renamed_uid = sorted(upcoming)[:2]
    moved, renamed = upcoming[moved_uid], upcoming[renamed_uid]
    new_start = _when(moved["startTime"]) + timedelta(hours=2)
    httpx.post(
        f"{synced.url}/_sim/contests/codeforces/{moved['platformId']}",
        json={"startTimeSeconds": int(new_start.timestamp())},
        timeout=10,
    ).raise_for_status()
    httpx.post(
        f"{synced.url}/_sim/contests/codeforces/{renamed['platformId']}",
        json={"name": "Renamed Round (Div. 2)"},
        timeout=10,
    ).raise_for_status()
    _sync(client, admin_headers, "codeforces")

    text = client.get("/contests.ics?platform=codeforces").get_data(as_text=True)
    for events in (_by_ics(text), _by_vobject(text)):
        assert events[moved_uid]["start"] == new_start and events[moved_uid]["sequence"] == 1
        # A new name is an update of the same event, not a move: SEQUENCE stays.
        assert events[renamed_uid]["summary"] == "Renamed Round (Div. 2)" and events[renamed_uid]["sequence"] == 0
    # Moved again (its length this time): raised again.
    httpx.post(
        f"{synced.url}/_sim/contests/codeforces/{moved['platformId']}",
        json={"durationSeconds": moved["durationSeconds"] + 1800},
        timeout=10,
    ).raise_for_status()
    _sync(client, admin_headers, "codeforces")
    events = _by_vobject(client.get("/contests.ics?platform=codeforces").get_data(as_text=True))
    assert events[moved_uid]["sequence"] == 2
    assert events[moved_uid]["end"] == new_start + timedelta(seconds=moved["durationSeconds"] + 1800)


def test_a_move_seen_by_a_writer_that_raced_an_insert_still_raises_the_sequence(store_db):
    doc = {
        "platformId": "7",
        "name": "Round 7",
        "type": "CF",
        "phase": "UPCOMING",
        "rawPhase": None,
        "startTime": datetime(2030, 1, 1, tzinfo=UTC),
        "endTime": None,
        "durationSeconds": 7200,
        "url": "https://codeforces.com/contest/7",
        "raw": {},
    }
    contests_store.upsert_contests("codeforces", [doc])
    assert contests_store.get_contest("codeforces", "7")["sequence"] == 0
    # A writer that read no hashes (the contest looked new) inserts, hits the key, and updates.
    outcome = contests_store.upsert_contests("codeforces", [{**doc, "durationSeconds": 9000}], hashes={})
    assert outcome.updated == 1 and not outcome.failed
    assert contests_store.get_contest("codeforces", "7")["sequence"] == 1
    outcome = contests_store.upsert_contests("codeforces", [{**doc, "durationSeconds": 9000, "name": "R7"}])
    assert outcome.updated == 1 and contests_store.get_contest("codeforces", "7")["sequence"] == 1


def test_a_cancelled_contest_stays_in_the_feed_as_cancelled(client, synced, store_db):
    uid = sorted(_contests(client, "platform=codechef&phase=UPCOMING"))[0]
    platform_id = uid.removeprefix("codechef-").removesuffix("@syncq")
    store_db.contests.update_one({"platform": "codechef", "platformId": platform_id}, {"$set": {"phase": "CANCELLED"}})
    text = client.get("/contests.ics?platform=codechef").get_data(as_text=True)
    for events in (_by_ics(text), _by_vobject(text)):
        assert events[uid]["status"] == "CANCELLED"
        assert all(e["status"] == "CONFIRMED" for key, e in events.items() if key != uid)
    only = _by_vobject(client.get("/contests.ics?phase=cancelled").get_data(as_text=True))
    assert set(only) == {uid}


def test_the_etag_answers_304_until_the_feed_changes(client, admin_headers, synced):
    first = client.get("/contests.ics?platform=codeforces")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"].startswith("public")
    again = client.get("/contests.ics?platform=codeforces", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert (
        client.get("/contests.ics?platform=codeforces", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    )
    assert client.get("/contests.ics?platform=codeforces", headers={"If-None-Match": '"other"'}).status_code == 200
    # Another filter is another document with its own tag.
    assert client.get("/contests.ics?platform=codechef").headers["ETag"] != etag

    upcoming = sorted(_contests(client, "platform=codeforces&phase=UPCOMING").values(), key=lambda c: c["platformId"])
    httpx.post(
        f"{synced.url}/_sim/contests/codeforces/{upcoming[0]['platformId']}", json={"name": "Changed"}, timeout=10
    ).raise_for_status()
    _sync(client, admin_headers, "codeforces")
    changed = client.get("/contests.ics?platform=codeforces", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_the_feed_is_public_and_refuses_unknown_filters(client, store_db):
    r = client.get("/contests.ics")
    assert r.status_code == 200 and "BEGIN:VCALENDAR" in r.get_data(as_text=True)
    bad = client.get("/contests.ics?platform=codeforces,nosuch")
    assert bad.status_code == 404 and "nosuch" in bad.get_json()["message"]
    assert client.get("/contests.ics?phase=SOON").get_json()["statusCode"] == 400


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_contests_come_as_csv_by_format_or_accept_header(client, synced):
    expected = _contests(client, "platform=codechef", dated=False)
    by_format = client.get("/contests?platform=codechef&format=csv")
    by_accept = client.get("/contests?platform=codechef", headers={"Accept": "text/csv"})
    assert by_format.mimetype == by_accept.mimetype == "text/csv"
    rows = _rows(by_format)
    assert rows == _rows(by_accept)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["platform", "platformId", "name"] and "startTime" in header
    # Every contest, not one page: the export has no cursor.
    assert len(body) == len(expected)
    for row in body:
        record = dict(zip(header, row))
        contest = expected[f"codechef-{record['platformId']}@syncq"]
        assert record["name"] == contest["name"] and record["url"] == contest["url"]
        assert _when(record["startTime"]) == _when(contest["startTime"])
    assert client.get("/contests?format=xml").status_code == 400
    assert client.get("/contests?platform=codechef", headers={"Accept": "*/*"}).mimetype == "application/json"


def test_csv_cells_that_would_run_as_formulas_are_defused(client, admin_headers, store_db):
    contests_store.upsert_contests(
        "codeforces",
        [
            {
                "platformId": "1",
                "name": '=HYPERLINK("http://evil","x")',
                "type": "CF",
                "phase": "UPCOMING",
                "rawPhase": None,
                "startTime": datetime(2030, 1, 1, tzinfo=UTC),
                "endTime": None,
                "durationSeconds": 7200,
                "url": "@SUM(1+1)",
                "raw": {},
            },
            {
                "platformId": "2",
                "name": "-2+3+cmd|' /C calc'!A0",
                "type": "+x",
                "phase": "UPCOMING",
                "rawPhase": None,
                "startTime": datetime(2030, 1, 2, tzinfo=UTC),
                "endTime": None,
                "durationSeconds": 60,
                "url": "https://codeforces.com/contest/2",
                "raw": {},
            },
        ],
    )
    rows = _rows(client.get("/contests?format=csv"))
    records = {row[1]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert records["1"]["name"] == '\'=HYPERLINK("http://evil","x")' and records["1"]["url"] == "'@SUM(1+1)"
    assert records["2"]["name"].startswith("'-2+3") and records["2"]["type"] == "'+x"
    assert records["2"]["durationSeconds"] == "60"  # numbers stay numbers

    # Stored directly: creating through the API would also queue each student's first sync.
    students_store.create("+Mallory", "m@example.com", "mallory_1")
    students_store.create("Alice", "a@example.com", "alice_1", phone="+1 555 0100")
    students = client.get("/api/students?format=csv", headers=admin_headers)
    assert students.mimetype == "text/csv"
    rows = _rows(students)
    by_handle = {row[rows[0].index("codeforcesHandle")]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert set(by_handle) == {"mallory_1", "alice_1"}
    assert by_handle["mallory_1"]["name"] == "'+Mallory" and by_handle["alice_1"]["phone"] == "'+1 555 0100"
    assert by_handle["alice_1"]["email"] == "a@example.com"
    assert _rows(client.get("/api/students", headers={**admin_headers, "Accept": "text/csv"})) == rows
    # Admin only, as the JSON list.
    assert client.get("/api/students?format=csv").status_code == 401
