"""All of syncq's configuration, read from the environment in this one place.

`Settings` is a pydantic-settings model: each field is the variable `SYNCQ_<FIELD>` (see the
README's configuration table), typed and range-checked; `get_settings()` reads it once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_JWT_SECRET_BYTES = 32
_URLS = (
    "codeforces_url",
    "leetcode_url",
    "codechef_url",
    "atcoder_url",
    "kenkoooo_url",
    "raida_url_template",
    "api_url",
    "public_url",
    "flower_url",
)


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


class Settings(BaseSettings):
    """syncq's settings: every `SYNCQ_*` variable (and Flower's basic auth), typed and checked."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCQ_", env_ignore_empty=True, frozen=True, extra="ignore", populate_by_name=True
    )

    # --- infrastructure -------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The Celery broker; empty = the Redis above. RabbitMQ (amqp://) redelivers a dead worker's
    # task at once, where Redis waits out the visibility timeout. Redis stays the cache and locks.
    broker_url: str = ""
    mongodb_uri: str = "mongodb://127.0.0.1:27017/syncq"
    queue: str = "syncq"
    # Seconds before the Redis broker hands an unacknowledged task to another worker;
    # must exceed the longest task, or a slow task runs twice.
    visibility_timeout: int = Field(7200, ge=5)
    # Seconds each task kind may run (soft limit: the task stops and reports; hard: +30 s, killed).
    contest_time_limit: int = Field(600, ge=5)
    student_time_limit: int = Field(300, ge=5)
    students_all_time_limit: int = Field(6600, ge=5)
    raida_time_limit: int = Field(300, ge=5)
    # Seconds a "one run at a time" guard lives if nobody releases it (worker died).
    job_lock_ttl: int = Field(1800, ge=10)
    store_timeout_ms: int = Field(5000, ge=100)
    log_level: str = "INFO"

    # --- API ---------------------------------------------------------------------------
    # gunicorn (syncq/gunicorn_conf.py): address, processes, threads a process.
    api_bind: str = "0.0.0.0:8000"
    api_workers: int = Field(2, ge=1)
    api_threads: int = Field(16, ge=1)
    jwt_secret: str = ""
    jwt_expires: int = Field(3600, ge=60)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    login_max_attempts: int = Field(5, ge=1)
    login_window: int = Field(300, ge=1)
    # Seconds a trigger sent with no preference waits for its job before answering 202.
    sync_wait: float = Field(60.0, ge=0, le=600)
    # Origins (comma-separated) whose browser pages may call the API; none unless listed.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()

    # --- HTTP policy shared by every adapter ---------------------------------------------
    http_timeout: float = Field(20.0, ge=0.1)
    http_connect_timeout: float = Field(5.0, ge=0.1)
    http_retries: int = Field(3, ge=0)
    http_backoff_base: float = Field(0.5, ge=0.0)
    http_backoff_max: float = Field(30.0, ge=0.0)

    # --- contests ------------------------------------------------------------------------
    codeforces_url: str = "https://codeforces.com"
    leetcode_url: str = "https://leetcode.com"
    codechef_url: str = "https://www.codechef.com"
    atcoder_url: str = "https://atcoder.jp"
    kenkoooo_url: str = Field(
        "https://kenkoooo.com", validation_alias=AliasChoices("kenkoooo_url", "SYNCQ_KENKOOO_URL")
    )
    platform_order: Annotated[tuple[str, ...], NoDecode] = ("codeforces", "leetcode", "codechef", "atcoder")
    contests_schedule_enabled: bool = True
    contests_schedule_hours: int = Field(6, ge=1)

    # --- students ------------------------------------------------------------------------
    cf_rate_per_second: float = Field(0.5, ge=0.001)
    cf_rate_burst: int = Field(3, ge=1)
    cache_info_ttl: int = Field(6 * 3600, ge=1)
    cache_contest_ttl: int = Field(6 * 3600, ge=1)
    cache_submissions_ttl: int = Field(2 * 3600, ge=1)
    students_schedule_enabled: bool = True
    students_schedule_cron: str = "0 3 * * *"

    # --- RAIDA ---------------------------------------------------------------------------
    raida_url_template: str = "https://raida{i}.cloudcoin.global"
    raida_count: int = Field(25, ge=1)
    raida_quorum: int = Field(13, ge=1)
    raida_directory_index: int = Field(11, ge=0)
    raida_timeout: float = Field(2.0, ge=0.05)
    raida_schedule_enabled: bool = True
    raida_schedule_minutes: int = Field(60, ge=1)

    # --- real formats (issue 16) -------------------------------------------------------------
    codeforces_gym_enabled: bool = False  # opt-in platform `codeforces_gym` (contest.list?gym=true)
    codechef_max_past_pages: int = Field(10, ge=0)  # pages of 20 older past contests a sync may read
    leetcode_max_past_pages: int = Field(10, ge=0)  # pastContests pages the fallback may read
    raida_echo: Literal["binary", "http"] = "binary"  # the network's UDP/TCP echo, or the legacy JSON one

    # --- hostile sources -----------------------------------------------------------------------
    http_total_timeout: float = Field(60.0, gt=0)  # seconds one call may take in all (httpx's are per read)
    http_max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024)  # an answer's limit, after decompression
    # `service=bytes` pairs overriding it, e.g. `codeforces=67108864,raida=1048576`.
    http_max_body_bytes_per_service: Annotated[tuple[tuple[str, int], ...], NoDecode] = ()

    # --- metrics -------------------------------------------------------------------------------
    # Other processes' PROMETHEUS_MULTIPROC_DIRs that `GET /metrics` sums in besides its own.
    metrics_dirs: Annotated[tuple[str, ...], NoDecode] = ()

    # --- students at scale ---------------------------------------------------------------------
    cf_batch_handles: int = Field(300, ge=1)  # most handles in one background `user.info` call
    cf_batch_url_bytes: int = Field(8192, ge=256)  # longest `user.info` URL a background batch may make
    cf_background_concurrency: int = Field(8, ge=1)  # background calls in flight (the limit still paces them)
    cf_rating_wait_days: int = Field(3, ge=0)  # days a finished contest without rating changes is asked again

    # --- feeds, webhooks and reminders ---------------------------------------------------------
    feed_refresh_minutes: int = Field(60, ge=1)  # how often calendar apps should poll /contests.ics
    webhook_allow_private: bool = False  # deliver to private, loopback and link-local addresses too
    webhook_timeout: float = Field(10.0, gt=0)  # seconds for one delivery attempt
    # Exponential backoff between attempts: base * 2^(attempt-1), capped (below the visibility timeout).
    webhook_backoff_base: float = Field(5.0, ge=0)
    webhook_backoff_max: float = Field(3600.0, ge=0)
    webhook_retry_window: float = Field(86400.0, ge=0)  # seconds a message is retried before it is given up
    webhook_disable_after: float = Field(86400.0, ge=0)  # seconds an endpoint may fail before it is disabled
    # Days the job history, the events and the webhook delivery log are kept (0: for ever).
    history_days: int = Field(90, ge=0)
    inactive_days: int = Field(7, ge=1)  # days without an OK submission before a student is reminded
    smtp_url: str = ""  # smtp://user:pass@host:587?starttls=true (smtps:// for TLS); empty: no emails
    smtp_from: str = "syncq <syncq@localhost>"
    public_url: str = "http://127.0.0.1:8000"  # where people open syncq; reminder emails link to it
    flower_url: str = ""  # Flower's address as operators' browsers reach it; the web UI links jobs there

    # --- CLI client (`syncq sync ...`, `syncq jobs ...`) ---------------------------------
    api_url: str = "http://127.0.0.1:8000"
    api_token: str = Field("", validation_alias=AliasChoices("api_token", "SYNCQ_TOKEN"))

    # --- Flower --------------------------------------------------------------------------
    flower_user: str = Field("", validation_alias=AliasChoices("flower_user", "FLOWER_USER"))
    flower_password: str = Field("", validation_alias=AliasChoices("flower_password", "FLOWER_PASSWORD"))

    # --- public reads at scale (versions, built answers, limits) --------------------------------
    public_rate_limit: str = Field(
        "",
        description="Requests each client (by address) may make to the public routes (contests, calendar, "
        "platforms), a limit string such as `120/minute`; empty for no limit. Over it: 429 with Retry-After.",
    )
    read_cache_ttl: int = Field(
        3600, ge=1, description="Seconds a built public answer (calendar, CSV, a page of contests) is kept in Redis."
    )
    read_cache_entries: int = Field(
        200, ge=1, description="Most built public answers kept in Redis at once (the least recently used go first)."
    )
    feed_days: int = Field(
        30, ge=0, description="Days back the calendar reaches by default: contests that ended since then and later."
    )

    @field_validator("platform_order", "cors_origins", "metrics_dirs", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("raida_echo", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("http_max_body_bytes_per_service", mode="before")
    @classmethod
    def _sizes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        pairs = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            key, sep, size = part.partition("=")
            if not sep or not key.strip() or not size.strip().isdigit() or int(size) < 1024:
                raise ValueError(f"must be service=bytes pairs (at least 1024 bytes each), got {part!r}")
            pairs.append((key.strip().lower(), int(size)))
        return tuple(pairs)

    @field_validator(*_URLS, mode="after")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("log_level", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from the process environment; ConfigError names a bad variable."""
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests, the standalone launcher)."""
        return self.model_copy(update=changes)

    def require_jwt_secret(self) -> str:
        """The JWT secret, or a ConfigError saying why the API cannot start without it."""
        secret = self.jwt_secret
        if not secret:
            raise ConfigError(
                "SYNCQ_JWT_SECRET is not set: the API signs and checks admin tokens with it. "
                "Set it to a random string of at least 32 bytes, e.g. "
                "`export SYNCQ_JWT_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')`"
            )
        if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ConfigError(
                f"SYNCQ_JWT_SECRET is {len(secret.encode())} bytes; it must be at least "
                f"{MIN_JWT_SECRET_BYTES} bytes so HS256 tokens cannot be brute-forced"
            )
        return secret


def _explain(exc: ValidationError) -> str:
    """Each bad value named by its environment variable."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = field if field.isupper() else f"SYNCQ_{field.upper()}"
        parts.append(f"{variable}: {error['msg']}, got {error.get('input')!r}")
    return "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings.from_env()


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again (tests, launcher)."""
    get_settings.cache_clear()
    return get_settings()
