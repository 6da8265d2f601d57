"""RAIDA collections: `raida_servers` (by index), `qmail_servers` (by server_id),
`directory_users` (by serial number) and the parity setting.

A sync only upserts: a failed or partial sync never deletes what is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

import store
from store.util import utcnow


@store.index_maker
def _indexes(database: Database) -> None:
    database.directory_users.create_index("serialNumber", unique=True)
    database.directory_users.create_index("searchKey")
    database.qmail_servers.create_index("server_id", unique=True)
    database.raida_servers.create_index("index", unique=True)


def _bulk_upsert(collection, key: str, docs: Iterable[dict[str, Any]]) -> int:
    now = utcnow()
    operations = [UpdateOne({key: doc[key]}, {"$set": {**doc, "updatedAt": now}}, upsert=True) for doc in docs]
    if not operations:
        return 0
    collection.bulk_write(operations, ordered=False)
    return len(operations)


def record_echoes(echoes: Iterable[dict[str, Any]]) -> None:
    """Keep each RAIDA's readiness, latency and check time (index is the key)."""
    _bulk_upsert(store.db().raida_servers, "index", echoes)


def upsert_raida_addresses(servers: Iterable[dict[str, Any]]) -> int:
    """Host and port of each RAIDA from the directory's raida_servers list."""
    return _bulk_upsert(store.db().raida_servers, "index", servers)


def upsert_users(users: Iterable[dict[str, Any]]) -> int:
    """Directory users by serial number, writing only new or changed ones; returns how many were written."""
    known = {
        d["serialNumber"]: d.get("contentHash")
        for d in store.db().directory_users.find({}, {"serialNumber": 1, "contentHash": 1, "_id": 0})
    }
    docs = []
    for user in users:
        digest = hashlib.sha1(json.dumps(user, sort_keys=True, default=str).encode()).hexdigest()
        if known.get(user["serialNumber"]) == digest:
            continue
        search = " ".join(str(user.get(k) or "") for k in ("first", "last", "description", "address"))
        docs.append({**user, "searchKey": search.lower(), "contentHash": digest})
    return _bulk_upsert(store.db().directory_users, "serialNumber", docs)


def upsert_qmail_servers(servers: Iterable[dict[str, Any]]) -> int:
    """QMail servers by server_id; returns how many were written."""
    return _bulk_upsert(store.db().qmail_servers, "server_id", servers)


def mark_listed(server_ids: list[str]) -> None:
    """Servers absent from the latest directory stay stored but are not available."""
    store.db().qmail_servers.update_many({"server_id": {"$nin": server_ids}}, {"$set": {"is_available": False}})


def raida_servers() -> list[dict[str, Any]]:
    """The RAIDA servers by index."""
    return list(store.db().raida_servers.find({}, {"_id": 0}).sort("index", ASCENDING))


def _directory_order(server: dict[str, Any]) -> tuple:
    # By RAIDA index, servers without one after those with one, then by id.
    index = server.get("server_index")
    return (index is None, index if index is not None else 0, server["server_id"])


def qmail_servers(include_unavailable: bool) -> list[dict[str, Any]]:
    """QMail servers, available ones only unless asked; with `use_for_parity` set from the setting."""
    query = {} if include_unavailable else {"is_available": True}
    parity = parity_server_id()
    servers = sorted(store.db().qmail_servers.find(query, {"_id": 0, "updatedAt": 0}), key=_directory_order)
    for server in servers:
        server["use_for_parity"] = server["server_id"] == parity
    return servers


def qmail_server(server_id: str) -> dict[str, Any] | None:
    """One QMail server, or None."""
    return store.db().qmail_servers.find_one({"server_id": server_id}, {"_id": 0, "updatedAt": 0})


def parity_server_id() -> str | None:
    """The configured parity server's id, or None."""
    doc = store.db().settings.find_one({"_id": "parity"})
    return doc.get("server_id") if doc else None


def set_parity(server_id: str) -> None:
    """Make `server_id` the parity server."""
    store.db().settings.update_one(
        {"_id": "parity"}, {"$set": {"server_id": server_id, "updatedAt": utcnow()}}, upsert=True
    )


def default_parity() -> str | None:
    """If no parity server is set, make the first available server it; returns the id set or None."""
    if parity_server_id():
        return None
    available = sorted(
        store.db().qmail_servers.find({"is_available": True}, {"server_id": 1, "server_index": 1}), key=_directory_order
    )
    if not available:
        return None
    first = available[0]
    # Only if still unset: two syncs racing must not flip it.
    result = store.db().settings.update_one(
        {"_id": "parity", "server_id": {"$exists": False}},
        {"$set": {"server_id": first["server_id"], "updatedAt": utcnow()}},
        upsert=True,
    )
    return first["server_id"] if (result.upserted_id or result.modified_count) else None


def search_users(q: str | None, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Directory users matching `q` (name, description or address), by serial, a page at a time."""
    query: dict[str, Any] = {}
    if q:
        query["searchKey"] = {"$regex": re.escape(q.lower())}
    if after:
        query["serialNumber"] = {"$gt": after}
    docs = list(
        store.db()
        .directory_users.find(query, {"_id": 0, "searchKey": 0, "updatedAt": 0, "contentHash": 0})
        .sort("serialNumber", ASCENDING)
        .limit(limit + 1)
    )
    next_cursor = docs[limit - 1]["serialNumber"] if len(docs) > limit else None
    return docs[:limit], next_cursor


def quorum_changed(ok: bool) -> bool:
    """Record whether the RAIDA network has its quorum; True when that differs from the last
    record (or there was none): the moment to announce it."""
    from pymongo.errors import DuplicateKeyError

    try:
        result = store.db().settings.update_one(
            {"_id": "raida_quorum", "ok": {"$ne": ok}}, {"$set": {"ok": ok, "since": utcnow()}}, upsert=True
        )
    except DuplicateKeyError:  # the record exists and already says `ok`
        return False
    return bool(result.upserted_id or result.modified_count)
