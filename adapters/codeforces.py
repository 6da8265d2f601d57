"""Codeforces: `contest.list` for contests, and the envelope reader every API call shares.

Every Codeforces answer is an envelope `{"status":"OK"|"FAILED","result":..,"comment":..}`,
and a FAILED one may come with HTTP 400 (unknown handle) or 503 (call limit): the body is
read on every status. Codeforces sits behind Cloudflare, which sometimes answers 403 with
an HTML "Just a moment..." challenge page instead: that is transient, retried after a longer
pause (`CHALLENGE_PAUSE`, capped by the backoff maximum), and once the retries are spent it
fails with a message saying so. The student calls (`user.info`, `user.rating`, `user.status`)
live in `adapters.codeforces_users`, on the same envelope reader. Gym contests
(`contest.list?gym=true`) are the opt-in platform `codeforces_gym` (`adapters.codeforces_gym`).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import httpx

from adapters import registry
from adapters.errors import ParseError, PermanentError, TransientError
from adapters.http import call_with_retry, decode_json, send
from adapters.records import Contest, ParseResult, utc_from_epoch
from adapters.source import Source
from core.settings import Settings

NAME = "codeforces"
SERVICE = "codeforces"
SITE = "https://codeforces.com"
# Its documented limit is one call per 2 seconds (kept for the student calls by adapters.ratelimit).
SOURCE = Source(name=NAME, host="codeforces.com", rate_per_minute=30, full_history=True)
PHASES = {
    "BEFORE": "UPCOMING",
    "CODING": "RUNNING",
    "PENDING_SYSTEM_TEST": "FINISHED",
    "SYSTEM_TEST": "FINISHED",
    "FINISHED": "FINISHED",
}
# Epoch seconds of 2100-01-01: a contest starting later is garbage, not a plan.
MAX_EPOCH = 4102444800
CALL_LIMIT = "call limit exceeded"
CALL_LIMIT_PAUSE = 2.0
# A Cloudflare challenge lasts minutes, not seconds: wait this long (at most the backoff cap).
CHALLENGE_PAUSE = 20.0
# Statuses whose bodies are read: 400 and 503 carry FAILED envelopes (unknown handle, call
# limit), 403 may be a Cloudflare challenge page.
READ_STATUSES = (400, 403, 503)
_CHALLENGE_MARKS = (b"just a moment", b"_cf_chl_opt", b"challenge-platform", b"cf-browser-verification")


class ChallengeError(TransientError):
    """Cloudflare answered its "Just a moment..." challenge page instead of the API."""


def is_challenge(response: httpx.Response) -> bool:
    """True for Cloudflare's challenge page (403/503/429 with its markers, or `cf-mitigated`)."""
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if response.status_code not in (403, 429, 503):
        return False
    head = response.content[:8192].lower()
    return any(mark in head for mark in _CHALLENGE_MARKS)


def gave_up(exc: ChallengeError, settings: Settings) -> TransientError:
    """The error a sync reports once every retry met the challenge."""
    return TransientError(
        f'blocked by a Cloudflare challenge (HTTP {exc.status} "Just a moment..." page) '
        f"on all {settings.http_retries + 1} attempts; Codeforces refuses automated calls "
        "from this address for now, try again later",
        service=SERVICE,
        status=exc.status,
    )


