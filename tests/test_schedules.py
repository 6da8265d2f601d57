"""Beat schedules changed at run time through `/api/schedules`, honoured by a real beat (RedBeat)."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf, get_redis

import schedules
import store.jobs as jobs_store
from syncq.stackargv import beat_argv
from tests.procs import wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def beat_app(celery_app_under_test):
    """The project's Celery app with no schedule stored under its RedBeat prefix (before and after)."""

    def clear():
        client = get_redis(celery_app_under_test)
        for key in client.scan_iter(f"{ensure_conf(celery_app_under_test).key_prefix}*"):
            client.delete(key)

    clear()
    yield celery_app_under_test
    clear()


def _entry(client, headers, name: str) -> dict:
    r = client.get(f"/api/schedules/{name}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _patch(client, headers, name: str, body):
    return client.patch(f"/api/schedules/{name}", headers=headers, json=body)


def test_every_beat_entry_is_listed_with_its_schedule(client, admin_headers, beat_app):
    r = client.get("/api/schedules", headers=admin_headers)
    assert r.status_code == 200
    entries = {e["name"]: e for e in r.get_json()["schedules"]}
    assert set(entries) == {
        "sync-all-contests",
        "sync-all-students",
        "sync-raida",
        "webhooks-scan",
        "prune-history",
        "refresh-schedules",
    }
    contests = entries["sync-all-contests"]
    assert contests["task"] == "syncq.jobs.launch" and contests["kind"] == "contests.sync_all"
    assert contests["cron"] == "0 */6 * * *" and contests["timezone"] == "UTC" and contests["interval"] is None
    assert contests["enabled"] is True and contests["lastRunAt"] is None and contests["runCount"] == 0
    next_run = datetime.fromisoformat(contests["nextRunAt"].replace("Z", "+00:00"))
    assert next_run > datetime.now(UTC) and next_run.hour % 6 == 0 and next_run.minute == 0
    assert entries["sync-all-students"]["cron"] == "0 3 * * *"
    assert entries["sync-raida"]["kind"] == "raida.sync"


def test_a_bad_change_is_refused_naming_the_field_and_changes_nothing(client, admin_headers, user_token, beat_app):
    before = _entry(client, admin_headers, "sync-all-students")
    cases = [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * * *"}, "cron"),
        ({"cron": "0 0 31 2 *"}, "cron"),
        ({"cron": 5}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": 1}, "timezone"),
        ({"interval": 0}, "interval"),
        ({"interval": "60"}, "interval"),
        ({"interval": True}, "interval"),
        ({"interval": 1.5}, "interval"),
        ({"enabled": "yes"}, "enabled"),
        ({"cron": "* * * * *", "interval": 60}, "interval"),
        ({"owner": "me"}, "owner"),
    ]
    for body, field in cases:
        r = _patch(client, admin_headers, "sync-all-students", body)
        assert r.status_code == 400, (body, r.get_json())
        answer = r.get_json()
        assert answer["statusCode"] == 400 and answer["field"] == field and field in answer["message"], (body, answer)
    assert _patch(client, admin_headers, "sync-all-students", {}).status_code == 400
    assert client.patch("/api/schedules/sync-all-students", headers=admin_headers, data="cron").status_code == 400
    missing = _patch(client, admin_headers, "no-such-entry", {"enabled": False})
    assert missing.status_code == 404 and "sync-all-students" in missing.get_json()["message"]
    assert (
        _patch(client, {"Authorization": f"Bearer {user_token}"}, "sync-all-students", {"enabled": False}).status_code
        == 403
    )
    assert client.get("/api/schedules").status_code == 401
    assert _entry(client, admin_headers, "sync-all-students") == before


def test_a_cron_in_a_time_zone_runs_at_that_zones_wall_clock(client, admin_headers, beat_app):
    r = _patch(client, admin_headers, "sync-all-students", {"cron": "30 2 * * *", "timezone": "America/New_York"})
    assert r.status_code == 200, r.get_json()
    entry = r.get_json()
    assert entry["cron"] == "30 2 * * *" and entry["timezone"] == "America/New_York"
    local = datetime.fromisoformat(entry["nextRunAt"].replace("Z", "+00:00")).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (2, 30)

    entry = _patch(
        client, admin_headers, "sync-all-students", {"cron": "0 9 * * 1", "timezone": "Asia/Kolkata"}
    ).get_json()
    local = datetime.fromisoformat(entry["nextRunAt"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Kolkata"))
    assert (local.isoweekday(), local.hour, local.minute) == (1, 9, 0)

    # Back to UTC: the same cron now means UTC's wall clock.
    entry = _patch(client, admin_headers, "sync-all-students", {"timezone": "UTC"}).get_json()
    utc = datetime.fromisoformat(entry["nextRunAt"].replace("Z", "+00:00"))
    assert (utc.isoweekday(), utc.hour, utc.minute) == (1, 9, 0) and entry["cron"] == "0 9 * * 1"

    # An interval has no time zone; a cron brings one back (UTC unless given).
    entry = _patch(client, admin_headers, "sync-all-students", {"interval": 900}).get_json()
    assert entry["interval"] == 900 and entry["cron"] is None and entry["timezone"] is None
    refused = _patch(client, admin_headers, "sync-all-students", {"timezone": "Europe/Paris"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "timezone"


def test_seeding_stores_only_what_is_missing(client, admin_headers, beat_app):
    _patch(client, admin_headers, "sync-raida", {"interval": 120, "enabled": False})
    assert schedules.seed(beat_app) == []  # what every beat start runs: the change stays
    entry = _entry(client, admin_headers, "sync-raida")
    assert entry["interval"] == 120 and entry["enabled"] is False

    # An entry that is gone from Redis comes back with its default.
    RedBeatSchedulerEntry.from_key(
        RedBeatSchedulerEntry.generate_key(beat_app, "sync-all-contests"), app=beat_app
    ).delete()
    assert schedules.seed(beat_app) == ["sync-all-contests"]
    assert _entry(client, admin_headers, "sync-all-contests")["cron"] == "0 */6 * * *"


def test_run_now_enqueues_the_entrys_job(client, admin_headers, worker, beat_app):
    r = client.post("/api/schedules/sync-all-students/run?wait=30", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    jobs = jobs_store.recent("students.sync_all", 10)
    assert len(jobs) == 1 and jobs[0]["trigger"] == "api" and jobs[0]["state"] == "SUCCESS"
    assert client.post("/api/schedules/nope/run", headers=admin_headers).status_code == 404


class Beat:
    """`celery -A workers beat` with RedBeat, on this session's Redis and queue."""

    def __init__(self):
        self.process = subprocess.Popen(
            beat_argv(),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _beat_runs() -> list[dict]:
    return [job for job in jobs_store.recent("students.sync_all", 100) if job["trigger"] == "beat"]


@pytest.mark.slow
def test_a_running_beat_follows_a_changed_schedule_and_a_restart_keeps_it(client, admin_headers, worker, beat_app):
    lock_key = ensure_conf(beat_app).lock_key
    assert _entry(client, admin_headers, "sync-all-students")["cron"] == "0 3 * * *"
    beat = Beat()
    try:
        wait_until(lambda: get_redis(beat_app).exists(lock_key), 30, "beat to start and hold its lock")
        time.sleep(2)
        assert _beat_runs() == []  # its daily cron is not due
        # Changed while beat runs: it fires on the new schedule, with no restart.
        changed = _patch(client, admin_headers, "sync-all-students", {"interval": 2})
        assert changed.status_code == 200 and changed.get_json()["interval"] == 2
        wait_until(lambda: len(_beat_runs()) >= 3, 60, "three beat runs every 2 s")
        entry = _entry(client, admin_headers, "sync-all-students")
        assert entry["runCount"] >= 3 and entry["lastRunAt"] is not None

        # Switched off: no more runs (after the one beat may already have sent).
        assert _patch(client, admin_headers, "sync-all-students", {"enabled": False}).status_code == 200
        time.sleep(4)
        settled = len(_beat_runs())
        time.sleep(8)
        assert len(_beat_runs()) == settled
    finally:
        beat.stop()

    # A new beat (a restart) keeps the stored change instead of the settings' default.
    beat = Beat()
    try:
        wait_until(lambda: get_redis(beat_app).exists(lock_key), 60, "the new beat to hold the lock")
        entry = _entry(client, admin_headers, "sync-all-students")
        assert entry["interval"] == 2 and entry["enabled"] is False
        before = len(_beat_runs())
        assert _patch(client, admin_headers, "sync-all-students", {"enabled": True}).status_code == 200
        wait_until(lambda: len(_beat_runs()) >= before + 2, 60, "runs again once re-enabled")
    finally:
        beat.stop()


@pytest.mark.slow
def test_a_beat_fires_a_cron_set_in_another_time_zone(client, admin_headers, worker, beat_app):
    # Every minute in Kolkata (UTC+05:30): the entry runs as RedBeat's rrule in that zone.
    entry = _patch(client, admin_headers, "sync-all-students", {"cron": "* * * * *", "timezone": "Asia/Kolkata"})
    assert entry.status_code == 200 and entry.get_json()["timezone"] == "Asia/Kolkata"
    beat = Beat()
    try:
        run = wait_until(_beat_runs, 100, "a run at the next minute")[0]
    finally:
        beat.stop()
    assert run["kind"] == "students.sync_all"
    assert _entry(client, admin_headers, "sync-all-students")["runCount"] >= 1


def test_a_zoned_cron_follows_its_zone_s_new_offset_after_a_daylight_saving_change(client, admin_headers, beat_app):
    from datetime import timedelta

    from redbeat.schedules import rrule

    from workers import maintenance

    assert (
        _patch(
            client, admin_headers, "sync-all-students", {"cron": "30 2 * * *", "timezone": "Europe/Paris"}
        ).status_code
        == 200
    )
    key = RedBeatSchedulerEntry.generate_key(beat_app, "sync-all-students")
    saved = RedBeatSchedulerEntry.from_key(key, app=beat_app)
    paris = datetime.now(ZoneInfo("Europe/Paris")).utcoffset()
    assert saved.schedule.dtstart.utcoffset() == paris
    # As stored before the clocks changed: the same rule at the zone's other offset.
    other = paris + timedelta(hours=1) if paris == timedelta(hours=1) else paris - timedelta(hours=1)
    stale = rrule(
        "MINUTELY",
        dtstart=datetime.now(timezone(other)).replace(second=0, microsecond=0),
        byminute=[30],
        byhour=[2],
        app=beat_app,
    )
    RedBeatSchedulerEntry(
        "sync-all-students",
        saved.task,
        stale,
        kwargs=saved.kwargs,
        enabled=True,
        app=beat_app,
        last_run_at=saved.last_run_at,
    ).save()

    assert maintenance.refresh_schedules() == ["sync-all-students"]
    refreshed = RedBeatSchedulerEntry.from_key(key, app=beat_app)
    assert refreshed.schedule.dtstart.utcoffset() == paris
    assert (refreshed.schedule.byhour, refreshed.schedule.byminute) == ([2], [30])
    assert maintenance.refresh_schedules() == []  # nothing more to move
    entry = _entry(client, admin_headers, "sync-all-students")
    assert entry["cron"] == "30 2 * * *" and entry["timezone"] == "Europe/Paris" and entry["enabled"]


def test_run_now_of_a_task_entry_answers_503_when_the_broker_is_down(client, admin_headers, beat_app, monkeypatch):
    from celery import Celery

    from jobs import service
    from syncq.embedded import free_port

    # A Celery app whose broker no one answers: what sending a task meets while Redis is down.
    monkeypatch.setattr(
        service, "app", Celery("down", broker=f"redis://127.0.0.1:{free_port()}/0", set_as_current=False)
    )
    r = client.post("/api/schedules/webhooks-scan/run", headers=admin_headers)
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["statusCode"] == 503 and "broker (Redis) is unavailable" in r.get_json()["message"]
