"""The job catalog: every job kind declared once, with everything about it.

A kind's entry names its task (by dotted name: this module never imports a task module), the
module that defines the task, its queue, its time-limit setting, its default beat entry, its health
source, its one-run-at-a-time guard and what its failure answers over HTTP. Celery's imports and
routes, the default beat entries, the API, the syncs and the CLI all read it; the README's "Adding a
job kind" shows a new kind. Declarations only: every layer may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters import registry
from core.settings import Settings, get_settings
from store.util import iso, utcnow

Params = dict[str, Any]
Answer = tuple[int, Any]

# --- kind names ----------------------------------------------------------------------------
PING = "ping"
CONTESTS_PLATFORM = "contests.platform"
CONTESTS_SYNC_ALL = "contests.sync_all"
STUDENTS_SYNC = "students.sync"
STUDENTS_SYNC_ALL = "students.sync_all"
RAIDA_SYNC = "raida.sync"

# --- tasks that are not job kinds ------------------------------------------------------------
LAUNCH_TASK = "syncq.jobs.launch"  # what beat runs for a kind: enqueue it like the API does
RECORD_TASK = "syncq.jobs.record"  # writes a job's end that MongoDB was down for
WEBHOOKS_DELIVER_TASK = "syncq.webhooks.deliver"
WEBHOOKS_SCAN_TASK = "syncq.webhooks.scan"
PRUNE_TASK = "syncq.maintenance.prune"
REFRESH_SCHEDULES_TASK = "syncq.maintenance.schedules"
NOOP_TASK = "syncq.system.noop"

# --- health sources: a kind's runs are recorded under one source, or each platform's ---------
EACH_PLATFORM = "<platform>"
STUDENTS_SOURCE = "students"
RAIDA_SOURCE = "raida"

# The queue a kind's task goes to: the default one (SYNCQ_QUEUE), or `<SYNCQ_QUEUE>.manual`,
# which workers read first.
DEFAULT_QUEUE, MANUAL_QUEUE = "", "manual"

# The jobs/ modules a worker loads: the lifecycle's signal handlers, and launch and record.
JOB_MODULES = ("jobs.lifecycle", "jobs.launch")


class UnknownKind(KeyError):
    """No job kind has that name."""


@dataclass(frozen=True)
class Schedule:
    """A default beat entry: its name, its cron (UTC) and whether it is on, from the settings."""

    entry: str
    cron: Callable[[Settings], str]
    enabled: Callable[[Settings], bool] = lambda settings: True


@dataclass(frozen=True)
class Limits:
    """A task's time limits: a settings field's seconds (or fixed seconds), and the hard limit's grace."""

    setting: str | int
    grace: int = 30

    def soft(self, settings: Settings) -> int:
        return getattr(settings, self.setting) if isinstance(self.setting, str) else self.setting

    def task_options(self, settings: Settings) -> dict[str, int]:
        """Celery's `soft_time_limit` and `time_limit` for the task."""
        soft = self.soft(settings)
        return {"soft_time_limit": soft, "time_limit": soft + self.grace}


def failed_answer(job: dict[str, Any]) -> Answer:
    """A failed job's answer: 404 for what does not exist, else 500, in the API's error shape."""
    message = job.get("error") or "Job failed"
    if job.get("error_code") == "not_found":
        return 404, {"statusCode": 404, "message": message}
    return 500, {"statusCode": 500, "message": message}


def _student_failed(job: dict[str, Any]) -> Answer:
    status, body = failed_answer(job)
    if status == 500 and not body["message"].startswith("Sync failed"):
        body["message"] = f"Sync failed: {body['message']}"
    return status, body


def _raida_failed(job: dict[str, Any]) -> Answer:
    return 502, {
        "status": "error",
        "users_synced": 0,
        "servers_synced": 0,
        "timestamp": iso(job.get("finished_at") or utcnow()),
        "message": job.get("error") or "Job failed",
        **(job.get("error_details") or {}),
    }


@dataclass(frozen=True)
class Kind:
    """One kind of job.

    `task`: the dotted name of the task that runs it (of each step, for a chained kind), defined in
    `module`. `arguments(params)`: the task's keyword arguments. `guard(params)`: the key of its
    one-run-at-a-time guard, or None. `steps(params)`: the step names of a chained kind, in order
    (each step's task gets `step=<name>` and, by `step_argument`, its own argument).
    `combine(results)`: a chained job's result from its steps' results, in step order.
    `from_call(args, kwargs)`: the params of a run started outside syncq (Flower).
    `failed(job)`: the (status, body) a failed job of this kind answers over HTTP.
    """

    name: str
    task: str
    module: str
    limits: Limits
    queue: str = DEFAULT_QUEUE
    schedule: Schedule | None = None
    health: str | None = None
    failed: Callable[[dict[str, Any]], Answer] = failed_answer
    arguments: Callable[[Params], dict[str, Any]] = lambda params: {}
    guard: Callable[[Params], str | None] = lambda params: None
    steps: Callable[[Params], list[str]] | None = None
    step_argument: str | None = None
    combine: Callable[[dict[str, Any]], Any] | None = None
    from_call: Callable[[tuple, dict[str, Any]], Params] = lambda args, kwargs: {}


@dataclass(frozen=True)
class Periodic:
    """A task beat runs directly, not as a job (no record, no guard)."""

    task: str
    module: str
    schedule: Schedule


def platform_order() -> list[str]:
    """The configured platform order, limited to registered platforms (others appended)."""
    known = registry.names()
    order = [p for p in get_settings().platform_order if p in known]
    return order + [p for p in known if p not in order]


def platform_guard(platform: str) -> str:
    """The guard a run of one platform holds while it syncs, whichever job (or Flower) started it."""
    return f"contests.run.{platform}"


