"""All of syncq's configuration, read from the environment in this one place.

`Settings` is a pydantic-settings model: each field is the variable `SYNCQ_<FIELD>`, typed and
range-checked, grouped by concern under `# --- <group> ---` headers; its `description` is the
README's text for it (the table is generated: `python -m core.settings_doc`). `get_settings()`
reads it once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
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
    "clist_url",
)


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


class Settings(BaseSettings):
    """syncq's settings: every `SYNCQ_*` variable (and Flower's basic auth), typed and checked."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCQ_", env_ignore_empty=True, frozen=True, extra="ignore", populate_by_name=True
    )

    # --- infrastructure ----------------------------------------------------------------------
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

    # --- API -----------------------------------------------------------------------------------
    api_bind: str = Field(default="0.0.0.0:8000", description="gunicorn's address (`syncq/gunicorn_conf.py`)")
    api_workers: int = Field(default=2, ge=1, description="gunicorn processes")
    api_threads: int = Field(default=16, ge=1, description="threads of each gunicorn process")
    jwt_secret: str = Field(
        default="", description="HS256 secret, at least 32 bytes; required: the API refuses to start without it"
    )
    jwt_expires: int = Field(
        default=3600, ge=60, le=86400, description="access token lifetime, seconds (at most a day)"
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="larger request bodies get 413")
    login_max_attempts: int = Field(
        default=5,
        ge=1,
        description="failed logins of one username from one address within the window before that address "
        "gets 429 for it; as many failures of a username from any addresses start its growing delay "
        "(counted in Redis)",
    )
    login_window: int = Field(default=300, ge=1, description="the window of `SYNCQ_LOGIN_MAX_ATTEMPTS`, seconds")
    login_address_max_attempts: int = Field(
        20,
        ge=1,
        description="failed logins from one address (any usernames) within `SYNCQ_LOGIN_WINDOW` before that "
        "address gets 429",
    )
    login_delay_base: float = Field(
        1.0,
        ge=0,
        description="once a username has `SYNCQ_LOGIN_MAX_ATTEMPTS` failures within the window (from any "
        "addresses), each further failure makes addresses that have failed wait base × 2^(extra failures) "
        "seconds before trying it again (429 with `Retry-After`); an address with no failures is never made to wait",
    )
    login_delay_max: float = Field(60.0, ge=0, description="the cap of that per-username delay, seconds")
    trusted_proxies: int = Field(
        0,
        ge=0,
        le=10,
        description="how many reverse proxies in front of the API append to `X-Forwarded-For` (and set "
        "`X-Forwarded-Proto`/`-Host`); 0 trusts no header. Login limits and logs then see the client's "
        "address. Set it only when every request comes through that many proxies: otherwise clients choose "
        "their own address",
    )
    sync_wait: float = Field(
        default=60.0,
        ge=0,
        le=600,
        description="seconds a trigger sent with no preference waits for its job before answering 202",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated origins whose browser pages may call the API (none unless listed)"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people open syncq; reminder emails link to `<this>/students/<handle>`",
    )

    # --- HTTP policy shared by every adapter -----------------------------------------------------
    http_timeout: float = Field(default=20.0, ge=0.1, description="outside-service read timeout, seconds (per read)")
    http_connect_timeout: float = Field(default=5.0, ge=0.1, description="outside-service connect timeout, seconds")
    http_retries: int = Field(
        default=3,
        ge=0,
        description="retries of transient failures (connect/read errors, timeouts, 429, 5xx, Codeforces call limit)",
    )
    http_backoff_base: float = Field(
        default=0.5, ge=0.0, description="exponential backoff with jitter: first wait, seconds"
    )
    http_backoff_max: float = Field(
        default=30.0, ge=0.0, description="exponential backoff with jitter: longest wait, seconds"
    )
    http_total_timeout: float = Field(
        default=60.0,
        gt=0,
        description="seconds one outside call may take in all, however slowly the service trickles (the timeouts "
        'above are per read); passed = a retried "timed out" error. For async calls it counts from the moment '
        "the request is written, so a wait for the shared Codeforces rate limit is not in it",
    )
    http_max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="the size limit of one answer (32 MiB), counted after gzip/deflate/brotli decoding; "
        '`Content-Length` is checked first, the counted bytes decide; larger = a permanent "answer too large" error',
    )
    http_max_body_bytes_per_service: Annotated[tuple[tuple[str, int], ...], NoDecode] = Field(
        default=(),
        description="per-service overrides of it, `service=bytes` comma-separated (`codeforces=67108864,"
        "raida=1048576`); services are `codeforces`, `leetcode`, `codechef`, `atcoder`, `kenkoooo`, `raida` "
        "(every `raidaN`)",
    )

    # --- contest sources -----------------------------------------------------------------------
    codeforces_url: str = Field(
        default="https://codeforces.com", description="base URL; the real paths are appended, a path prefix is allowed"
    )
    leetcode_url: str = Field(default="https://leetcode.com", description="base URL of LeetCode")
    codechef_url: str = Field(default="https://www.codechef.com", description="base URL of CodeChef")
    atcoder_url: str = Field(default="https://atcoder.jp", description="base URL of AtCoder")
    kenkoooo_url: str = Field(
        default="https://kenkoooo.com",
        validation_alias=AliasChoices("kenkoooo_url", "SYNCQ_KENKOOO_URL"),
        description="base URL of kenkoooo's AtCoder Problems API",
    )
    platform_order: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("codeforces", "leetcode", "codechef", "atcoder"), description="sync-all order (comma-separated)"
    )
    codeforces_gym_enabled: bool = Field(
        default=False, description="adds the platform `codeforces_gym` (`contest.list?gym=true`, links to `/gym/<id>`)"
    )
    codechef_max_past_pages: int = Field(
        default=10,
        ge=0,
        description="CodeChef's `/all` lists only the 20 newest past contests; older ones are paged from `/past` "
        "(20 a page) until a page holds only stored contests, at most this many pages (what bounds a first sync)",
    )
    leetcode_max_past_pages: int = Field(
        default=10,
        ge=0,
        description="when `allContests` fails, LeetCode contests come from `topTwoContests` and `pastContests` "
        "pages (10 a page) until a page holds only stored contests, at most this many",
    )
    contests_schedule_enabled: bool = Field(
        default=True, description="whether beat entry `sync-all-contests` is on by default; see [Schedules](#schedules)"
    )
    contests_schedule_hours: int = Field(
        default=6, ge=1, description="default of beat entry `sync-all-contests`: minute 0, every N hours, UTC"
    )
    contest_time_limit: int = Field(
        default=600,
        ge=5,
        description="seconds one platform's sync may run: then it is stopped (soft limit; killed 30 s later) "
        "and reported as that platform's failure",
    )

    # --- contest sources: plugins and clist.by -------------------------------------------
    source_plugins: Annotated[tuple[str, ...], NoDecode] = Field(
        ("*",),
        description="the source plugins (entry-point group `syncq.sources`) to load, by name, comma-separated; "
        "`*` every installed one, `none` none",
    )
    source_urls: Annotated[tuple[tuple[str, str], ...], NoDecode] = Field(
        (),
        description="base URLs of sources by name, `name=url` comma-separated (a plugin reads its site at "
        "`https://<its host>` otherwise)",
    )
    clist_username: str = Field("", description="clist.by account name; with the API key it turns clist.by on")
    clist_api_key: SecretStr = Field(
        SecretStr(""), description="clist.by API key (sent as `Authorization: ApiKey user:key`, never logged)"
    )
    clist_url: str = Field("https://clist.by", description="clist.by's base URL")
    clist_resources: Annotated[tuple[str, ...], NoDecode] = Field(
        (
            "topcoder.com",
            "hackerrank.com",
            "hackerearth.com",
            "geeksforgeeks.org",
            "yukicoder.me",
            "dmoj.ca",
            "open.kattis.com",
            "toph.co",
            "luogu.com.cn",
            "ac.nowcoder.com",
        ),
        description="the clist.by resources (hosts, comma-separated) imported, each as a platform of its own; "
        "hosts a built-in source covers are left out",
    )
    clist_rate_per_minute: float = Field(
        10.0, gt=0, le=600, description="clist.by calls a minute, shared by every worker (clist allows 10)"
    )
    clist_days_back: int = Field(
        30, ge=0, le=3650, description="days of finished contests each clist.by sync reads (it lists upcoming ones too)"
    )

    # --- students ------------------------------------------------------------------------------
    cf_rate_per_second: float = Field(
        default=0.5, ge=0.001, description="the Codeforces rate limit shared by all workers"
    )
    cf_rate_burst: int = Field(default=3, ge=1, description="the burst of that rate limit")
    cache_info_ttl: int = Field(default=6 * 3600, ge=1, description="student cache lifetime of `user.info`, seconds")
    cache_contest_ttl: int = Field(
        default=6 * 3600, ge=1, description="student cache lifetime of contest data, seconds"
    )
    cache_submissions_ttl: int = Field(
        default=2 * 3600, ge=1, description="student cache lifetime of submissions, seconds"
    )
    cf_batch_handles: int = Field(default=300, ge=1, description="most handles in one background `user.info` call")
    cf_batch_url_bytes: int = Field(
        default=8192, ge=256, description="the longest `user.info` URL a background batch may make"
    )
    cf_background_concurrency: int = Field(
        default=8, ge=1, description="background Codeforces calls in flight at once (the shared limit still paces them)"
    )
    cf_rating_wait_days: int = Field(
        default=3,
        ge=0,
        description="days a finished contest without rating changes yet is asked about again before it counts "
        "as unrated",
    )
    students_schedule_enabled: bool = Field(
        default=True, description="whether beat entry `sync-all-students` is on by default"
    )
    students_schedule_cron: str = Field(
        default="0 3 * * *", description="default cron of beat entry `sync-all-students` (UTC)"
    )
    student_time_limit: int = Field(
        default=300,
        ge=5,
        description="seconds one student's sync may run: then the task is stopped (soft limit; killed 30 s later), "
        "its guard released and its job failed with that reason",
    )
    students_all_time_limit: int = Field(
        default=6600, ge=5, description="the same for the background sync of every student (killed 60 s later)"
    )
    inactive_days: int = Field(
        default=7, ge=1, description="days without an OK submission before a student gets an inactivity reminder"
    )
    smtp_url: str = Field(
        default="",
        description="`smtp://user:pass@host:587?starttls=true`, or `smtps://user:pass@host:465`; empty: no emails",
    )
    smtp_from: str = Field(default="syncq <syncq@localhost>", description="the reminders' sender")

    # --- RAIDA ---------------------------------------------------------------------------------
    raida_url_template: str = Field(
        default="https://raida{i}.cloudcoin.global",
        description="RAIDA server URL, `{i}` = 0..24; a path is allowed. The directory (`/service/users`, "
        "`/service/qmail_servers`, `/service/raida_servers`) is read from RAIDA 11's URL, failing over to the others",
    )
    raida_echo: Literal["binary", "http"] = Field(
        default="binary",
        description="`binary`: the network's own echo (32-byte header, 18-byte body) over UDP, TCP as fallback, to "
        "each `IP:PORT` of `raida_servers` (a missing entry: the template's host, port 50000+i); `http`: the legacy "
        "`/service/echo` JSON",
    )
    raida_count: int = Field(default=25, ge=1, description="RAIDA servers")
    raida_quorum: int = Field(default=13, ge=1, description="how many RAIDA servers must be ready")
    raida_directory_index: int = Field(default=11, ge=0, description="preferred directory server")
    raida_timeout: float = Field(
        default=2.0, ge=0.05, description="per-server echo timeout, seconds (binary mode: for UDP, then again for TCP)"
    )
    raida_schedule_enabled: bool = Field(default=True, description="whether beat entry `sync-raida` is on by default")
    raida_schedule_minutes: int = Field(
        default=60, ge=1, description="default interval of beat entry `sync-raida`, minutes"
    )
    raida_time_limit: int = Field(
        default=300, ge=5, description="seconds a RAIDA sync may run (soft limit; killed 30 s later)"
    )
    raida_allow_private: bool = Field(
        False,
        description="echo RAIDA at loopback, link-local, private, multicast and unspecified addresses too "
        "(the simulator's); otherwise such a target is a down server, refused",
    )

    # --- webhooks ------------------------------------------------------------------------------
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

    # --- feeds ---------------------------------------------------------------------------------
    feed_refresh_minutes: int = Field(
        default=60,
        ge=1,
        description="how often calendar apps should re-read `/contests.ics` (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`, "
        "`Cache-Control`)",
    )

    # --- history -------------------------------------------------------------------------------
    history_days: int = Field(
        default=90,
        ge=0,
        description="days the job history, the events and the webhook delivery log are kept (pruned daily by "
        "`prune-history`); `0` keeps them for ever",
    )

    # --- tools: CLI client, Flower, web UI -------------------------------------------------------
    api_url: str = Field(
        default="http://127.0.0.1:8000", description="where `syncq sync` and `syncq jobs` send requests"
    )
    api_token: str = Field(
        default="",
        validation_alias=AliasChoices("api_token", "SYNCQ_TOKEN"),
        description="the admin token `syncq sync` and `syncq jobs` use",
    )
    flower_user: str = Field(
        default="",
        validation_alias=AliasChoices("flower_user", "FLOWER_USER"),
        description="Flower's basic auth user (`syncq flower` refuses to start without it)",
    )
    flower_password: str = Field(
        default="",
        validation_alias=AliasChoices("flower_password", "FLOWER_PASSWORD"),
        description="Flower's basic auth password",
    )
    flower_url: str = Field(
        default="",
        description="Flower's address as operators' browsers reach it: the web UI's jobs page links each job there "
        "(`syncq standalone` sets it)",
    )

    @field_validator("source_plugins", "clist_resources", mode="before")
    @classmethod
    def _source_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("source_urls", mode="before")
    @classmethod
    def _source_urls(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        pairs = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, sep, url = part.partition("=")
            if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
                raise ValueError(f"must be name=http(s)-url pairs, got {part!r}")
            pairs.append((name.strip(), url.strip().rstrip("/")))
        return tuple(pairs)

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
