"""Beat schedules as data: each entry enqueues a job kind through `syncq.jobs.launch`.

A beat run is a job like any other (trigger `beat`), so it shows in `GET /jobs` and
obeys the same one-run-at-a-time guards as an API trigger.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from celery.schedules import crontab

from core.settings import Settings


def _cron(expr: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expr.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month,
                   month_of_year=month_of_year, day_of_week=day_of_week)


def entries(settings: Settings) -> list[dict[str, Any]]:
    """Every schedule entry as plain data: name, job kind, when, and whether it is on."""
    return [
        {"name": "sync-all-contests", "kind": "contests.sync_all",
         "enabled": settings.contests_schedule_enabled,
         "cron": f"0 */{settings.contests_schedule_hours} * * *"},
        {"name": "sync-all-students", "kind": "students.sync_all",
         "enabled": settings.students_schedule_enabled, "cron": settings.students_schedule_cron},
        {"name": "sync-raida", "kind": "raida.sync",
         "enabled": settings.raida_schedule_enabled,
         "cron": (f"*/{settings.raida_schedule_minutes} * * * *" if settings.raida_schedule_minutes < 60
                  else f"0 */{max(1, settings.raida_schedule_minutes // 60)} * * *")},
        # Not a job: a light scan each minute (contest.starting_soon, lost webhook deliveries).
        {"name": "webhooks-scan", "task": "syncq.webhooks.scan", "enabled": True, "cron": "* * * * *"},
    ]


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's `beat_schedule` for the enabled entries."""
    schedule = {}
    for entry in entries(settings):
        if not entry["enabled"]:
            continue
        schedule[entry["name"]] = {
            "task": entry.get("task", "syncq.jobs.launch"),
            "schedule": _cron(entry["cron"]),
            "kwargs": {"kind": entry["kind"], "trigger": "beat"} if "kind" in entry else {},
        }
    return schedule


def interval_seconds(settings: Settings, kind: str) -> float | None:
    """The longest gap between two runs of the schedule entry for job kind `kind`, in seconds;
    None when no enabled entry runs it (a source synced only by hand never goes stale)."""
    for entry in entries(settings):
        if entry["kind"] == kind and entry["enabled"]:
            return _longest_gap(entry["cron"])
    return None


@lru_cache(maxsize=16)
def _longest_gap(expr: str) -> float | None:
    # Walk two years hour by hour from a fixed start (so monthly and leap-day entries are measured
    # too), taking each matching hour's minutes; a cron that never fires in that span has no interval.
    schedule = _cron(expr)
    minutes = sorted(schedule.minute)
    start = hour = datetime(2025, 1, 1, tzinfo=timezone.utc)
    previous, longest = None, 0.0
    while hour < start + timedelta(days=731):
        if hour.hour in schedule.hour and hour.day in schedule.day_of_month \
                and hour.month in schedule.month_of_year and hour.isoweekday() % 7 in schedule.day_of_week:
            for minute in minutes:
                at = hour.replace(minute=minute)
                if previous is not None:
                    longest = max(longest, (at - previous).total_seconds())
                previous = at
        hour += timedelta(hours=1)
    return longest or None
