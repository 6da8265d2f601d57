"""The `users` collection: API accounts with scrypt password hashes."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from werkzeug.security import check_password_hash, generate_password_hash

import store
from store.util import utcnow

ROLES = ("admin", "user")
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
    doc = {
        "username": username,
        "password_hash": generate_password_hash(password, method="scrypt"),
        "role": role,
        "created_at": utcnow(),
    }
    try:
        store.db().users.insert_one(doc)
    except DuplicateKeyError:
        raise UserExists(username) from None
    return doc


def get(username: str) -> dict[str, Any] | None:
    """The user, or None."""
    return store.db().users.find_one({"username": username}, {"password_hash": 0})


def authenticate(username: str, password: str) -> dict[str, Any] | None:
    """The user if the password matches, else None (constant work either way)."""
    doc = store.db().users.find_one({"username": username})
    if doc is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return doc if check_password_hash(doc["password_hash"], password) else None


def delete(username: str) -> bool:
    """Delete a user (their tokens stop working at once); True if there was one."""
    return store.db().users.delete_one({"username": username}).deleted_count == 1


def token_version(user: dict[str, Any]) -> int:
    """The version a token of `user` must carry to be valid (moved on to end the tokens issued before)."""
    return int(user.get("token_version", 0))


def end_tokens(username: str) -> bool:
    """End every token of `username` issued until now (a logout); True if the user exists."""
    return store.db().users.update_one({"username": username}, {"$inc": {"token_version": 1}}).matched_count == 1


def set_password(username: str, password: str) -> bool:
    """Replace a user's password, ending the tokens issued before; True if the user exists."""
    result = store.db().users.update_one(
        {"username": username},
        {"$set": {"password_hash": generate_password_hash(password, method="scrypt")}, "$inc": {"token_version": 1}},
    )
    return result.matched_count == 1


def set_role(username: str, role: str) -> bool:
    """Change a user's role, ending the tokens issued before when it changes (a token never
    outlives the role it was issued for); True if the user exists."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    changed = store.db().users.update_one(
        {"username": username, "role": {"$ne": role}}, {"$set": {"role": role}, "$inc": {"token_version": 1}}
    )
    return changed.matched_count == 1 or get(username) is not None
