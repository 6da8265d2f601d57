"""Settings of the public feeds and of the history kept."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class Feeds(BaseSettings):
    """Feeds and public reads."""

    feed_days: int = Field(
        default=30,
        ge=0,
        description="days back the calendar reaches by default: the contests that ended since then, and every "
        "later one (`?days=`, `?since=` ask for more)",
    )
    read_cache_ttl: int = Field(
        default=3600,
        ge=1,
        description="seconds a built public answer (calendar, CSV, a page of contests) is kept in Redis",
    )
    read_cache_entries: int = Field(
        default=200,
        ge=1,
        description="most built public answers kept in Redis at once (the least recently used go first)",
    )

    feed_refresh_minutes: int = Field(
        default=60,
        ge=1,
        description="how often calendar apps should re-read `/contests.ics` (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`, "
        "`Cache-Control`)",
    )


class History(BaseSettings):
    """History."""

    history_days: int = Field(
        default=90,
        ge=0,
        description="days the job history, the events and the webhook delivery log are kept (pruned daily by "
        "`prune-history`); `0` keeps them for ever",
    )
