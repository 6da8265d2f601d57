"""The simulator's run-time controls: latency, faults, RAIDA outages and the request log."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from syncq.simulator.codeforces_rounds import Rounds

SERVICES = ("codeforces", "leetcode", "codechef", "atcoder", "kenkoooo", "raida", "clist", "judgeville")
MODES = ("timeout", "500", "429", "html", "truncated", "wrong_shape", "empty", "absurd", "call_limit", "down")


@dataclass
class Fault:
    """A failure mode for a service (or one RAIDA): for the next `times` requests, or always."""

    mode: str
    times: int | None = None
    retry_after: int = 1
    status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "times": self.times, "retry_after": self.retry_after, "status": self.status}


class SimState:
    """Thread-safe controls shared by the request handlers and the admin routes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Back to healthy: no latency, no faults, an empty log, no extra data."""
        with getattr(self, "lock", threading.Lock()):
            self.latency_ms: dict[str, float] = {}
            self.faults: dict[str, Fault] = {}
            self.log: list[dict[str, Any]] = []
            self.extra_submissions: dict[str, int] = {}
            self.contest_edits: dict[str, dict[str, Any]] = {}
            self.cf_calls_per_second: float | None = None
            self.leetcode_all_contests_gone = False  # allContests answers a GraphQL error (400)
            self.barrier: threading.Barrier | None = None
            self._cf_recent: list[float] = []
            self.cf_rounds = Rounds()  # Codeforces activity between syncs (syncq.simulator.codeforces_rounds)

    @staticmethod
    def key(service: str, index: int | None = None) -> str:
        return f"{service}{index}" if service == "raida" and index is not None else service

    def set_latency(self, service: str, ms: float, index: int | None = None) -> None:
        with self.lock:
            self.latency_ms[self.key(service, index)] = float(ms)

    def set_fault(
        self,
        service: str,
        mode: str | None,
        *,
        times: int | None = None,
        index: int | None = None,
        retry_after: int = 1,
        status: int | None = None,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; modes: {', '.join(MODES)}")
        with self.lock:
            if mode is None:
                self.faults.pop(self.key(service, index), None)
            else:
                self.faults[self.key(service, index)] = Fault(mode, times, retry_after, status)

    def take_fault(self, service: str, index: int | None = None) -> Fault | None:
        """The fault that applies to this request (a RAIDA's own before the network-wide one)."""
        with self.lock:
            for key in ([self.key(service, index)] if index is not None else []) + [service]:
                fault = self.faults.get(key)
                if fault is None:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        del self.faults[key]
                return fault
        return None

    def hold_until(self, parties: int | None, timeout: float = 30.0) -> None:
        """Hold each request until `parties` are inside at once (None: no hold); proves a
        client's fan-out by a condition instead of a timing. A broken barrier answers 504."""
        with self.lock:
            self.barrier = threading.Barrier(parties, timeout=timeout) if parties else None

    def delay(self, service: str, index: int | None = None) -> bool:
        """Wait at the barrier, then sleep the configured latency; False if the barrier broke."""
        barrier = self.barrier
        if barrier is not None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return False
        ms = self.latency_for(service, index)
        if ms > 0:
            self.stopping.wait(ms / 1000.0)
        return True

    def latency_for(self, service: str, index: int | None = None) -> float:
        """The configured latency of a request, milliseconds (a RAIDA's own before the network's)."""
        with self.lock:
            return self.latency_ms.get(self.key(service, index), self.latency_ms.get(service, 0.0))

    def hang(self, seconds: float = 60.0) -> None:
        """Hold a request past any client timeout (until shutdown)."""
        self.stopping.wait(seconds)

    def cf_over_limit(self) -> bool:
        """True when this Codeforces call exceeds the optional calls-per-second limit."""
        with self.lock:
            if not self.cf_calls_per_second:
                return False
            now = time.monotonic()
            self._cf_recent = [t for t in self._cf_recent if now - t < 1.0]
            if len(self._cf_recent) >= self.cf_calls_per_second:
                return True
            self._cf_recent.append(now)
            return False

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "latency_ms": dict(self.latency_ms),
                "faults": {k: f.as_dict() for k, f in self.faults.items()},
                "extra_submissions": dict(self.extra_submissions),
                "cf_calls_per_second": self.cf_calls_per_second,
            }
