"""All of syncq's configuration, read from the environment in this one place.

Every variable is listed in the README's configuration table; `Settings.from_env()`
is the only code that reads `os.environ` for syncq's own settings.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

MIN_JWT_SECRET_BYTES = 32


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float | None = None) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """syncq's settings; build with `Settings.from_env()` (or `get_settings()`)."""

    # --- infrastructure -------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    mongodb_uri: str = "mongodb://127.0.0.1:27017/syncq"
    queue: str = "syncq"
    # Seconds before the Redis broker hands an unacknowledged task to another worker;
    # must exceed the longest task, or a slow task runs twice.
    visibility_timeout: int = 7200
    result_expires: int = 86400
    # Seconds a "one run at a time" guard lives if nobody releases it (worker died).
    job_lock_ttl: int = 1800
    store_timeout_ms: int = 5000
    log_level: str = "INFO"

    # --- API ---------------------------------------------------------------------------
    jwt_secret: str = ""
    jwt_expires: int = 3600
    max_body_bytes: int = 64 * 1024
    login_max_attempts: int = 5
    login_window: int = 300

    # --- HTTP policy shared by every adapter ---------------------------------------------
    http_timeout: float = 20.0
    http_connect_timeout: float = 5.0
    http_retries: int = 3
    http_backoff_base: float = 0.5
    http_backoff_max: float = 30.0

    # --- contests ------------------------------------------------------------------------
    codeforces_url: str = "https://codeforces.com"
    leetcode_url: str = "https://leetcode.com"
    codechef_url: str = "https://www.codechef.com"
    atcoder_url: str = "https://atcoder.jp"
    kenkoooo_url: str = "https://kenkoooo.com"
    platform_order: tuple[str, ...] = ("codeforces", "leetcode", "codechef", "atcoder")
    contests_schedule_enabled: bool = True
    contests_schedule_hours: int = 6

    # --- students ------------------------------------------------------------------------
    cf_rate_per_second: float = 0.5
    cf_rate_burst: int = 3
    cache_info_ttl: int = 6 * 3600
    cache_contest_ttl: int = 6 * 3600
    cache_submissions_ttl: int = 2 * 3600
    students_schedule_enabled: bool = True
    students_schedule_cron: str = "0 3 * * *"
    cf_batch_handles: int = 300  # most handles in one background `user.info` call
    cf_batch_url_bytes: int = 8192  # longest `user.info` URL a background batch may make
    cf_background_concurrency: int = 8  # background Codeforces calls in flight at once (the limit still paces them)
    cf_rating_wait_days: int = 3  # days a finished contest without rating changes yet is asked again

    # --- RAIDA ---------------------------------------------------------------------------
    raida_url_template: str = "https://raida{i}.cloudcoin.global"
    raida_count: int = 25
    raida_quorum: int = 13
    raida_directory_index: int = 11
    raida_timeout: float = 2.0
    raida_schedule_enabled: bool = True
    raida_schedule_minutes: int = 60

    # --- CLI client (`syncq sync ...`, `syncq jobs ...`) ---------------------------------
    api_url: str = "http://127.0.0.1:8000"
    api_token: str = ""

    # --- Flower --------------------------------------------------------------------------
    flower_user: str = ""
    flower_password: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read every SYNCQ_* variable (and FLOWER_* basic auth) from `env` (default os.environ)."""
        e = os.environ if env is None else env
        d = cls()
        return cls(
            redis_url=_str(e, "SYNCQ_REDIS_URL", d.redis_url),
            mongodb_uri=_str(e, "SYNCQ_MONGODB_URI", d.mongodb_uri),
            queue=_str(e, "SYNCQ_QUEUE", d.queue),
            visibility_timeout=_int(e, "SYNCQ_VISIBILITY_TIMEOUT", d.visibility_timeout, 5),
            result_expires=_int(e, "SYNCQ_RESULT_EXPIRES", d.result_expires, 60),
            job_lock_ttl=_int(e, "SYNCQ_JOB_LOCK_TTL", d.job_lock_ttl, 10),
            store_timeout_ms=_int(e, "SYNCQ_STORE_TIMEOUT_MS", d.store_timeout_ms, 100),
            log_level=_str(e, "SYNCQ_LOG_LEVEL", d.log_level).upper(),
            jwt_secret=e.get("SYNCQ_JWT_SECRET", ""),
            jwt_expires=_int(e, "SYNCQ_JWT_EXPIRES", d.jwt_expires, 60),
            max_body_bytes=_int(e, "SYNCQ_MAX_BODY_BYTES", d.max_body_bytes, 1024),
            login_max_attempts=_int(e, "SYNCQ_LOGIN_MAX_ATTEMPTS", d.login_max_attempts, 1),
            login_window=_int(e, "SYNCQ_LOGIN_WINDOW", d.login_window, 1),
            http_timeout=_float(e, "SYNCQ_HTTP_TIMEOUT", d.http_timeout, 0.1),
            http_connect_timeout=_float(e, "SYNCQ_HTTP_CONNECT_TIMEOUT", d.http_connect_timeout, 0.1),
            http_retries=_int(e, "SYNCQ_HTTP_RETRIES", d.http_retries, 0),
            http_backoff_base=_float(e, "SYNCQ_HTTP_BACKOFF_BASE", d.http_backoff_base, 0.0),
            http_backoff_max=_float(e, "SYNCQ_HTTP_BACKOFF_MAX", d.http_backoff_max, 0.0),
            codeforces_url=_str(e, "SYNCQ_CODEFORCES_URL", d.codeforces_url).rstrip("/"),
            leetcode_url=_str(e, "SYNCQ_LEETCODE_URL", d.leetcode_url).rstrip("/"),
            codechef_url=_str(e, "SYNCQ_CODECHEF_URL", d.codechef_url).rstrip("/"),
            atcoder_url=_str(e, "SYNCQ_ATCODER_URL", d.atcoder_url).rstrip("/"),
            kenkoooo_url=_str(e, "SYNCQ_KENKOOO_URL", d.kenkoooo_url).rstrip("/"),
            platform_order=_list(e, "SYNCQ_PLATFORM_ORDER", d.platform_order),
            contests_schedule_enabled=_bool(e, "SYNCQ_CONTESTS_SCHEDULE_ENABLED", d.contests_schedule_enabled),
            contests_schedule_hours=_int(e, "SYNCQ_CONTESTS_SCHEDULE_HOURS", d.contests_schedule_hours, 1),
            cf_rate_per_second=_float(e, "SYNCQ_CF_RATE_PER_SECOND", d.cf_rate_per_second, 0.001),
            cf_rate_burst=_int(e, "SYNCQ_CF_RATE_BURST", d.cf_rate_burst, 1),
            cache_info_ttl=_int(e, "SYNCQ_CACHE_INFO_TTL", d.cache_info_ttl, 1),
            cache_contest_ttl=_int(e, "SYNCQ_CACHE_CONTEST_TTL", d.cache_contest_ttl, 1),
            cache_submissions_ttl=_int(e, "SYNCQ_CACHE_SUBMISSIONS_TTL", d.cache_submissions_ttl, 1),
            students_schedule_enabled=_bool(e, "SYNCQ_STUDENTS_SCHEDULE_ENABLED", d.students_schedule_enabled),
            students_schedule_cron=_str(e, "SYNCQ_STUDENTS_SCHEDULE_CRON", d.students_schedule_cron),
            cf_batch_handles=_int(e, "SYNCQ_CF_BATCH_HANDLES", d.cf_batch_handles, 1),
            cf_batch_url_bytes=_int(e, "SYNCQ_CF_BATCH_URL_BYTES", d.cf_batch_url_bytes, 256),
            cf_background_concurrency=_int(e, "SYNCQ_CF_BACKGROUND_CONCURRENCY", d.cf_background_concurrency, 1),
            cf_rating_wait_days=_int(e, "SYNCQ_CF_RATING_WAIT_DAYS", d.cf_rating_wait_days, 0),
            raida_url_template=_str(e, "SYNCQ_RAIDA_URL_TEMPLATE", d.raida_url_template).rstrip("/"),
            raida_count=_int(e, "SYNCQ_RAIDA_COUNT", d.raida_count, 1),
            raida_quorum=_int(e, "SYNCQ_RAIDA_QUORUM", d.raida_quorum, 1),
            raida_directory_index=_int(e, "SYNCQ_RAIDA_DIRECTORY_INDEX", d.raida_directory_index, 0),
            raida_timeout=_float(e, "SYNCQ_RAIDA_TIMEOUT", d.raida_timeout, 0.05),
            raida_schedule_enabled=_bool(e, "SYNCQ_RAIDA_SCHEDULE_ENABLED", d.raida_schedule_enabled),
            raida_schedule_minutes=_int(e, "SYNCQ_RAIDA_SCHEDULE_MINUTES", d.raida_schedule_minutes, 1),
            api_url=_str(e, "SYNCQ_API_URL", d.api_url).rstrip("/"),
            api_token=e.get("SYNCQ_TOKEN", "").strip(),
            flower_user=_str(e, "FLOWER_USER", d.flower_user),
            flower_password=e.get("FLOWER_PASSWORD", ""),
        )

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (tests, the standalone launcher)."""
        return dataclasses.replace(self, **changes)

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings.from_env()


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again (tests, launcher)."""
    get_settings.cache_clear()
    return get_settings()
