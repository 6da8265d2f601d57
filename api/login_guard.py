"""Login throttling that stops guessing without locking the owner out (OWASP's authentication
guidance): failures are counted, in Redis so every API process shares them, within
`SYNCQ_LOGIN_WINDOW` seconds:

- per (username, address): after `SYNCQ_LOGIN_MAX_ATTEMPTS` that address may not try that
  username again until the window ends (one address guessing one account);
- per address: after `SYNCQ_LOGIN_ADDRESS_MAX_ATTEMPTS` that address may not log in at all
  (one address trying many accounts);
- per username: from its `SYNCQ_LOGIN_MAX_ATTEMPTS`-th failure on (from any addresses) each
  failure sets a delay of `SYNCQ_LOGIN_DELAY_BASE` × 2^(failures − max), capped at
  `SYNCQ_LOGIN_DELAY_MAX`, during which only addresses with no failure in the window may try it
  (many addresses guessing one account are slowed; the owner, from an address that has not
  failed, still logs in).

Refusals carry the seconds to wait (`Retry-After`). With Redis down nothing is limited: scrypt
still makes each guess slow, and a lockout caused by an outage would be worse.
"""

from __future__ import annotations

import hashlib
import logging
import math

from core.redisconn import UNAVAILABLE, get_redis, script
from core.settings import Settings

log = logging.getLogger(__name__)

# Counts each key up, starting its window with the first failure (fixed windows).
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""


def _prefix(settings: Settings) -> str:
    return f"syncq:{settings.queue}:login:"


def _keys(settings: Settings, username: str, address: str) -> tuple[str, str, str, str]:
    # Usernames are hashed: any text a client sends stays out of key names.
    user = hashlib.sha256(username.encode()).hexdigest()[:32]
    prefix = _prefix(settings)
    return (
        f"{prefix}pair:{user}:{address}",
        f"{prefix}addr:{address}",
        f"{prefix}user:{user}",
        f"{prefix}delay:{user}",
    )


def wait_before(settings: Settings, username: str, address: str) -> int | None:
    """Seconds `address` must wait before trying `username` again, or None when it may now."""
    pair, addr, _user, delay = _keys(settings, username, address)
    try:
        pipe = get_redis().pipeline(transaction=False)
        for command, key in (("get", pair), ("ttl", pair), ("get", addr), ("ttl", addr), ("pttl", delay)):
            getattr(pipe, command)(key)
        pair_count, pair_ttl, addr_count, addr_ttl, delay_ms = pipe.execute()
    except UNAVAILABLE as exc:
        log.warning("login throttling skipped, Redis unavailable: %s", exc)
        return None
    if int(pair_count or 0) >= settings.login_max_attempts:
        return max(1, pair_ttl)
    if int(addr_count or 0) >= settings.login_address_max_attempts:
        return max(1, addr_ttl)
    if int(addr_count or 0) > 0 and delay_ms > 0:
        return max(1, math.ceil(delay_ms / 1000))
    return None


def failed(settings: Settings, username: str, address: str) -> None:
    """Count a failed login of `username` from `address` (and slow the username down past its limit)."""
    pair, addr, user, delay = _keys(settings, username, address)
    try:
        _pair, _addr, failures = script(_COUNT)(keys=[pair, addr, user], args=[settings.login_window])
        extra = int(failures) - settings.login_max_attempts
        if extra >= 0:
            seconds = min(settings.login_delay_base * 2**extra, settings.login_delay_max)
            if seconds > 0:
                get_redis().set(delay, 1, px=max(1, int(seconds * 1000)))
    except UNAVAILABLE as exc:
        log.warning("login failure not counted, Redis unavailable: %s", exc)


def succeeded(settings: Settings, username: str, address: str) -> None:
    """The right password from `address`: its own failures on `username` are forgotten (a typo
    made before is no strike against it); the username's delay stays for the others."""
    try:
        get_redis().delete(_keys(settings, username, address)[0])
    except UNAVAILABLE as exc:
        log.warning("login success not recorded, Redis unavailable: %s", exc)


def reset(settings: Settings) -> None:
    """Forget every count (tests)."""
    client = get_redis()
    for key in client.scan_iter(f"{_prefix(settings)}*"):
        client.delete(key)
