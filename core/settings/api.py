"""Settings of the HTTP API: gunicorn, tokens, logins, request limits, CORS."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, NoDecode


class Api(BaseSettings):
    """API."""

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
    public_rate_limit: str = Field(
        default="",
        description="requests each client (by address) may make to the public routes (contests, calendar, "
        "platforms), a limit string such as `120/minute`; empty for no limit. Over it: 429 with `Retry-After`",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated origins whose browser pages may call the API (none unless listed)"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people open syncq; reminder emails link to `<this>/students/<handle>`",
    )
