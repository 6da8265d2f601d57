"""Every job kind as data: the Celery task (or chain of steps) it runs and its guard.

Tasks are named, never imported: the API enqueues by name and never loads a task module.
A chained kind runs one task per step (`steps`), each called with the step's name, and its
result is made from the steps' results (`combine`) once the last one has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters import registry
from core.settings import get_settings

Params = dict[str, Any]


class UnknownKind(KeyError):
    """No job kind has that name."""


@dataclass(frozen=True)
class Kind:
    """One kind of job.

    `task`: the dotted name of the task that runs it (of each step, for a chained kind).
    `arguments(params)`: the task's keyword arguments. `guard(params)`: the key of its
    one-run-at-a-time guard, or None. `steps(params)`: the step names of a chained kind, in
    order (each step's task gets `step=<name>` and, by `step_argument`, its own argument).
    `combine(results)`: a chained job's result from its steps' results, in step order.
    `from_call(args, kwargs)`: the params of a run started outside syncq (Flower).
    """

    name: str
    task: str
    arguments: Callable[[Params], dict[str, Any]] = lambda params: {}
    guard: Callable[[Params], str | None] = lambda params: None
    steps: Callable[[Params], list[str]] | None = None
    step_argument: str | None = None
    combine: Callable[[dict[str, Any]], Any] | None = None
    from_call: Callable[[tuple, dict[str, Any]], Params] = lambda args, kwargs: {}


def platform_order() -> list[str]:
    """The configured platform order, limited to registered platforms (others appended)."""
    known = registry.names()
    order = [p for p in get_settings().platform_order if p in known]
    return order + [p for p in known if p not in order]


def _sync_all_result(results: dict[str, Any]) -> dict[str, Any]:
    return {"message": "Sync completed for all platforms", "results": results}


def _first(args: tuple, kwargs: dict[str, Any], name: str) -> Params:
    value = args[0] if args else kwargs.get(name)
    return {name: value} if value is not None else {}


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("ping", "syncq.system.ping", arguments=lambda p: {"echo": p.get("echo"), "delay": p.get("delay", 0)}),
        Kind(
            "contests.platform",
            "syncq.contests.sync_platform",
            arguments=lambda p: {"platform": p["platform"]},
            guard=lambda p: f"contests.platform.{p['platform']}",
            from_call=lambda a, k: _first(a, k, "platform"),
        ),
        Kind(
            "contests.sync_all",
            "syncq.contests.sync_platform",
            guard=lambda p: "contests.sync_all",
            steps=lambda p: platform_order(),
            step_argument="platform",
            combine=_sync_all_result,
        ),
        Kind(
            "students.sync",
            "syncq.students.sync_student",
            arguments=lambda p: {"handle": p["handle"], "full": bool(p.get("full"))},
            guard=lambda p: f"students.sync.{p['handle'].lower()}",
            from_call=lambda a, k: _first(a, k, "handle"),
        ),
        Kind("students.sync_all", "syncq.students.sync_all", guard=lambda p: "students.sync_all"),
        Kind("raida.sync", "syncq.raida.sync", guard=lambda p: "raida.sync"),
    )
}

# The kind a task records when it runs as a whole job without one (started from Flower).
BY_TASK: dict[str, Kind] = {k.task: k for k in KINDS.values() if k.steps is None}


def get(name: str) -> Kind:
    """The kind called `name`; UnknownKind if none."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None
