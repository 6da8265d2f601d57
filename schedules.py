"""Beat schedules: each entry enqueues a job kind through `syncq.jobs.launch`, kept in Redis by RedBeat.

A beat run is a job like any other (trigger `beat`), so it shows in `GET /jobs` and obeys the same
one-run-at-a-time guards as an API trigger.

The entries live in Redis, written through RedBeat's own entry class (`RedBeatSchedulerEntry`:
`save`, `from_key`, `delete`), so a running beat reads a change at its next tick and a restart keeps
it. The settings (`SYNCQ_*_SCHEDULE_*`) are only the defaults: `seed` stores an entry only where
none is stored, at every beat start and before the API lists them. What the operator wrote (cron
text, time zone, interval) is kept beside the entries in one Redis hash, since RedBeat stores only
what it runs.

A cron in UTC runs as Celery's `crontab`. A cron in another time zone runs as RedBeat's `rrule`
(Celery's crontab follows the app's one time zone, and RedBeat stores no zone with a crontab);
RedBeat stores an rrule's start as a UTC offset, so `seed` re-saves such an entry when its zone's
offset has changed (daylight saving): at each beat start, each listing, and every 10 minutes (the
`refresh-schedules` entry).
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from celery import Celery
from celery.schedules import crontab, schedule
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf, get_redis
from redbeat.schedules import rrule

from core.settings import ConfigError, Settings, get_settings

TASK = "syncq.jobs.launch"
UTC = "UTC"
MAX_INTERVAL = 366 * 24 * 3600
LOCK_TIMEOUT = 10


class ScheduleError(ValueError):
    """A change that cannot be made; `field` names the offending field."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


class UnknownSchedule(KeyError):
    """No schedule entry has that name."""


@dataclass(frozen=True)
class Spec:
    """When an entry runs, as the operator wrote it: a cron (with its IANA zone) or an interval."""

    cron: str | None = None
    timezone: str | None = None
    interval: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"cron": self.cron, "timezone": self.timezone, "interval": self.interval}


def entries(settings: Settings) -> list[dict[str, Any]]:
    """The default entries, from the settings: name, job kind, cron (UTC), whether it is on."""
    return [
        {
            "name": "sync-all-contests",
            "kind": "contests.sync_all",
            "enabled": settings.contests_schedule_enabled,
            "cron": f"0 */{settings.contests_schedule_hours} * * *",
        },
        {
            "name": "sync-all-students",
            "kind": "students.sync_all",
            "enabled": settings.students_schedule_enabled,
            "cron": settings.students_schedule_cron,
        },
        {
            "name": "sync-raida",
            "kind": "raida.sync",
            "enabled": settings.raida_schedule_enabled,
            "cron": (
                f"*/{settings.raida_schedule_minutes} * * * *"
                if settings.raida_schedule_minutes < 60
                else f"0 */{max(1, settings.raida_schedule_minutes // 60)} * * *"
            ),
        },
        # Not a job: a light scan each minute (contest.starting_soon, lost webhook deliveries).
        {"name": "webhooks-scan", "kind": None, "task": "syncq.webhooks.scan", "enabled": True, "cron": "* * * * *"},
        # Not jobs either: once a day, forget history older than SYNCQ_HISTORY_DAYS; every 10 minutes,
        # move zoned crons to their zone's new UTC offset (RedBeat stores an rrule with a fixed one).
        {
            "name": "prune-history",
            "kind": None,
            "task": "syncq.maintenance.prune",
            "enabled": settings.history_days > 0,
            "cron": "17 4 * * *",
        },
        {
            "name": "refresh-schedules",
            "kind": None,
            "task": "syncq.maintenance.schedules",
            "enabled": True,
            "cron": "*/10 * * * *",
        },
    ]


# --- validation and the schedule objects RedBeat stores --------------------------------


def parse_cron(expr: Any) -> crontab:
    """Celery's crontab for a five-field cron expression; ScheduleError naming `cron` otherwise."""
    if not isinstance(expr, str) or len(expr.split()) != 5:
        raise ScheduleError("cron", "'cron' must be five fields: minute hour day-of-month month day-of-week")
    minute, hour, day_of_month, month_of_year, day_of_week = expr.split()
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except Exception as exc:  # Celery's parser raises ValueError or its own ParseException
        raise ScheduleError("cron", f"'cron' is not a valid cron expression ({expr}): {exc}") from None


def parse_timezone(name: Any) -> str:
    """An IANA time zone name that exists here; ScheduleError naming `timezone` otherwise."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ScheduleError("timezone", "'timezone' must be an IANA time zone name such as Europe/Paris")
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:  # unknown name, or a path-like string zoneinfo refuses
        raise ScheduleError(
            "timezone", f"'timezone' {name[:64]!r} is not an IANA time zone name (such as UTC or Europe/Paris)"
        ) from None
    return name


def parse_interval(value: Any) -> int:
    """Seconds between runs, 1 to a year; ScheduleError naming `interval` otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != int(value)
        or not 1 <= value <= MAX_INTERVAL
    ):
        raise ScheduleError("interval", f"'interval' must be a whole number of seconds from 1 to {MAX_INTERVAL}")
    return int(value)


