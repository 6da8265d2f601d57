"""Public reads from versions: validators known before any work (a conditional request reads no
contest), documents built once per version and shared, the calendar's default window, raw payloads
for admins only, per-client limits, and records with control characters in every text field."""

from __future__ import annotations

import csv
import io
import logging
import threading
from datetime import UTC, datetime, timedelta

import ics
import pytest
import vobject

import store
import store.contests as contests_store
from core import built
from store import versions
from tests.procs import wait_until

NOW = datetime.now(UTC).replace(microsecond=0)


def contest(platform_id: str, *, ended_days_ago: float = -3, platform: str = "codeforces", **fields) -> dict:
    """A contest record as a sync stores it, ending `ended_days_ago` days ago (negative: to come)."""
    end = NOW - timedelta(days=ended_days_ago)
    start = end - timedelta(hours=2)
    return {
        "platform": platform,
        "platformId": platform_id,
        "name": f"Round {platform_id}",
        "type": "CF",
        "phase": "FINISHED" if end < NOW else "UPCOMING",
        "rawPhase": "X",
        "startTime": start,
        "endTime": end,
        "durationSeconds": 7200,
        "url": f"https://codeforces.example/contest/{platform_id}",
        "raw": {"id": platform_id, "secret": "upstream payload"},
        **fields,
    }


def stored(*docs: dict) -> None:
    by_platform: dict[str, list[dict]] = {}
    for doc in docs:
        by_platform.setdefault(doc["platform"], []).append(doc)
    for platform, items in by_platform.items():
        contests_store.upsert_contests(platform, items)


PUBLIC = ["/contests.ics", "/contests", "/contests?format=csv", "/contests?platform=codeforces&limit=5", "/platforms"]


@pytest.mark.parametrize("path", PUBLIC)
def test_a_conditional_request_is_answered_304_without_reading_the_store(client, commands, path):
    stored(contest("1"), contest("2", ended_days_ago=1))
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    assert "stale-while-revalidate=" in first.headers["Cache-Control"]
    commands.on = True
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    commands.on = False
    assert again.status_code == 304 and since.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert commands.seen == [], commands.seen  # not one command: no contest, no platform read


