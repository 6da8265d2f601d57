"""Codeforces gym contests (`contest.list?gym=true`): the opt-in platform `codeforces_gym`.

Registered only when `SYNCQ_CODEFORCES_GYM_ENABLED` is true (see `adapters.registry`): the gym
list is long and most users of syncq want only the rated rounds. Same envelope, retry and
Cloudflare handling as `adapters.codeforces`; contests link to `https://codeforces.com/gym/<id>`.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import httpx

from adapters import codeforces, registry
from adapters.records import ParseResult
from adapters.source import Source
from core.settings import Settings

NAME = "codeforces_gym"
# Listed (and found by the registry) only while SYNCQ_CODEFORCES_GYM_ENABLED is true.
SOURCE = Source(name=NAME, host="codeforces.com", rate_per_minute=30, setting="codeforces_gym_enabled")


def fetch(client: httpx.Client, settings: Settings) -> Any:
    """The raw `contest.list?gym=true` result (a list of contest objects)."""
    return codeforces.api_call(client, settings, "contest.list", {"gym": "true"})


def parse(payload: Any, now: datetime | None = None) -> ParseResult:
    """Gym contests from a `contest.list?gym=true` result; malformed items are counted."""
    return codeforces.parse(payload, now, platform=NAME, section="gym")


registry.register(sys.modules[__name__])