def _sync_all_result(results: dict[str, Any]) -> dict[str, Any]:
    return {"message": "Sync completed for all platforms", "results": results}


def _first(args: tuple, kwargs: dict[str, Any], name: str) -> Params:
    value = args[0] if args else kwargs.get(name)
    return {name: value} if value is not None else {}


def _raida_cron(settings: Settings) -> str:
    minutes = settings.raida_schedule_minutes
    return f"*/{minutes} * * * *" if minutes < 60 else f"0 */{max(1, minutes // 60)} * * *"


_CONTEST_LIMITS = Limits("contest_time_limit")

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            PING,
            "syncq.system.ping",
            "workers.system",
            Limits(60),
            arguments=lambda p: {"echo": p.get("echo"), "delay": p.get("delay", 0)},
        ),
        Kind(
            CONTESTS_PLATFORM,
            "syncq.contests.sync_platform",
            "workers.contests",
            _CONTEST_LIMITS,
            health=EACH_PLATFORM,
            arguments=lambda p: {"platform": p["platform"]},
            guard=lambda p: f"contests.platform.{p['platform']}",
            from_call=lambda a, k: _first(a, k, "platform"),
        ),
        Kind(
            CONTESTS_SYNC_ALL,
            "syncq.contests.sync_platform",
            "workers.contests",
            _CONTEST_LIMITS,
            schedule=Schedule(
                "sync-all-contests",
                cron=lambda s: f"0 */{s.contests_schedule_hours} * * *",
                enabled=lambda s: s.contests_schedule_enabled,
            ),
            health=EACH_PLATFORM,
            guard=lambda p: "contests.sync_all",
            steps=lambda p: platform_order(),
            step_argument="platform",
            combine=_sync_all_result,
        ),
        Kind(
            STUDENTS_SYNC,
            "syncq.students.sync_student",
            "workers.students",
            Limits("student_time_limit"),
            queue=MANUAL_QUEUE,
            failed=_student_failed,
            arguments=lambda p: {"handle": p["handle"], "full": bool(p.get("full"))},
            guard=lambda p: f"students.sync.{p['handle'].lower()}",
            from_call=lambda a, k: _first(a, k, "handle"),
        ),
        Kind(
            STUDENTS_SYNC_ALL,
            "syncq.students.sync_all",
            "workers.students",
            Limits("students_all_time_limit", grace=60),
            schedule=Schedule(
                "sync-all-students",
                cron=lambda s: s.students_schedule_cron,
                enabled=lambda s: s.students_schedule_enabled,
            ),
            health=STUDENTS_SOURCE,
            guard=lambda p: "students.sync_all",
        ),
        Kind(
            RAIDA_SYNC,
            "syncq.raida.sync",
            "workers.raida",
            Limits("raida_time_limit"),
            schedule=Schedule("sync-raida", cron=_raida_cron, enabled=lambda s: s.raida_schedule_enabled),
            health=RAIDA_SOURCE,
            failed=_raida_failed,
            guard=lambda p: "raida.sync",
        ),
    )
}

PERIODIC: tuple[Periodic, ...] = (
    # A light scan each minute: contest.starting_soon, lost webhook deliveries.
    Periodic(WEBHOOKS_SCAN_TASK, "workers.webhooks", Schedule("webhooks-scan", cron=lambda s: "* * * * *")),
    # Once a day, forget history older than SYNCQ_HISTORY_DAYS.
    Periodic(
        PRUNE_TASK,
        "workers.maintenance",
        Schedule("prune-history", cron=lambda s: "17 4 * * *", enabled=lambda s: s.history_days > 0),
    ),
    # Move zoned crons to their zone's new UTC offset (RedBeat stores an rrule with a fixed one).
    Periodic(
        REFRESH_SCHEDULES_TASK, "workers.maintenance", Schedule("refresh-schedules", cron=lambda s: "*/10 * * * *")
    ),
)

# The kind a task records when it runs as a whole job without one (started from Flower).
BY_TASK: dict[str, Kind] = {k.task: k for k in KINDS.values() if k.steps is None}


def get(name: str) -> Kind:
    """The kind called `name`; UnknownKind if none."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None


def task_modules() -> list[str]:
    """Every module that defines a catalog task, in catalog order (Celery's `include`)."""
    modules = [k.module for k in KINDS.values()] + [p.module for p in PERIODIC]
    return list(dict.fromkeys(modules))


def routes(settings: Settings) -> dict[str, dict[str, str]]:
    """Celery's `task_routes`: each task whose kind is not on the default queue."""
    return {k.task: {"queue": f"{settings.queue}.{k.queue}"} for k in KINDS.values() if k.queue != DEFAULT_QUEUE}


def scheduled(settings: Settings) -> list[dict[str, Any]]:
    """The default beat entries: name, job kind (None for a periodic task), task, cron (UTC), on or off."""
    entries = [
        {
            "name": k.schedule.entry,
            "kind": k.name,
            "task": LAUNCH_TASK,
            "enabled": k.schedule.enabled(settings),
            "cron": k.schedule.cron(settings),
        }
        for k in KINDS.values()
        if k.schedule is not None
    ]
    entries += [
        {
            "name": p.schedule.entry,
            "kind": None,
            "task": p.task,
            "enabled": p.schedule.enabled(settings),
            "cron": p.schedule.cron(settings),
        }
        for p in PERIODIC
    ]
    return entries


def health_sources() -> list[str]:
    """The named health sources of the catalog's kinds (each platform is a source too), in order."""
    named = [k.health for k in KINDS.values() if k.health and k.health != EACH_PLATFORM]
    return list(dict.fromkeys(named))