def test_a_write_that_changes_a_contest_moves_the_etag_and_an_unchanged_one_does_not(client):
    stored(contest("1"))
    etag = client.get("/contests.ics").headers["ETag"]
    stored(contest("1"))  # the same contest again: nothing written
    assert client.get("/contests.ics", headers={"If-None-Match": etag}).status_code == 304
    stored(contest("1", name="Round 1 (moved)"))
    changed = client.get("/contests.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and b"Round 1 (moved)" in changed.data


def test_a_platform_filter_follows_only_that_platforms_version(client):
    stored(contest("1"), contest("a1", platform="atcoder"))
    etag = client.get("/contests.ics?platform=codeforces").headers["ETag"]
    stored(contest("a1", platform="atcoder", name="moved"))
    assert client.get("/contests.ics?platform=codeforces", headers={"If-None-Match": etag}).status_code == 304
    everyone = client.get("/contests.ics").data
    assert b"moved" in everyone


def test_cancelling_and_restoring_a_contest_moves_the_version(client):
    stored(contest("1"))
    etag = client.get("/contests").headers["ETag"]
    contests_store.count_missing_upcoming("codeforces", set(), misses=1)
    after_cancel = client.get("/contests", headers={"If-None-Match": etag})
    assert after_cancel.status_code == 200 and after_cancel.get_json()["contests"][0]["phase"] == "CANCELLED"
    contests_store.clear_missing("codeforces", {"1"})
    assert client.get("/contests", headers={"If-None-Match": after_cancel.headers["ETag"]}).status_code == 200


def test_renaming_a_contest_moves_the_version(client):
    stored(contest("1"))
    etag = client.get("/contests").headers["ETag"]
    assert contests_store.rename_contests("codeforces", {"1b": "1"}) == ["1b"]
    renamed = client.get("/contests", headers={"If-None-Match": etag})
    assert renamed.status_code == 200 and renamed.get_json()["contests"][0]["platformId"] == "1b"


def test_a_sync_attempt_moves_the_platforms_version(client):
    etag = client.get("/platforms").headers["ETag"]
    contests_store.record_attempt("codeforces", {"synced": 0}, success=True)
    fresh = client.get("/platforms", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert next(p for p in fresh.get_json()["platforms"] if p["platform"] == "codeforces")["lastSyncedAt"]


def test_an_answer_is_built_once_and_then_read_by_every_process_without_the_store(client, commands):
    stored(*(contest(str(n), ended_days_ago=n - 20) for n in range(30)))
    first = client.get("/contests?limit=10")
    built.forget_local()  # as another API process, which never built it
    from api import create_app
    from core.settings import reload_settings

    other = create_app(reload_settings()).test_client()
    commands.on = True
    second = other.get("/contests?limit=10")
    commands.on = False
    assert second.data == first.data and second.get_json()["count"] == 10
    assert not [c for c in commands.seen if c[1] == "contests"], commands.seen


def test_readers_arriving_during_a_build_wait_for_it_instead_of_building_again(store_db):
    release, builds, answers = threading.Event(), [], []

    def build() -> bytes:
        builds.append(1)
        release.wait(30)
        return b"the document"

    def read():
        answers.append(built.get_or_build("syncq:test:built:wait", build, ttl=60, entries=10, index="syncq:test:index"))

    from core.redisconn import get_binary_redis

    redis = get_binary_redis()
    redis.delete("syncq:test:built:wait", "syncq:test:built:wait:lock")
    built.forget_local()
    first = threading.Thread(target=read)
    first.start()
    wait_until(lambda: redis.exists("syncq:test:built:wait:lock"), 10, "the first reader's lock")
    others = [threading.Thread(target=read) for _ in range(5)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(30)
    assert len(builds) == 1 and answers == [b"the document"] * 6
    redis.delete("syncq:test:built:wait", "syncq:test:index")


def test_built_answers_are_bounded_and_the_least_recently_used_go_first(app, client):
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(read_cache_entries=3)
    stored(*(contest(str(n)) for n in range(6)))
    for limit in range(1, 6):
        assert client.get(f"/contests?limit={limit}").status_code == 200
    from core.redisconn import get_binary_redis

    redis = get_binary_redis()
    kept = redis.zrange(f"{versions.scope()}:built-index", 0, -1)
    assert len(kept) == 3 and all(redis.exists(key) for key in kept)
    assert len(redis.keys(f"{versions.scope()}:built:*")) == 3


def _uids(text: str) -> set[str]:
    return {event.uid for event in ics.Calendar(text).events}


def test_the_calendar_holds_what_ended_in_the_last_30_days_and_what_comes_unless_asked_for_more(client):
    stored(
        contest("old", ended_days_ago=400),
        contest("month", ended_days_ago=40),
        contest("recent", ended_days_ago=29),
        contest("next", ended_days_ago=-2),
    )
    default = _uids(client.get("/contests.ics").get_data(as_text=True))
    assert default == {"codeforces-recent@syncq", "codeforces-next@syncq"}
    assert "codeforces-month@syncq" in _uids(client.get("/contests.ics?days=60").get_data(as_text=True))
    since = (NOW - timedelta(days=500)).date().isoformat()
    assert len(_uids(client.get(f"/contests.ics?since={since}").get_data(as_text=True))) == 4
    assert client.get("/contests.ics?since=yesterday").status_code == 400
    assert client.get("/contests.ics?days=-1").status_code == 400


def test_raw_payloads_are_for_admins_who_ask(client, admin_headers, user_token):
    user_headers = {"Authorization": f"Bearer {user_token}"}
    stored(contest("1"))
    assert "raw" not in client.get("/contests").get_json()["contests"][0]
    assert "raw" not in client.get("/contests?include=raw").get_json()["contests"][0]
    assert "raw" not in client.get("/contests?include=raw", headers=user_headers).get_json()["contests"][0]
    assert "raw" not in client.get("/contests", headers=admin_headers).get_json()["contests"][0]
    mine = client.get("/contests?include=raw", headers=admin_headers)
    assert mine.get_json()["contests"][0]["raw"]["secret"] == "upstream payload"
    assert mine.headers["Cache-Control"] == "private, no-store"
    assert "raw" not in client.get("/contests/codeforces/1").get_json()
    assert client.get("/contests/codeforces/1?include=raw", headers=admin_headers).get_json()["raw"]["id"] == "1"


def test_a_client_over_the_public_limit_gets_429_with_retry_after(app, client):
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(public_rate_limit="3/minute")
    answers = [client.get(path) for path in ("/contests", "/contests.ics", "/platforms", "/contests")]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.get_json()["statusCode"] == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.get("/contests", environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 200  # per client


HOSTILE = "a\r\nb\rc\nd\x00e\x07f\x1bg\x7fh\u2028i\tj;k,l\\m"


def test_every_text_field_with_control_characters_is_answered_by_the_calendar_csv_and_json(client, caplog):
    fields = ("platformId", "name", "type", "phase", "rawPhase", "url")
    docs = [contest(f"id-{name}", **{name: f"{name} {HOSTILE}"}) for name in fields]
    docs.append(contest("everything", **{name: f"{name} {HOSTILE}" for name in fields if name != "platformId"}))
    stored(*docs)
    with caplog.at_level(logging.ERROR):
        feed = client.get("/contests.ics?days=3650")
    assert feed.status_code == 200
    text = feed.get_data(as_text=True)
    assert not [line for line in text.split("\r\n") if any(ord(ch) < 32 and ch != "\t" for ch in line)]
    assert len(ics.Calendar(text).events) == len(docs)
    assert len(vobject.readOne(text).contents["vevent"]) == len(docs)
    listed = client.get("/contests?limit=100")
    assert listed.status_code == 200 and listed.get_json()["count"] == len(docs)
    assert {c["name"] for c in listed.get_json()["contests"]} >= {f"name {HOSTILE}"}
    exported = client.get("/contests?format=csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True), newline="")))
    assert len(rows) == len(docs) and f"name {HOSTILE}" in {row["name"] for row in rows}


def test_a_record_the_calendar_cannot_encode_is_left_out_and_logged(client, store_db, caplog):
    stored(contest("good"))
    bad = contest("bad", startTime="not a time")
    store_db.contests.insert_one(bad)
    with caplog.at_level(logging.ERROR, logger="api.feeds"):
        feed = client.get("/contests.ics")
    assert feed.status_code == 200
    assert _uids(feed.get_data(as_text=True)) == {"codeforces-good@syncq"}
    assert any("codeforces/bad" in record.getMessage() for record in caplog.records)
    assert client.get("/contests").status_code == 200 and client.get("/contests?format=csv").status_code == 200


@pytest.mark.parametrize(
    "filters",
    [{}, {"platform": "codeforces"}, {"phase": "FINISHED"}, {"platform": "atcoder", "phase": "UPCOMING"}],
)
def test_pages_read_in_windows_list_every_contest_once_in_start_order(store_db, filters):
    import random

    rng = random.Random(7)
    docs = []
    for n in range(300):
        when = rng.choice(
            [
                datetime(1995, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(2000)),  # before the first window
                datetime(2010, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(6000)),
                NOW + timedelta(days=rng.randrange(3000)),  # past the horizon too
            ]
        )
        doc = contest(
            str(n), platform=rng.choice(["codeforces", "atcoder"]), phase=rng.choice(["FINISHED", "UPCOMING"])
        )
        doc.update(startTime=when.replace(hour=0, minute=0, second=0), endTime=when + timedelta(hours=2))
        docs.append(doc)
    for n in range(5):
        docs.append(contest(f"undated{n}", startTime=None, endTime=None, phase="UPCOMING"))
    docs.append(contest("tie-a", startTime=datetime(2012, 5, 5, tzinfo=UTC)))
    docs.append(contest("tie-b", startTime=datetime(2012, 5, 5, tzinfo=UTC)))
    stored(*docs)
    everything = list(store_db.contests.find(dict(filters)))
    expected = sorted(
        everything,
        key=lambda d: (d["startTime"] is not None, d["startTime"] or datetime.min.replace(tzinfo=UTC), d["_id"]),
    )
    for limit in (1, 7, 50):
        seen, cursor = [], None
        while True:
            items, cursor = contests_store.find_contests(**filters, limit=limit, cursor=cursor)
            seen += [d["_id"] for d in items]
            assert "raw" not in (items[0] if items else {})
            if cursor is None:
                break
        assert seen == [d["_id"] for d in expected], (filters, limit)
    start_from, start_to = datetime(2012, 1, 1, tzinfo=UTC), datetime(2016, 1, 1, tzinfo=UTC)
    ranged, _ = contests_store.find_contests(**filters, start_from=start_from, start_to=start_to, limit=500)
    assert [d["_id"] for d in ranged] == [
        d["_id"] for d in expected if d["startTime"] is not None and start_from <= d["startTime"] < start_to
    ]


def test_a_version_another_process_moves_is_seen_here(store_db):
    import os
    import subprocess
    import sys

    first = versions.current([versions.ALL_CONTESTS])[versions.ALL_CONTESTS]
    code = (
        "import store; from store import versions; "
        f"store.configure({store._current_uri()!r}, {store.database_name()!r}); versions.move_contests('codeforces')"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, env=os.environ, cwd=os.path.dirname(os.path.dirname(__file__))
    )
    wait_until(lambda: versions.current([versions.ALL_CONTESTS])[versions.ALL_CONTESTS] > first, 5, "the moved version")


def test_a_repeated_read_is_answered_before_flask_until_a_version_moves(client, monkeypatch):
    import api.feeds

    stored(contest("1"))
    first = client.get("/contests.ics")
    calls = []
    real = api.feeds.versioned
    monkeypatch.setattr(api.feeds, "versioned", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = client.get("/contests.ics")
    conditional = client.get("/contests.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert conditional.status_code == 304 and conditional.headers["ETag"] == first.headers["ETag"]
    assert calls == []  # neither reached the route
    stored(contest("1", name="renamed"))
    fresh = client.get("/contests.ics")
    assert calls == [1] and b"renamed" in fresh.data
