"""syncq's Prometheus metrics: every definition, and the scrape that `GET /metrics` serves.

Counters and histograms are written by whichever process does the work (a Celery worker child,
a gunicorn worker). With `PROMETHEUS_MULTIPROC_DIR` set (before prometheus_client is imported)
each process writes its values to files there (named by process id) and a scrape sums them, so
the API serves what the workers counted. Processes on one host share one directory; processes in
other containers (whose process ids may collide) each write their own directory on a shared
volume, which the API names in `SYNCQ_METRICS_DIRS`. Without it, a scrape shows the serving
process's own values (tests, `flask run`).

What lives elsewhere is read at scrape time by collectors, never kept in a process: queue lengths
from Redis, and source health and last success from the store (given as a function by the API,
since this module sits below the store).
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # prometheus_client writes there from the first sample on
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

log = logging.getLogger(__name__)
HEALTH_STATES = ("ok", "degraded", "failing", "stale", "unknown")

SYNC_DURATION = Histogram(
    "syncq_sync_duration_seconds",
    "Wall time of one sync run, by source",
    ["source"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
SYNC_RUNS = Counter(
    "syncq_sync_runs_total", "Sync runs by source and result (ok, degraded, failed)", ["source", "result"]
)
SYNC_ITEMS = Counter("syncq_sync_items_total", "Items fetched and parsed by successful syncs, by source", ["source"])
SYNC_FAILED_ITEMS = Counter(
    "syncq_sync_failed_items_total", "Items a successful sync could not parse or store, by source", ["source"]
)
TASK_RETRIES = Counter(
    "syncq_task_retries_total", "Celery task retries (the store or a lock was unavailable), by task", ["task"]
)
RATE_LIMIT_WAIT = Histogram(
    "syncq_rate_limit_wait_seconds",
    "Time a call waited for its slot in a shared rate limit",
    ["limiter"],
    buckets=(0, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)


def queue_keys(queue: str) -> list[str]:
    """The Redis lists kombu keeps a queue's messages in: the name itself for priority 0, and
    `name\\x06\\x16N` for the other priority steps (kombu's documented key layout)."""
    return [queue] + [f"{queue}\x06\x16{step}" for step in (3, 6, 9)]


class QueueCollector:
    """`syncq_queue_length{queue}` and `syncq_queue_unacked`, read from Redis at scrape time."""

    def __init__(self, redis_client: Callable[[], Any], queues: Callable[[], Iterable[str]]):
        self.redis_client, self.queues = redis_client, queues

    def collect(self):
        """One gauge sample per queue; nothing (and a log line) when Redis does not answer."""
        length = GaugeMetricFamily("syncq_queue_length", "Messages waiting in a Celery queue", labels=["queue"])
        unacked = GaugeMetricFamily("syncq_queue_unacked", "Messages delivered to a worker and not yet acked")
        try:
            client = self.redis_client()
            for queue in self.queues():
                pipe = client.pipeline(transaction=False)
                for key in queue_keys(queue):
                    pipe.llen(key)
                length.add_metric([queue], sum(pipe.execute()))
            unacked.add_metric([], client.hlen("unacked"))
        except Exception as exc:  # a scrape must answer even when Redis is away
            log.warning("queue lengths unavailable for /metrics: %s", exc)
            return
        yield length
        yield unacked


class SourceCollector:
    """`syncq_source_health{source,health}` (1 for the current state), the last success time and
    the failures in a row of each source, from `read()` (source -> its public health) at scrape time."""

    def __init__(self, read: Callable[[], Mapping[str, Mapping[str, Any]]]):
        self.read = read

    def collect(self):
        """The three gauges; nothing (and a log line) when the store does not answer."""
        try:
            sources = self.read()
        except Exception as exc:
            log.warning("source health unavailable for /metrics: %s", exc)
            return
        health = GaugeMetricFamily(
            "syncq_source_health", "1 for the source's current health, else 0", labels=["source", "health"]
        )
        last = GaugeMetricFamily(
            "syncq_source_last_success_timestamp_seconds",
            "Unix time of the source's last successful sync",
            labels=["source"],
        )
        failures = GaugeMetricFamily("syncq_source_consecutive_failures", "Failed syncs in a row", labels=["source"])
        # The last run as the store keeps it: right however the processes' own counters are deployed.
        duration = GaugeMetricFamily(
            "syncq_source_last_run_duration_seconds", "Wall time of the source's last sync run", labels=["source"]
        )
        items = GaugeMetricFamily(
            "syncq_source_last_run_items",
            "Items the source's last sync run fetched (ok) and could not parse (failed)",
            labels=["source", "outcome"],
        )
        for source, state in sorted(sources.items()):
            for name in HEALTH_STATES:
                health.add_metric([source, name], 1.0 if state.get("health") == name else 0.0)
            success = state.get("lastSuccessAt")
            if success is not None:
                last.add_metric([source], success.timestamp())
            failures.add_metric([source], float(state.get("consecutiveFailures") or 0))
            run = state.get("lastRun") or {}
            if run.get("durationS") is not None:
                duration.add_metric([source], run["durationS"])
            if run.get("ok"):
                items.add_metric([source, "ok"], run.get("items") or 0)
                items.add_metric([source, "failed"], run.get("failedItems") or 0)
        yield from (health, last, failures, duration, items)


class _Own:
    """This process's own metrics (the default registry), for a scrape without a multiprocess dir."""

    def collect(self):
        return REGISTRY.collect()


class _Files:
    """The metrics every process wrote to `dirs`, merged into one family per metric."""

    def __init__(self, dirs: Iterable[str | None]):
        self.dirs = [d for d in dirs if d]

    def collect(self):
        files = sorted(f for d in self.dirs for f in glob.glob(os.path.join(d, "*.db")))
        return MultiProcessCollector.merge(files, accumulate=True)


def scrape(*collectors: Any, other_dirs: Iterable[str] = ()) -> bytes:
    """The text exposition of every metric: the counters and histograms of all processes (those
    writing to this process's multiprocess dir and to `other_dirs`), or of this one alone, then
    what `collectors` read now."""
    registry = CollectorRegistry(auto_describe=False)
    own = os.environ.get(MULTIPROC_ENV)
    registry.register(_Files([own, *other_dirs]) if own or other_dirs else _Own())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
