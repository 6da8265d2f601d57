"""Source health: is each source (a platform, `students`, `raida`) syncing, and does it look right?

Every sync run ends with one `record_run(...)`. A source's health is
- `ok`: its last sync succeeded and looked right;
- `degraded`: its last sync succeeded but looks wrong: the items fell by more than half against
  the last good sync, no upcoming contests where the last good sync had some, or more than 5% of
  the items failed to parse or store (a degraded sync is not a "good" one: the source stays
  degraded until a sync looks right against the last one that did). Only like is compared with
  like: where a sync fetches less on purpose (a paging adapter stops at the contests already
  stored), it reports the `comparable` part of its items, the part every sync fetches whole;
- `failing`: 3 or more failed syncs in a row (one or two failures leave the health as it was);
- `stale`: no sync succeeded for twice its schedule's interval (checked on every run of any
  source and whenever health is read, so a source whose syncs stopped altogether turns stale too);
- `unknown`: it never succeeded and is neither failing nor stale yet.
Every change of health is announced as a `source.health_changed` event with its reason and time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import store.health as health_store
from adapters import registry
from core import metrics, signals
from jobs import kinds
from store.util import iso, utcnow

log = logging.getLogger(__name__)

OK, DEGRADED, FAILING, STALE, UNKNOWN = "ok", "degraded", "failing", "stale", "unknown"
FAILING_AFTER = 3  # failed syncs in a row
DROP_BELOW = 0.5  # of the last good sync's items
FAILED_ABOVE = 0.05  # of the items a sync saw
STALE_AFTER_INTERVALS = 2
EVENT = "source.health_changed"
STUDENTS, RAIDA = kinds.STUDENTS_SOURCE, kinds.RAIDA_SOURCE
_SAVE_ATTEMPTS = 5


def schedule_interval(kind: str) -> float | None:
    """Seconds between the scheduled runs of job kind `kind` (None: not scheduled)."""
    import schedules
    from core.settings import get_settings

    return schedules.interval_seconds(get_settings(), kind)


def assess(
    last_good: dict[str, Any] | None, items: int, failed_items: int, upcoming: int | None, comparable: int | None = None
) -> list[str]:
    """Why a successful sync looks wrong against the last good one (empty: it looks right).

    `comparable`: the part of `items` every sync fetches whole (None: all of them); it is what
    is compared with the last good sync's."""
    reasons = []
    seen = items + failed_items
    if seen and failed_items / seen > FAILED_ABOVE:
        reasons.append(f"{failed_items} of {seen} items ({failed_items / seen:.0%}) failed to parse or store")
    if last_good:
        count = items if comparable is None else comparable
        if "comparable" in last_good:
            before = last_good["comparable"] or 0
        else:
            # Kept before syncs reported a comparable part, it has only its items: the measure for
            # a source that reports none, no measure for one that does (they may hold what a first
            # sync paged).
            before = (last_good.get("items") or 0) if comparable is None else 0
        what = "items" if comparable is None else "items every sync fetches"
        if before and count < before * DROP_BELOW:
            reasons.append(
                f"{what} fell from {before} to {count} (more than half) since the last good sync "
                f"at {iso(last_good['at'])}"
            )
        if upcoming == 0 and (last_good.get("upcoming") or 0) > 0:
            reasons.append(f"no upcoming contests, where the last good sync had {last_good['upcoming']}")
    return reasons


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def _stale_reason(state: dict[str, Any], now: datetime) -> str | None:
    """Why the source is stale at `now`, or None when it is not."""
    interval = state.get("intervalS")
    if not interval:
        return None
    since = state.get("lastSuccessAt")
    anchor = since or state.get("firstRunAt")
    if anchor is None or now - anchor <= timedelta(seconds=interval * STALE_AFTER_INTERVALS):
        return None
    what = f"since {iso(since)}" if since else f"since the first attempt at {iso(anchor)}"
    return (
        f"no successful sync {what}: more than twice the schedule's interval "
        f"({_span(interval)}, stale after {_span(interval * STALE_AFTER_INTERVALS)})"
    )


