"""`own_sleeps`: the test's own `time.sleep` calls, recorded and skipped."""

from __future__ import annotations

import threading
import time

import pytest


@pytest.fixture()
def own_sleeps(monkeypatch) -> list[float]:
    """Records and skips `time.sleep` calls made by the test's own thread.

    `time.sleep` is one attribute of one module, so patching it reaches every thread; the
    session's worker and simulator threads keep sleeping for real, and their naps stay out
    of the list the test asserts on.
    """
    real_sleep, me, naps = time.sleep, threading.get_ident(), []

    def sleep(seconds: float) -> None:
        if threading.get_ident() == me:
            naps.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return naps