def _runnable(spec: Spec, app: Celery):
    """What RedBeat runs for `spec`: an interval, a UTC crontab, or an rrule in the cron's zone."""
    if spec.interval is not None:
        return schedule(run_every=spec.interval, app=app)
    cron = parse_cron(spec.cron)
    if not spec.timezone or spec.timezone == UTC:
        return cron
    now = datetime.now(zoneinfo.ZoneInfo(spec.timezone)).replace(second=0, microsecond=0)
    days = {day: (day - 1) % 7 for day in range(7)}  # cron counts from Sunday = 0, rrule from Monday = 0
    return rrule(
        "MINUTELY",
        dtstart=now,
        byminute=sorted(cron.minute),
        byhour=sorted(cron.hour),
        bymonthday=sorted(cron.day_of_month) if len(cron.day_of_month) < 31 else None,
        bymonth=sorted(cron.month_of_year) if len(cron.month_of_year) < 12 else None,
        byweekday=sorted(days[d] for d in cron.day_of_week) if len(cron.day_of_week) < 7 else None,
        app=app,
    )


# --- storage ----------------------------------------------------------------------------


def _specs_key(app: Celery) -> str:
    return f"{ensure_conf(app).key_prefix}:syncq-specs"


def _lock(app: Celery):
    # One writer at a time, so a seed never overwrites a change made between its read and its write.
    return get_redis(app).lock(
        f"{ensure_conf(app).key_prefix}:syncq-specs-lock", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT
    )


def _load(app: Celery, name: str) -> RedBeatSchedulerEntry | None:
    try:
        return RedBeatSchedulerEntry.from_key(RedBeatSchedulerEntry.generate_key(app, name), app=app)
    except KeyError:
        return None


def _spec(app: Celery, name: str) -> Spec | None:
    raw = get_redis(app).hget(_specs_key(app), name)
    return Spec(**json.loads(raw)) if raw else None


def _save(
    app: Celery,
    name: str,
    kind: str | None,
    spec: Spec,
    enabled: bool,
    stored: RedBeatSchedulerEntry | None,
    task: str = TASK,
) -> None:
    kwargs = {"kind": kind, "trigger": "beat"} if kind else {}
    entry = RedBeatSchedulerEntry(
        name,
        task,
        _runnable(spec, app),
        kwargs=kwargs,
        enabled=enabled,
        app=app,
        # Keep the last run: a changed entry runs when its new schedule says
        # it is due after that run (a new entry counts from now).
        last_run_at=stored.last_run_at if stored is not None else None,
        total_run_count=stored.total_run_count if stored is not None else 0,
    )
    entry.save()
    get_redis(app).hset(_specs_key(app), name, json.dumps(spec.as_dict()))


def _offset_changed(spec: Spec, stored: RedBeatSchedulerEntry) -> bool:
    if spec.interval is not None or not spec.timezone or spec.timezone == UTC or not isinstance(stored.schedule, rrule):
        return False
    now = datetime.now(timezone.utc)
    return stored.schedule.dtstart.utcoffset() != now.astimezone(zoneinfo.ZoneInfo(spec.timezone)).utcoffset()


def seed(app: Celery, settings: Settings | None = None) -> list[str]:
    """Store each default entry that is not stored yet (a stored one, changed or not, is kept), and
    re-save entries whose time zone changed its UTC offset; answers the names written."""
    written = []
    with _lock(app):
        for default in entries(settings or get_settings()):
            name = default["name"]
            stored, spec = _load(app, name), _spec(app, name)
            if stored is None or spec is None:
                spec = Spec(cron=default["cron"], timezone=UTC)
                try:
                    parse_cron(spec.cron)
                except ScheduleError as exc:
                    raise ConfigError(
                        f"the default schedule of {name} is not valid ({exc}); check the SYNCQ_*_SCHEDULE_* settings"
                    ) from None
                _save(app, name, default["kind"], spec, default["enabled"], None, default.get("task", TASK))
                written.append(name)
            elif _offset_changed(spec, stored):
                _save(app, name, stored.kwargs.get("kind", default["kind"]), spec, stored.enabled, stored, stored.task)
                written.append(name)
    return written


def _next_run(entry: RedBeatSchedulerEntry) -> datetime | None:
    # Celery's own reckoning (what beat's is_due uses): the time left after the last run, from now.
    left = entry.schedule.remaining_estimate(entry.last_run_at)
    if left is None:
        return None
    now = datetime.now(timezone.utc)
    return datetime.fromtimestamp(round((now + max(left, now - now)).timestamp()), tz=timezone.utc)


