"""Request schemas: the pydantic models that validate every request and make the OpenAPI document.

A request that does not fit its schema answers 400 with `{"statusCode": 400, "message"}` naming
the field (api/openapi.py turns spectree's validation error into that).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE = re.compile(r"^\+?[0-9 ()-]{5,20}$")


def refused(message: str) -> PydanticCustomError:
    """A validation error already in the project's words: answered as `'<field>' <message>`."""
    return PydanticCustomError("syncq", "{message}", {"message": message})


def _stripped(value: str) -> str:
    return value.strip()


def _filled(value: str) -> str:
    value = value.strip()
    if not value:
        raise refused("must not be empty")
    return value


def _text(max_length: int, *checks: Callable[[str], Any]) -> Any:
    """A JSON string of at most `max_length` characters as sent, then passed through `checks`
    (which trim it, and may refuse it or change it)."""
    return Annotated[(StrictStr, Field(max_length=max_length), *(AfterValidator(check) for check in checks))]


def _not_null(message: str):
    """A before-validator refusing an explicit `null` with `message` (absent stays allowed)."""

    def check(value: Any) -> Any:
        if value is None:
            raise refused(message)
        return value

    return check


def _not_empty(message: str):
    """A before-validator refusing an empty query value with `message` (see `empty_is_refused`)."""

    def check(cls, value: Any) -> Any:
        if value == "":
            raise refused(message)
        return value

    return classmethod(check)


class _Query(BaseModel):
    # Unknown query parameters are ignored, as browsers and proxies add their own.
    model_config = ConfigDict(extra="ignore")
    # Parameters whose empty value is refused rather than meaning the default.
    empty_is_refused: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, values: Any) -> Any:
        # `?cursor=` or `?limit=` with nothing after it means the default, as it always has.
        if isinstance(values, dict):
            return {
                key: value for key, value in values.items() if value not in ("", [""]) or key in cls.empty_is_refused
            }
        return values

    @field_validator("*", mode="wrap")
    @classmethod
    def _whole_numbers(cls, value: Any, handler, info) -> Any:
        # pydantic reads "5.0" as 5; a whole-number parameter has always refused it.
        parsed = handler(value)
        if isinstance(parsed, int) and isinstance(value, str):
            try:
                int(value)
            except ValueError:
                metadata = cls.model_fields[info.field_name].metadata
                low = next(m.ge for m in metadata if hasattr(m, "ge"))
                high = next(m.le for m in metadata if hasattr(m, "le"))
                raise refused(f"must be a whole number from {low} to {high}") from None
        return parsed


class Error(BaseModel):
    """Every error: `{"statusCode": N, "message": "..."}`."""

    statusCode: int
    message: str


class RaidaFailure(BaseModel):
    """A failed RAIDA sync (502) (the body the README documents)."""

    model_config = ConfigDict(extra="allow")
    status: Literal["error"]
    users_synced: int
    servers_synced: int
    timestamp: str
    message: str


class PlatformCounts(BaseModel):
    """One platform's part of a contest sync: contests new, changed and failed (and why)."""

    model_config = ConfigDict(extra="allow")
    synced: int
    updated: int
    failed: int
    error: str | None = None


class SyncAllResult(BaseModel):
    """A finished sync-all (200) (the body the README documents)."""

    model_config = ConfigDict(extra="allow")
    message: str
    results: dict[str, PlatformCounts]


class PlatformResult(PlatformCounts):
    """A finished one-platform sync (200)."""

    message: str
    platform: str


class StudentDocument(BaseModel):
    """A synced student (200) (the body the README documents): profile, `contestData`, sync marks."""

    model_config = ConfigDict(extra="allow")
    codeforcesHandle: str


class RaidaResult(BaseModel):
    """A finished RAIDA sync (200) (the body the README documents)."""

    model_config = ConfigDict(extra="allow")
    status: Literal["success"]
    users_synced: int
    servers_synced: int
    timestamp: str