def _after_run(state: dict[str, Any] | None, run: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The source's next state after `run` (pure)."""
    old = state or {}
    new: dict[str, Any] = {
        k: old.get(k)
        for k in ("health", "reason", "since", "lastSuccessAt", "lastGood", "firstRunAt", "consecutiveFailures")
    }
    new["health"] = new["health"] or UNKNOWN
    new["firstRunAt"] = new["firstRunAt"] or now
    new.update(lastRunAt=now, lastRun=run, intervalS=run["intervalS"])
    if run["ok"]:
        reasons = assess(old.get("lastGood"), run["items"], run["failedItems"], run["upcoming"], run["comparable"])
        new.update(
            consecutiveFailures=0,
            lastSuccessAt=now,
            lastError=None,
            health=DEGRADED if reasons else OK,
            reason="; ".join(reasons) or None,
        )
        if not reasons:
            new["lastGood"] = {
                "at": now,
                "items": run["items"],
                "upcoming": run["upcoming"],
                "comparable": run["items"] if run["comparable"] is None else run["comparable"],
            }
    else:
        failures = (old.get("consecutiveFailures") or 0) + 1
        new.update(consecutiveFailures=failures, lastError=run["error"])
        if failures >= FAILING_AFTER:
            new.update(health=FAILING, reason=f"{failures} failed syncs in a row; last error: {run['error']}")
    if new["health"] not in (FAILING, STALE) and (stale := _stale_reason(new, now)):
        new.update(health=STALE, reason=stale)
    return new


def _announce(source: str, old: str, new: dict[str, Any], now: datetime) -> None:
    signals.emit(EVENT, {"source": source, "old": old, "new": new["health"], "reason": new.get("reason"), "at": now})


def record_run(
    source: str,
    *,
    ok: bool,
    items: int = 0,
    failed_items: int = 0,
    upcoming: int | None = None,
    error: str | None = None,
    interval_s: float | None = None,
    duration_s: float | None = None,
    comparable: int | None = None,
) -> dict[str, Any]:
    """Record one sync run of `source` and update its health; returns the public health.

    `items`: what a successful sync fetched and parsed; `failed_items`: what it could not parse or
    store; `upcoming`: upcoming contests in the list (None where that means nothing); `error`: why
    a failed sync failed; `interval_s`: the schedule's interval (None: not scheduled, never stale);
    `comparable`: the part of `items` every sync fetches whole, where a sync fetches less on
    purpose once it has the rest (None: all of `items`).
    """
    now = utcnow()
    run = {
        "source": source,
        "at": now,
        "ok": ok,
        "items": items,
        "failedItems": failed_items,
        "comparable": comparable,
        "upcoming": upcoming,
        "error": error,
        "intervalS": interval_s,
        "durationS": duration_s,
    }
    changed_from = None
    for _ in range(_SAVE_ATTEMPTS):
        state = health_store.get(source)
        new = _after_run(state, run, now)
        old_health = (state or {}).get("health") or UNKNOWN
        if new["health"] != old_health:
            new["since"] = now
        if health_store.save(source, new, state["rev"] if state else None):
            changed_from = old_health if new["health"] != old_health else None
            break
    else:  # five writers in a row beat us to it: theirs stands, this run is still kept below
        log.warning("health of %s changed under five attempts to record a run", source)
        new = health_store.get(source) or {}
    run["health"] = new.get("health")
    health_store.add_run(run)
    if changed_from is not None:
        _announce(source, changed_from, new, now)
    metrics.SYNC_RUNS.labels(
        source, "failed" if not ok else "degraded" if new.get("health") == DEGRADED else "ok"
    ).inc()
    if ok:
        metrics.SYNC_ITEMS.labels(source).inc(items)
        metrics.SYNC_FAILED_ITEMS.labels(source).inc(failed_items)
    if duration_s is not None:
        metrics.SYNC_DURATION.labels(source).observe(duration_s)
    sweep(now, skip=source)
    return public(source, new)


def sweep(now: datetime | None = None, skip: str | None = None) -> dict[str, dict[str, Any]]:
    """Every recorded source's health at `now`, turning (and announcing) those gone stale."""
    now = now or utcnow()
    states = {}
    for state in health_store.all_states():
        source = state["_id"]
        if source != skip and state.get("health") not in (FAILING, STALE) and (reason := _stale_reason(state, now)):
            fields = {"health": STALE, "reason": reason, "since": now}
            if health_store.save(source, fields, state["rev"]):
                _announce(source, state.get("health") or UNKNOWN, fields, now)
                state = {**state, **fields}
            else:  # changed meanwhile (a run just ended): read what it is now
                state = health_store.get(source) or state
        states[source] = state
    return states


def expected_sources() -> list[str]:
    """Every source syncq syncs: the registered platforms, then the job catalog's other sources."""
    return [*registry.names(), *kinds.health_sources()]


def public(source: str, state: dict[str, Any] | None) -> dict[str, Any]:
    """A source's health as the API shows it."""
    state = state or {}
    return {
        "source": source,
        "health": state.get("health") or UNKNOWN,
        "reason": state.get("reason") if state else "never synced",
        "since": state.get("since"),
        "lastRunAt": state.get("lastRunAt"),
        "lastSuccessAt": state.get("lastSuccessAt"),
        "consecutiveFailures": state.get("consecutiveFailures") or 0,
        "lastError": state.get("lastError"),
        "lastRun": {k: (state.get("lastRun") or {}).get(k) for k in ("ok", "items", "failedItems", "durationS")}
        if state.get("lastRun")
        else None,
    }


def all_sources(now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """The public health of every expected source and every other recorded one, stale ones turned."""
    states = sweep(now)
    names = expected_sources() + sorted(set(states) - set(expected_sources()))
    return {name: public(name, states.get(name)) for name in names}


def current(source: str, now: datetime | None = None) -> dict[str, Any]:
    """One source's public health (stale turned at read time)."""
    return all_sources(now).get(source) or public(source, None)