def read_envelope(response: httpx.Response) -> Any:
    """The `result` of a Codeforces envelope, or the right error for a FAILED one."""
    status = response.status_code
    if is_challenge(response):
        raise ChallengeError(
            f'Cloudflare challenge page (HTTP {status} "Just a moment...")',
            service=SERVICE,
            status=status,
            retry_after=CHALLENGE_PAUSE,
        )
    try:
        body = decode_json(response, SERVICE)
    except ParseError:
        if status >= 500:  # an overloaded front end's HTML page: may work later
            raise TransientError(f"server error (HTTP {status})", service=SERVICE, status=status) from None
        if status >= 400:
            raise PermanentError(f"request refused (HTTP {status})", service=SERVICE, status=status) from None
        raise
    if not isinstance(body, dict) or body.get("status") not in ("OK", "FAILED"):
        if status >= 500:
            raise TransientError(f"server error (HTTP {status})", service=SERVICE, status=status)
        if status >= 400:
            raise PermanentError(
                f"request refused (HTTP {status}) without a Codeforces envelope", service=SERVICE, status=status
            )
        raise ParseError("answer is not a Codeforces envelope {status, result}", service=SERVICE)
    if body["status"] == "FAILED":
        comment = str(body.get("comment") or "no comment")
        if CALL_LIMIT in comment.lower():
            # Codeforces documents one call per 2 seconds: never come back sooner than that.
            raise TransientError(
                f"Call limit exceeded ({comment})",
                service=SERVICE,
                status=response.status_code,
                retry_after=CALL_LIMIT_PAUSE,
            )
        raise PermanentError(comment, service=SERVICE, status=response.status_code)
    if "result" not in body:
        raise ParseError("OK envelope without a result", service=SERVICE)
    return body["result"]


def api_call(client: httpx.Client, settings: Settings, method: str, params: dict[str, Any]) -> Any:
    """GET `/api/<method>` under the shared retry policy; returns the envelope's result."""
    url = f"{settings.codeforces_url}/api/{method}"

    def once() -> Any:
        return read_envelope(send(client, "GET", url, service=SERVICE, params=params, allow=READ_STATUSES))

    try:
        return call_with_retry(once, settings)
    except ChallengeError as exc:
        raise gave_up(exc, settings) from exc


def fetch(client: httpx.Client, settings: Settings) -> Any:
    """The raw `contest.list?gym=false` result (a list of contest objects)."""
    return api_call(client, settings, "contest.list", {"gym": "false"})


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{field} is not a number: {value!r}")
    return int(value)


def parse_contest(item: Any, platform: str = NAME, section: str = "contest") -> Contest:
    """One Codeforces contest object as a Contest (ValueError when it is malformed); gym
    contests pass `platform="codeforces_gym", section="gym"`."""
    if not isinstance(item, dict):
        raise ValueError("contest is not an object")
    cid = _int(item.get("id"), "id")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("contest has no name")
    raw_phase = item.get("phase")
    if raw_phase not in PHASES:
        raise ValueError(f"unknown phase {raw_phase!r}")
    duration = _int(item.get("durationSeconds"), "durationSeconds")
    if duration < 0 or duration > 366 * 86400:
        raise ValueError(f"absurd duration {duration}")
    start = end = None
    if item.get("startTimeSeconds") is not None:
        start_seconds = _int(item["startTimeSeconds"], "startTimeSeconds")
        if not 0 < start_seconds < MAX_EPOCH:
            raise ValueError(f"absurd start time {start_seconds}")
        start = utc_from_epoch(start_seconds)
        end = utc_from_epoch(start_seconds + duration)
    raw = {k: v for k, v in item.items() if k != "relativeTimeSeconds"}
    return Contest(
        platform=platform,
        platformId=str(cid),
        name=name.strip(),
        type=item.get("type"),
        phase=PHASES[raw_phase],
        rawPhase=raw_phase,
        startTime=start,
        endTime=end,
        durationSeconds=duration,
        url=f"{SITE}/{section}/{cid}",
        raw=raw,
    )


def parse(payload: Any, now: datetime | None = None, *, platform: str = NAME, section: str = "contest") -> ParseResult:
    """Contests from a `contest.list` result; malformed items are counted, not fatal."""
    if not isinstance(payload, list):
        raise ParseError(f"contest.list result is {type(payload).__name__}, not a list", service=SERVICE)
    result = ParseResult()
    for item in payload:
        try:
            result.records.append(parse_contest(item, platform, section))
        except ValueError as exc:
            result.skip(item, str(exc))
    return result


registry.register(sys.modules[__name__])
