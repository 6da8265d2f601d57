"""The `events` collection: every event syncq emitted (`source.health_changed`, ...), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

import store
from store.util import utcnow


class BadCursor(ValueError):
    """A pagination cursor that this API did not hand out."""


@store.index_maker
def _indexes(database: Database) -> None:
    database.events.create_index([("type", ASCENDING), ("_id", DESCENDING)])


def record(type_: str, data: dict[str, Any], at: datetime | None = None) -> str:
    """Keep one event; returns its id."""
    doc = {"type": type_, "data": data, "at": at or utcnow()}
    return str(store.db().events.insert_one(doc).inserted_id)


def prune(before: datetime) -> int:
    """Forget the events recorded before `before` (by their ids' time, which the index holds)."""
    return store.db().events.delete_many({"_id": {"$lt": ObjectId.from_datetime(before)}}).deleted_count


def find(
    *, type_: str | None = None, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Events newest first (by id), optionally of one type, a page at a time; (items, next cursor)."""
    query: dict[str, Any] = {}
    if type_:
        query["type"] = type_
    if cursor:
        if not ObjectId.is_valid(cursor):
            raise BadCursor("cursor is not one this API handed out")
        query["_id"] = {"$lt": ObjectId(cursor)}
    docs = list(store.db().events.find(query).sort("_id", DESCENDING).limit(limit + 1))
    next_cursor = str(docs[limit - 1]["_id"]) if len(docs) > limit else None
    return docs[:limit], next_cursor
