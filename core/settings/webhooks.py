"""Settings of the webhooks."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class Webhooks(BaseSettings):
    """Webhooks."""

    webhook_allow_private: bool = Field(
        default=False,
        description="also deliver webhooks to private, loopback, link-local and other non-global addresses",
    )
    webhook_timeout: float = Field(default=10.0, gt=0, description="seconds for one delivery attempt")
    webhook_backoff_base: float = Field(
        default=5.0, ge=0, description="seconds between attempts: base × 2^(attempt−1), capped by the next"
    )
    webhook_backoff_max: float = Field(
        default=3600.0, ge=0, description="the cap of that backoff (keep it below `SYNCQ_VISIBILITY_TIMEOUT`)"
    )
    webhook_retry_window: float = Field(
        default=86400.0, ge=0, description="seconds a message is retried before it is given up"
    )
    webhook_disable_after: float = Field(
        default=86400.0, ge=0, description="seconds an endpoint may fail with no success before it is disabled"
    )
