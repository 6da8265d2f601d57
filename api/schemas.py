"""Request schemas: the pydantic models that validate every request and make the OpenAPI document.

A request that does not fit its schema answers 400 with `{"statusCode": 400, "message"}` naming
the field (api/openapi.py turns spectree's validation error into that).
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator, StrictBool, StrictFloat, StrictInt, StrictStr

class _Query(BaseModel):
    # Unknown query parameters are ignored, as browsers and proxies add their own.
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, values: Any) -> Any:
        # `?cursor=` or `?limit=` with nothing after it means the default, as it always has.
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value not in ("", [""])}
        return values


class Error(BaseModel):
    """Every error: `{"statusCode": N, "message": "..."}`."""

    statusCode: int
    message: str


class RaidaFailure(BaseModel):
    """A failed RAIDA sync (502), as its seed document shows it."""

    model_config = ConfigDict(extra="allow")
    status: Literal["error"]
    users_synced: int
    servers_synced: int
    timestamp: str
    message: str


class Envelope(BaseModel):
    """A job still running (202): where to poll it."""

    model_config = ConfigDict(extra="allow")
    job_id: str
    kind: Optional[str] = None
    state: Literal["PENDING", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE"]


class PreferHeader(BaseModel):
    """RFC 7240: `Prefer: respond-async` answers 202 at once; `Prefer: wait=N` waits up to N s for the
    job's own body (without it, a trigger waits up to SYNCQ_SYNC_WAIT); `Preference-Applied` says which."""

    model_config = ConfigDict(extra="ignore")
    prefer: Optional[str] = Field(None, max_length=200, description="respond-async, or wait=N (seconds)")


class WaitQuery(_Query):
    """`?wait=N`: wait up to N seconds for the job (also `Prefer: wait=N`; `Prefer: respond-async`: none)."""

    wait: Optional[float] = Field(None, ge=0, le=60, allow_inf_nan=False)


class StudentSyncQuery(WaitQuery):
    full: Optional[Literal["true", "false", "1", "0", "True", "False", "TRUE", "FALSE"]] = None


class JobsQuery(_Query):
    kind: Optional[str] = Field(None, pattern=r"^[a-z_.]{1,64}$")
    limit: Optional[int] = Field(None, ge=1, le=100)


class ContestsQuery(_Query):
    platform: Optional[str] = Field(None, max_length=40)
    phase: Optional[str] = Field(None, max_length=20)
    from_: Optional[str] = Field(None, alias="from", max_length=40)
    to: Optional[str] = Field(None, max_length=40)
    limit: Optional[int] = Field(None, ge=1, le=500)
    cursor: Optional[str] = Field(None, max_length=200)


class FormatQuery(_Query):
    format: Optional[Literal["json", "csv"]] = None


class ContestsListQuery(ContestsQuery, FormatQuery):
    """`GET /contests`: filters, pages, and `?format=csv` (or `Accept: text/csv`)."""


class FeedQuery(_Query):
    platform: Optional[str] = Field(None, max_length=400)
    phase: Optional[str] = Field(None, max_length=100)


class EventsQuery(_Query):
    type: Optional[str] = Field(None, max_length=64)
    limit: Optional[int] = Field(None, ge=1, le=500)
    cursor: Optional[str] = Field(None, max_length=200)


class DeliveriesQuery(_Query):
    status: Optional[Literal["pending", "delivered", "failed"]] = None
    limit: Optional[int] = Field(None, ge=1, le=500)


class StatsQuery(_Query):
    days: Optional[Literal["30", "90", "365"]] = None


class StudentsQuery(FormatQuery):
    sort: Optional[Literal["name", "rating", "solved"]] = None
    minRating: Optional[int] = Field(None, ge=0, le=5000)
    maxRating: Optional[int] = Field(None, ge=0, le=5000)
    limit: Optional[int] = Field(None, ge=1, le=200)
    cursor: Optional[str] = Field(None, max_length=200)
    inactiveDays: Optional[int] = Field(None, ge=0, le=36500)


class SubmissionsQuery(_Query):
    verdict: Optional[str] = Field(None, pattern=r"^[A-Z_]{2,32}$")
    limit: Optional[int] = Field(None, ge=1, le=1000)
    cursor: Optional[str] = Field(None, pattern=r"^[0-9]{1,20}$")


class UsersQuery(_Query):
    q: Optional[str] = Field(None, max_length=100)
    limit: Optional[int] = Field(None, ge=1, le=500)
    cursor: Optional[str] = Field(None, max_length=200)


class ServersQuery(_Query):
    include_unavailable: Optional[Literal["true", "false", "1", "0", "yes", "no", "True", "False"]] = None


class Login(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: StrictStr = Field(max_length=64)
    password: StrictStr = Field(max_length=1024)


class StudentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: StrictStr = Field(max_length=100)
    email: StrictStr = Field(max_length=254)
    phone: Optional[StrictStr] = Field(None, max_length=20)
    codeforcesHandle: StrictStr = Field(max_length=24)


class StudentPatch(BaseModel):
    # Other fields are refused by the route, naming them.
    model_config = ConfigDict(extra="allow")
    name: Optional[StrictStr] = Field(None, max_length=100)
    email: Optional[StrictStr] = Field(None, max_length=254)
    phone: Optional[StrictStr] = Field(None, max_length=20)
    reminders: Optional[StrictBool] = None
    codeforcesHandle: Optional[StrictStr] = Field(None, max_length=24)


class PingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    echo: Any = None
    delay: Optional[StrictInt | StrictFloat] = Field(None, ge=0, le=30)


class ParityIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    server_id: StrictStr = Field(max_length=128)


class ScheduleChange(BaseModel):
    # Other fields are refused by the route, naming them.
    model_config = ConfigDict(extra="allow")
    cron: Optional[StrictStr] = Field(None, max_length=200)
    interval: Optional[StrictInt] = Field(None, ge=1)
    timezone: Optional[StrictStr] = Field(None, max_length=64)
    enabled: Optional[StrictBool] = None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: StrictStr = Field(max_length=2048)
    events: list[StrictStr]
    leadMinutes: Optional[list[StrictInt]] = None
    description: Optional[StrictStr] = Field(None, max_length=500)
    secret: Optional[StrictStr] = Field(None, max_length=200)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: Optional[StrictStr] = Field(None, max_length=2048)
    events: Optional[list[StrictStr]] = None
    leadMinutes: Optional[list[StrictInt]] = None
    description: Optional[StrictStr] = Field(None, max_length=500)
    enabled: Optional[StrictBool] = None
