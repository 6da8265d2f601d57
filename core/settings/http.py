"""Settings of the HTTP policy every adapter shares: timeouts, retries, answer sizes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode


class HttpPolicy(BaseSettings):
    """HTTP policy shared by every adapter."""

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
