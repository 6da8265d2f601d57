"""Settings of the RAIDA network sync."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings


class Raida(BaseSettings):
    """RAIDA."""

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

    @field_validator("raida_echo", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
