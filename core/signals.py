"""In-process signals that let a lower layer report without importing the one that listens.

- `progress`: a sync reports how far it got (`done`, `total`, `current`); the job service
  (jobs.lifecycle) writes it onto the job the current Celery task runs for.
- `event`: something happened that users may want to hear about (`type`, `data`); the event
  log and webhook delivery listen.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

progress = _signals.signal("progress")
event = _signals.signal("event")


def report_progress(done: int, total: int | None, current: str | None = None) -> None:
    """Tell whoever keeps the current job's record how far its work is."""
    progress.send(None, done=done, total=total, current=current)


def emit(type_: str, data: dict) -> None:
    """Announce an event (`contest.created`, `source.health_changed`, `job.failed`, ...)."""
    event.send(None, type=type_, data=data)
