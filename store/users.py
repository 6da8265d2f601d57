"""The `users` collection: API accounts with scrypt password hashes."""

from __future__ import annotations

import json
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from werkzeug.security import check_password_hash, generate_password_hash

import store
from store.util import utcnow
from syncq import nearcache
from syncq.nearcache import NearCache
from core.redisconn import UNAVAILABLE as REDIS_UNAVAILABLE
from core.redisconn import get_redis

ROLES = ("admin", "user")
# Every request's token is checked against its user; the user's public fields are kept in
# Redis this long, so that the check costs no store call. `delete` drops them at once; a
# lookup racing a delete could re-cache the user, for at most this long.
CACHE_SECONDS = 60
# ...and in each API process's memory this long (syncq.nearcache: `delete` drops it there too).
_near = NearCache(max_age=5.0)
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class UserExists(Exception):
    """A user with that name already exists."""


@store.index_maker
def _indexes(database: Database) -> None:
    database.users.create_index("username", unique=True)


def create(username: str, password: str, role: str = "user") -> dict[str, Any]:
    """Create a user with a scrypt hash; UserExists if the name is taken."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    doc = {"username": username, "password_hash": generate_password_hash(password, method="scrypt"),
           "role": role, "created_at": utcnow()}
    try:
        store.db().users.insert_one(doc)
    except DuplicateKeyError:
        raise UserExists(username) from None
    return doc


def get(username: str) -> dict[str, Any] | None:
    """The user, or None."""
    return store.db().users.find_one({"username": username}, {"password_hash": 0})


def _cache_key(username: str) -> str:
    # Per database: deployments (and test runs) sharing one Redis keep their users apart.
    return f"syncq:user:{store.db().name}:{username}"


def get_cached(username: str) -> dict[str, Any] | None:
    """The user's `username` and `role` (from this process's memory or Redis when cached
    there), or None."""
    key = _cache_key(username)
    known = _near.get(key)
    if known is not None:
        return dict(known)
    generation = nearcache.generation()
    try:
        client = get_redis()
        cached = client.get(key)
    except REDIS_UNAVAILABLE:
        return get(username)  # the store alone answers while Redis is away
    if cached:
        user = json.loads(cached)
        _near.put(key, user, generation)
        return dict(user)
    doc = get(username)
    if doc is not None:
        user = {"username": doc["username"], "role": doc["role"]}
        try:
            client.set(key, json.dumps(user), ex=CACHE_SECONDS)
        except REDIS_UNAVAILABLE:
            pass
        _near.put(key, user, generation)
    return doc


def _forget(username: str) -> None:
    key = _cache_key(username)
    _near.drop(key)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.delete(key)
        nearcache.forget(pipe, key)  # and from every process's memory
        pipe.execute()
    except REDIS_UNAVAILABLE:
        pass  # nothing was cached while Redis is away; what was expires in CACHE_SECONDS


def authenticate(username: str, password: str) -> dict[str, Any] | None:
    """The user if the password matches, else None (constant work either way)."""
    doc = store.db().users.find_one({"username": username})
    if doc is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return doc if check_password_hash(doc["password_hash"], password) else None


def delete(username: str) -> bool:
    """Delete a user (their tokens stop working at once); True if there was one."""
    deleted = store.db().users.delete_one({"username": username}).deleted_count == 1
    _forget(username)
    return deleted


def set_password(username: str, password: str) -> bool:
    """Replace a user's password; True if the user exists."""
    result = store.db().users.update_one(
        {"username": username},
        {"$set": {"password_hash": generate_password_hash(password, method="scrypt")}})
    return result.matched_count == 1