class Envelope(BaseModel):
    """A job still running (202): where to poll it."""

    model_config = ConfigDict(extra="allow")
    job_id: str
    kind: str | None = None
    state: Literal["PENDING", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE"]


class PreferHeader(BaseModel):
    """RFC 7240: `Prefer: respond-async` answers 202 at once; `Prefer: wait=N` waits up to N s for the
    job's own body (without it, a trigger waits up to SYNCQ_SYNC_WAIT); `Preference-Applied` says which."""

    model_config = ConfigDict(extra="ignore")
    prefer: str | None = Field(None, max_length=200, description="respond-async, or wait=N (seconds)")


class WaitQuery(_Query):
    """`?wait=N`: wait up to N seconds for the job (also `Prefer: wait=N`; `Prefer: respond-async`: none)."""

    wait: float | None = Field(None, ge=0, le=60, allow_inf_nan=False)


class StudentSyncQuery(WaitQuery):
    empty_is_refused: ClassVar[tuple[str, ...]] = ("full",)
    full: Literal["true", "false", "1", "0", "True", "False", "TRUE", "FALSE"] | None = None

    _full_is_not_empty = field_validator("full", mode="before")(_not_empty("must be true or false"))


class JobsQuery(_Query):
    kind: str | None = Field(None, pattern=r"^[a-z_.]{1,64}$")
    limit: int | None = Field(None, ge=1, le=100)


class ContestsQuery(_Query):
    platform: str | None = Field(None, max_length=40)
    phase: str | None = Field(None, max_length=20)
    from_: str | None = Field(None, alias="from", max_length=40)
    to: str | None = Field(None, max_length=40)
    limit: int | None = Field(None, ge=1, le=500)
    cursor: str | None = Field(None, max_length=200)


class FormatQuery(_Query):
    format: Literal["json", "csv"] | None = None


class IncludeQuery(_Query):
    include: Literal["raw"] | None = None


class ContestsListQuery(ContestsQuery, FormatQuery):
    """`GET /contests`: filters, pages, and `?format=csv` (or `Accept: text/csv`); `?include=raw`
    (admins only) adds each contest's upstream payload."""

    include: Literal["raw"] | None = None


class FeedQuery(_Query):
    platform: str | None = Field(None, max_length=400)
    phase: str | None = Field(None, max_length=100)
    since: str | None = Field(
        None, max_length=40, description="contests that end from this time on (ISO 8601 or epoch seconds)"
    )
    days: int | None = Field(None, ge=0, le=36500, description="contests that ended in the last N days and later")


class EventsQuery(_Query):
    type: str | None = Field(None, max_length=64)
    limit: int | None = Field(None, ge=1, le=500)
    cursor: str | None = Field(None, max_length=200)


class DeliveriesQuery(_Query):
    status: Literal["pending", "delivered", "failed"] | None = None
    limit: int | None = Field(None, ge=1, le=500)


class StatsQuery(_Query):
    empty_is_refused: ClassVar[tuple[str, ...]] = ("days",)
    days: Literal["30", "90", "365"] | None = None
    _days_is_not_empty = field_validator("days", mode="before")(_not_empty("must be 30, 90 or 365"))


class StudentsQuery(FormatQuery):
    empty_is_refused: ClassVar[tuple[str, ...]] = ("sort",)
    sort: Literal["name", "rating", "solved"] | None = None
    _sort_is_not_empty = field_validator("sort", mode="before")(_not_empty("must be name, rating or solved"))
    minRating: int | None = Field(None, ge=0, le=5000)
    maxRating: int | None = Field(None, ge=0, le=5000)
    limit: int | None = Field(None, ge=1, le=200)
    cursor: str | None = Field(None, max_length=200)
    inactiveDays: int | None = Field(None, ge=0, le=36500)


class SubmissionsQuery(_Query):
    verdict: str | None = Field(None, pattern=r"^[A-Z_]{2,32}$")
    limit: int | None = Field(None, ge=1, le=1000)
    cursor: str | None = Field(None, pattern=r"^[0-9]{1,20}$")


class UsersQuery(_Query):
    q: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=500)
    cursor: str | None = Field(None, max_length=200)


class ServersQuery(_Query):
    include_unavailable: Literal["true", "false", "1", "0", "yes", "no", "True", "False"] | None = None


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise refused("is not a valid email address")
    return value.lower()


def _phone(value: str) -> str | None:
    value = value.strip()
    if value and not PHONE.match(value):
        raise refused("may hold digits, spaces, '+', '-', '(' and ')' only")
    return value or None


def _url(value: str) -> str:
    value = _filled(value)
    if len(value) > 2000:  # trimmed; the 2048 of the field bounds the string as sent
        raise refused("is longer than 2000 characters")
    return value


# A field that may be left out but, once given, must not be null.
GivenBool = Annotated[StrictBool | None, BeforeValidator(_not_null("must be true or false"))]


def _given(text: Any) -> Any:
    """`text` that may be left out but, once given, must not be null."""
    return Annotated[text | None, BeforeValidator(_not_null("is required"))]


class Login(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: _text(64, _filled)
    password: _text(1024, _filled)


class StudentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: _text(100, _filled)
    email: _text(254, _filled, _email)
    phone: _text(20, _phone) | None = None  # "" or whitespace clears it
    # Not documented and not stored on create (a new student gets reminders), but checked as PATCH checks it.
    reminders: SkipJsonSchema[GivenBool] = None
    codeforcesHandle: _text(24, _filled)


class StudentPatch(BaseModel):
    # Other fields are refused by the route, naming them.
    model_config = ConfigDict(extra="allow")
    name: _text(100, _stripped) | None = None  # may be emptied; null changes nothing
    email: _text(254, _stripped, _email) | None = None
    phone: _text(20, _phone) | None = None  # "" or whitespace clears it
    reminders: GivenBool = None
    codeforcesHandle: _given(_text(24, _filled)) = None


class PingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    echo: Any = None
    delay: Annotated[
        StrictInt | StrictFloat | None, BeforeValidator(_not_null("must be a number of seconds from 0 to 30"))
    ] = Field(None, ge=0, le=30)


class ParityIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    server_id: _text(128, _filled)


class ScheduleChange(BaseModel):
    # Other fields are refused by the route, naming them.
    model_config = ConfigDict(extra="allow")
    cron: StrictStr | None = Field(None, max_length=200)
    interval: StrictInt | None = Field(None, ge=1)
    timezone: StrictStr | None = Field(None, max_length=64)
    enabled: StrictBool | None = None


class WebhookIn(BaseModel):
    # Other fields are refused by the route, naming them.
    model_config = ConfigDict(extra="allow")
    url: _text(2048, _url)
    events: list[StrictStr]
    leadMinutes: list[StrictInt] | None = None
    description: _text(500, _stripped) | None = None
    secret: _given(_text(200, _filled)) = None


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: _given(_text(2048, _url)) = None
    events: list[StrictStr] | None = None
    leadMinutes: list[StrictInt] | None = None
    description: _text(500, _stripped) | None = None
    secret: _given(_text(200, _filled)) = None
    enabled: GivenBool = None
