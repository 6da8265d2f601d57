"""Small helpers shared by the store modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.collection import Collection


def utcnow() -> datetime:
    """Now, as an aware UTC datetime with millisecond precision (what MongoDB keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, e.g. 2025-12-21T10:30:45.123Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_safe(value):
    """A copy of `value` that JSON can carry (datetimes as ISO strings, ObjectIds as strings)."""
    from bson import ObjectId

    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def update_then_read(
    collection: Collection, query: dict[str, Any], update: dict[str, Any], projection: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Apply `update` to the one document `query` names (by a unique key), then read it back.

    Not `find_one_and_update`: SecantusDB serves that by scanning the whole collection, where an
    update and a read by `_id` are key lookups, so its cost would grow with the job history
    (docs/benchmarks-notes.md). The read may also show writes made by others after ours; callers
    rely only on it including their own. None when nothing matched.
    """
    if collection.update_one(query, update).matched_count == 0:
        return None
    return collection.find_one(query, projection)
