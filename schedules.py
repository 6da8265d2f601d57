"""Beat schedules as data: each entry enqueues a job kind through `syncq.jobs.launch`.

A beat run is a job like any other (trigger `beat`), so it shows in `GET /jobs` and
obeys the same one-run-at-a-time guards as an API trigger.
"""

from __future__ import annotations

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
