"""All of syncq's configuration, read from the environment in this one place.

`Settings` is a pydantic-settings model made of one part per concern, each in a module of this
package (infrastructure, API, HTTP policy, contest sources, students, RAIDA, webhooks, feeds,
tools): each field is the variable `SYNCQ_<FIELD>`, typed and range-checked; its `description` is
the README's text for it (the table is generated: `python -m core.settings_doc`). `get_settings()`
reads it once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from core.settings.api import Api
from core.settings.feeds import Feeds, History
from core.settings.http import HttpPolicy
from core.settings.infrastructure import Infrastructure
from core.settings.raida import Raida
from core.settings.sources import ContestSources, SourcePlugins
from core.settings.students import Students
from core.settings.tools import Tools
from core.settings.webhooks import Webhooks

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


class Settings(
    Infrastructure,
    Api,
    HttpPolicy,
    ContestSources,
    SourcePlugins,
    Students,
    Raida,
    Webhooks,
    Feeds,
    History,
    Tools,
):
    """syncq's settings: every `SYNCQ_*` variable (and Flower's basic auth), typed and checked."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCQ_", env_ignore_empty=True, frozen=True, extra="ignore", populate_by_name=True
    )

    @field_validator("platform_order", "cors_origins", "metrics_dirs", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator(*_URLS, mode="after")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

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