def _view(app: Celery, name: str, entry: RedBeatSchedulerEntry, spec: Spec) -> dict[str, Any]:
    due = _next_run(entry) if entry.enabled else None
    ran = entry.total_run_count > 0  # a stored entry's last_run_at is its creation until it first runs
    return {
        "name": name,
        "task": entry.task,
        "kind": entry.kwargs.get("kind"),
        "cron": spec.cron if spec.interval is None else None,
        "timezone": (spec.timezone or UTC) if spec.interval is None else None,
        "interval": spec.interval,
        "enabled": bool(entry.enabled),
        "lastRunAt": entry.last_run_at if ran else None,
        "runCount": entry.total_run_count,
        "nextRunAt": due.astimezone(timezone.utc) if due is not None else None,
    }


def names(settings: Settings | None = None) -> list[str]:
    """Every schedule entry's name."""
    return [default["name"] for default in entries(settings or get_settings())]


def list_entries(app: Celery) -> list[dict[str, Any]]:
    """Every entry as the API shows it (defaults seeded first where none is stored)."""
    seed(app)
    return [get_entry(app, name) for name in names()]


def get_entry(app: Celery, name: str) -> dict[str, Any]:
    """One entry; UnknownSchedule if no entry has that name."""
    if name not in names():
        raise UnknownSchedule(name)
    entry, spec = _load(app, name), _spec(app, name)
    if entry is None or spec is None:
        seed(app)
        entry, spec = _load(app, name), _spec(app, name)
        assert entry is not None and spec is not None  # seed stores every missing default entry and its spec
    return _view(app, name, entry, spec)


def change(app: Celery, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `changes` (`cron`, `interval`, `timezone`, `enabled`) to entry `name`, validated; the
    running beat follows from its next tick. UnknownSchedule, or ScheduleError naming the field."""
    if name not in names():
        raise UnknownSchedule(name)
    unknown = sorted(set(changes) - {"cron", "interval", "timezone", "enabled"})
    if unknown:
        raise ScheduleError(
            unknown[0], f"Only cron, interval, timezone and enabled can change; not {', '.join(unknown)}"
        )
    if not changes:
        raise ScheduleError(None, "Nothing to change: give cron, interval, timezone or enabled")
    if "cron" in changes and "interval" in changes:
        raise ScheduleError("interval", "Give either 'cron' or 'interval', not both")
    if "enabled" in changes and not isinstance(changes["enabled"], bool):
        raise ScheduleError("enabled", "'enabled' must be true or false")
    seed(app)
    with _lock(app):
        stored, spec = _load(app, name), _spec(app, name)
        assert stored is not None and spec is not None  # seeded just above (entries are never deleted)
        if "interval" in changes:
            spec = Spec(interval=parse_interval(changes["interval"]))
        if "cron" in changes:
            parse_cron(changes["cron"])
            spec = Spec(cron=" ".join(changes["cron"].split()), timezone=spec.timezone or UTC)
        if "timezone" in changes:
            if spec.interval is not None:
                raise ScheduleError(
                    "timezone", f"'timezone' applies to a cron schedule; this entry runs every {spec.interval} seconds"
                )
            spec = Spec(cron=spec.cron, timezone=parse_timezone(changes["timezone"]))
        enabled = changes.get("enabled", stored.enabled)
        _save(app, name, stored.kwargs.get("kind"), spec, enabled, stored, stored.task)
    return get_entry(app, name)


def interval_seconds(settings: Settings, kind: str) -> float | None:
    """The longest gap between two runs of the default entry for job kind `kind`, in seconds; None
    when no enabled entry runs it (a source synced only by hand never goes stale)."""
    for entry in entries(settings):
        if entry["kind"] == kind and entry["enabled"]:
            return _longest_gap(entry["cron"])
    return None


@lru_cache(maxsize=16)
def _longest_gap(expr: str) -> float | None:
    # Walk two years hour by hour from a fixed start (so monthly and leap-day entries are measured
    # too), taking each matching hour's minutes; a cron that never fires in that span has no interval.
    cron = parse_cron(expr)
    minutes = sorted(cron.minute)
    start = hour = datetime(2025, 1, 1, tzinfo=timezone.utc)
    previous, longest = None, 0.0
    while hour < start + timedelta(days=731):
        if (
            hour.hour in cron.hour
            and hour.day in cron.day_of_month
            and hour.month in cron.month_of_year
            and hour.isoweekday() % 7 in cron.day_of_week
        ):
            for minute in minutes:
                at = hour.replace(minute=minute)
                if previous is not None:
                    longest = max(longest, (at - previous).total_seconds())
                previous = at
        hour += timedelta(hours=1)
    return longest or None
