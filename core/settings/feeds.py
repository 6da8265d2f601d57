"""Settings of the public feeds and of the history kept."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class Feeds(BaseSettings):
    """Feeds."""

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
