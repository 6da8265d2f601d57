"""A running job's STARTED mark, written once the job has run a moment.

A task that ends a job writes that end to the store anyway; a STARTED write just before it, for a
job that ends within milliseconds, costs a store call that nobody can see (pymongo's write path
was over half of a trivial job's worker CPU, and the store's own work a third of everything a job
cost: docs/benchmarks-notes.md). So the mark waits `DELAY` seconds on a thread of the worker
process; a job that ends sooner records its start time with its end (`started_at`) and goes from
PENDING straight to SUCCESS or FAILURE, as a Celery task without `task_track_started` does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from typing import Callable

log = logging.getLogger(__name__)

# Long enough for a trivial job to end first, short against a poll or a person watching.
DELAY = 0.25
# How often the marking thread looks for marks due: a mark is written DELAY to DELAY + TICK late.
TICK = 0.05


class StartMarks:
    """Writes `write(job_id, started_at)` for each job still running `delay` s after it started."""

    def __init__(self, write: Callable[[str, datetime], None], delay: float = DELAY, tick: float = TICK) -> None:
        self._write = write
        self._delay = delay
        self._tick = tick
        self._due: dict[str, tuple[float, datetime]] = {}  # not yet written: when, and the start
        self._started: dict[str, datetime] = {}  # every job running here, until it ends
        self._lock = threading.Lock()
        self._thread_pid: int | None = None

    def started(self, job_id: str, at: datetime) -> None:
        """The job began running here at `at`: mark it STARTED after the delay unless it ends first."""
        with self._lock:
            self._started[job_id] = at
            self._due[job_id] = (time.monotonic() + self._delay, at)
            if self._thread_pid != os.getpid():  # threads do not survive a prefork child's fork
                self._thread_pid = os.getpid()
                threading.Thread(target=self._run, name="syncq-start-marks", daemon=True).start()

    def ended(self, job_id: str) -> datetime | None:
        """The job stopped running here (ended or will retry): drop its pending mark; its start time."""
        with self._lock:
            self._due.pop(job_id, None)
            return self._started.pop(job_id, None)

    def pending(self) -> set[str]:
        """Jobs whose mark is not written yet."""
        with self._lock:
            return set(self._due)

    def _run(self) -> None:
        # A steady tick, not a wake-up per job: at hundreds of jobs a second, waking this thread
        # for each one cost more than the write it saved.
        while True:
            time.sleep(self._tick)
            with self._lock:
                now = time.monotonic()
                ready = [(job_id, at) for job_id, (due, at) in self._due.items() if due <= now]
                for job_id, _ in ready:
                    del self._due[job_id]
            for job_id, at in ready:
                try:
                    self._write(job_id, at)
                except Exception as exc:  # the job runs on; its end still records its start time
                    log.warning("job %s: could not mark it started: %s", job_id, exc)
