"""Settings of the infrastructure: Redis, the broker, MongoDB, the queue, logs and metrics."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode


class Infrastructure(BaseSettings):
    """Infrastructure."""

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="cache, guards, rate limit, job-end notices, beat's schedule; the broker too unless "
        "`SYNCQ_BROKER_URL` is set",
    )
    # RabbitMQ redelivers a dead worker's task at once, where Redis waits out the visibility timeout.
    broker_url: str = Field(
        default="",
        description="the Celery broker (empty: `SYNCQ_REDIS_URL`), e.g. `amqp://user:pass@rabbitmq:5672/syncq` "
        "(what docker compose uses); Redis stays the cache and the guards",
    )
    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27017/syncq",
        description="the store (database from the path, else `syncq`); for a SecantusDB of your own add "
        "`?directConnection=true&retryWrites=false` (what `syncq standalone` uses)",
    )
    queue: str = Field(default="syncq", description="Celery queue name (manual student syncs use `<this>.manual`)")
    visibility_timeout: int = Field(
        default=7200,
        ge=5,
        description="seconds before Redis redelivers an unacknowledged task; longer than the longest task, "
        "or a slow task runs twice",
    )
    job_lock_ttl: int = Field(
        default=1800, ge=10, description="seconds a one-run-at-a-time guard lives if its worker dies"
    )
    store_timeout_ms: int = Field(default=5000, ge=100, description="MongoDB server selection / connect timeout, ms")
    log_level: str = Field(default="INFO", description="log level")
    metrics_dirs: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="other containers' `PROMETHEUS_MULTIPROC_DIR`s (comma-separated, on a shared volume) that "
        "the API's `GET /metrics` sums in besides its own (compose: `/metrics/worker`)",
    )

    @field_validator("log_level", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()
