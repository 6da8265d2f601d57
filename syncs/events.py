"""The event log's receiver: every event emitted through `core.signals.emit` is kept in the store.

Connected when this module is imported; every process that emits events (the Celery workers, the
API) imports it once (`workers/__init__.py`, `api/events.py`).
"""

from __future__ import annotations

import logging
from typing import Any

import store.events as events_store
from core import signals

log = logging.getLogger(__name__)


def record(_sender: Any, *, type: str, data: dict[str, Any], **_extra: Any) -> None:
    """Keep one emitted event; a store failure is logged, never raised into the code that emitted it."""
    try:
        events_store.record(type, data)
    except Exception:  # the event log must not fail a sync that merely announced something
        log.exception("could not record event %s", type)


signals.event.connect(record)
