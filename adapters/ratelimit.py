"""One Codeforces rate limit shared by every worker process, kept in Redis.

Each call reserves a slot (GCRA): slots are `1/rate` apart, and up to `burst` may fall at
once after a quiet spell; nobody polls, so no capacity is lost to wake-up latency. Once its
slot has come and its connection is open, right before the request is written, the call also
claims a place in a log of the calls really sent: at most `rate` in any second (widened by a
margin), so a caller that wakes late for its slot still goes, but never crowds a second the
others already filled. Both scripts run atomically in Redis
on Redis's own clock, so any number of processes share one budget. With Redis down, each
process falls back to a local bucket of the same size (logged), never failing a sync for it.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

from adapters.http import AtSend
from core import metrics
from core.redisconn import UNAVAILABLE, get_redis, script
from core.settings import get_settings

log = logging.getLogger(__name__)

# GCRA with reservations: every call is given a slot on Redis's clock, `1/rate` after the
# previous one (up to `burst` slots may be "now"). Nobody polls, so no capacity is lost to
# wake-up latency. Returns {1, seconds until the slot, the slot's Redis time}; floats as strings.
# A background caller (ARGV[3] = 1) takes only a slot due within ARGV[4] seconds (half a slot) and
# reserves nothing further ahead: otherwise it gets {0, seconds until then} and asks again, so a
# manual call, which reserves ahead, finds at most half a slot held by background callers. (The
# half-slot lead keeps a background sync from losing its wake-up latency on every slot.)
GCRA_RESERVE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local slot = tat - (burst - 1) * interval
if slot < now then slot = now end
if ARGV[3] == '1' and slot > now + tonumber(ARGV[4]) then
  return {0, tostring(slot - now - tonumber(ARGV[4])), '0'}
end
local ttl = math.ceil(tat - now + burst * interval) + 60
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', ttl)
return {1, tostring(slot - now), tostring(slot)}
"""
# Sent calls in the last `window` seconds (a sorted set of Redis times): one more is claimed
# when fewer than `limit` are there; else returns how long until the oldest leaves the window.
CLAIM_SENT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return {1, tostring(now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""
# Calls are spaced this much wider than 1/rate (and the sent-calls window is this much wider
# than a second), so that jitter between us and the service (scheduling on a busy worker, the
# network) never lets more than `rate` calls land within one second there; the margin is the
# smallest that held in docs/benchmarks-notes.md.
JITTER_MARGIN = 1.08


class LocalBucket:
    """The same bucket in one process (used only while Redis is unreachable)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.ts = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def try_take(self) -> float:
        """0 when a token was taken, else seconds to wait."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.ts) * self.rate)
            self.ts = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class RateLimiter:
    """A shared GCRA limit named `key`; `acquire()` blocks until a call may go out."""

    def __init__(
        self, key: str, rate: float, burst: int, client: redis.Redis | None = None, *, background: bool = False
    ):
        self.key, self.rate, self.burst = key, rate, burst
        # A background limiter yields every slot to callers that reserve ahead (manual syncs).
        self.background = background
        # At most `rate` calls (a burst, if larger) really sent within any widened second.
        self.per_window = max(1, int(rate), burst)
        self._sent = 0
        self._client = client
        self._local = LocalBucket(rate, burst)
        self._warned = False

    def reserve(self) -> tuple[float, float | None]:
        """Reserve the next slot: (seconds until it, its Redis time); local fallback without Redis."""
        try:
            client = self._client or get_redis()
            while True:
                granted, wait, slot = self._reserve_once(client)
                if granted:
                    return wait, slot
                # Not reserved: sleep until the slot would be due and ask again (a manual call
                # may take it meanwhile). A short floor keeps many waiters from spinning.
                time.sleep(max(wait, 0.002))
        except UNAVAILABLE:
            if not self._warned:
                log.warning("Redis unreachable: rate limit %s falls back to this process only", self.key)
                self._warned = True
            while (wait := self._local.try_take()) > 0:
                time.sleep(wait)
            return 0.0, None

    def _reserve_once(self, client: redis.Redis) -> tuple[bool, float, float]:
        """One try at a slot: (reserved, seconds until it (or until asking again), its Redis time)."""
        interval = JITTER_MARGIN / self.rate
        args = [interval, self.burst, 1 if self.background else 0, interval / 2]
        granted, wait, slot = script(GCRA_RESERVE)(keys=[self.key], args=args, client=client)
        return int(granted) == 1, float(wait), float(slot)

    def claim(self) -> float:
        """Record a call going out now if the last widened second has room: 0, else seconds to wait."""
        self._sent += 1
        try:
            client = self._client or get_redis()
            member = f"{os.getpid()}:{threading.get_ident()}:{self._sent}:{time.time_ns()}"
            granted, value = script(CLAIM_SENT)(
                keys=[f"{self.key}:sent"], args=[self.per_window, JITTER_MARGIN, member], client=client
            )
        except UNAVAILABLE:
            return 0.0  # the local bucket already spaced this call
        return 0.0 if int(granted) == 1 else max(float(value), 0.001)

    def acquire(self, timeout: float | None = None) -> float | None:
        """Wait for this call's slot, then claim its place among the calls sent; returns the
        slot's Redis time (None on the local fallback)."""
        wait, slot = self.reserve()
        metrics.RATE_LIMIT_WAIT.labels(self.key).observe(wait)
        if timeout is not None and wait > timeout:
            # The slot is reserved either way: skipping it only leaves a gap, never an overrun.
            raise TimeoutError(f"rate limit {self.key}: next slot in {wait:.1f} s")
        if wait > 0:
            time.sleep(wait)
        if slot is None:
            return None
        # Normally free at once; only a caller that woke late for its slot, into a second that
        # the others' calls already filled, waits here for the oldest of them to age out.
        while (delay := self.claim()) > 0:
            time.sleep(delay)
        return slot

    async def before_call(self, _method: str) -> AtSend | None:
        """The adapters' `before_call` hook: wait for a slot without blocking the event loop.

        Returns `claim_sent`, which the adapter runs once the connection is open, right before
        the request is written (None on the local fallback, which already spaced the call)."""
        import asyncio

        slot: float | None
        if self.background:
            # A background caller may ask many times before it is given a slot: it waits on the
            # loop between tries (one short Redis call each), holding no thread while it waits.
            try:
                client = self._client or get_redis()
                while not (attempt := self._reserve_once(client))[0]:
                    await asyncio.sleep(max(attempt[1], 0.002))
                _, wait, slot = attempt
            except UNAVAILABLE:
                wait, slot = await asyncio.to_thread(self.reserve)
        else:
            wait, slot = await asyncio.to_thread(self.reserve)  # the local fallback sleeps: not on the loop
        metrics.RATE_LIMIT_WAIT.labels(self.key).observe(wait)
        if wait > 0:
            await asyncio.sleep(wait)
        return None if slot is None else self.claim_sent

    async def claim_sent(self) -> None:
        """Claim this call's place among the calls sent, on the event loop that then writes it."""
        import asyncio

        # Claimed at the last moment, not before connecting: a worker process that lost its core
        # while a new connection opened would send its call long after claiming it, letting more
        # than `rate` calls reach the service within one second. One short Redis call here,
        # on the loop itself: a claim made in a helper thread waited for the loop to wake first.
        while (delay := self.claim()) > 0:
            await asyncio.sleep(delay)


def codeforces_limiter(background: bool = False) -> RateLimiter:
    """The Codeforces limit from the settings (SYNCQ_CF_RATE_PER_SECOND, SYNCQ_CF_RATE_BURST);
    `background` calls take only slots no manual call has reserved."""
    settings = get_settings()
    return RateLimiter(
        "syncq:ratelimit:codeforces", settings.cf_rate_per_second, settings.cf_rate_burst, background=background
    )


def source_limiter(name: str, rate_per_minute: float) -> RateLimiter:
    """The limit a source declares (`Source.rate_per_minute`), shared by every worker: one call at a time."""
    return RateLimiter(f"syncq:ratelimit:source:{name}", rate_per_minute / 60.0, 1)
