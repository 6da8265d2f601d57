"""syncq's MongoDB store: the only code that talks to pymongo.

One `MongoClient` per process (re-made after a fork, as pymongo requires), indexes
created once per process and database (idempotent), and one function per operation
the API and the workers need, in the submodules (`store.jobs`, `store.users`, ...).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError  # noqa: F401
from pymongo.uri_parser import parse_uri

from core.settings import get_settings

DEFAULT_DB = "syncq"

_lock = threading.Lock()
_client: MongoClient | None = None
_client_pid: int | None = None
_uri: str | None = None
_db_name: str | None = None
_indexed: set[tuple[str, str]] = set()
_index_makers: list[Callable[[Database], None]] = []

# Errors that mean "the store is unreachable right now" (the API answers 503 for them).
UNAVAILABLE = (ConnectionFailure, ServerSelectionTimeoutError)


def index_maker(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a function that creates one collection's indexes (run once per database)."""
    _index_makers.append(fn)
    return fn


def configure(uri: str | None = None, db_name: str | None = None) -> None:
    """Point the store at `uri` / `db_name` (tests, the launcher); None means the settings."""
    global _uri, _db_name, _client
    with _lock:
        if uri is not None and uri != _uri:
            if _client is not None:
                _client.close()
            _client = None
        _uri = uri
        _db_name = db_name


def _current_uri() -> str:
    return _uri or get_settings().mongodb_uri


def client() -> MongoClient:
    """The process's MongoClient (made lazily; a forked child makes its own)."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is not None and _client_pid == pid:
        return _client
    with _lock:
        if _client is None or _client_pid != pid:
            timeout = get_settings().store_timeout_ms
            _client = MongoClient(
                _current_uri(),
                tz_aware=True,
                connect=False,
                serverSelectionTimeoutMS=timeout,
                connectTimeoutMS=timeout,
                socketTimeoutMS=max(timeout * 6, 30000),
                appname="syncq",
            )
            _client_pid = pid
        return _client


def database_name() -> str:
    """The database in use: the configured name, else the URI's path, else `syncq`."""
    if _db_name:
        return _db_name
    return _database_in(_current_uri())


@functools.lru_cache(maxsize=16)
def _database_in(uri: str) -> str:
    # Parsed once per URI: every store call asks, and parsing was a tenth of a cached GET /jobs/<id>.
    return parse_uri(uri).get("database") or DEFAULT_DB


# The Database handle last made, with what it was made from: every store call asks for it, and
# making one (pymongo copies the client's codec, read and write options) cost more than a cached
# job read itself.
_database: tuple[MongoClient, str, str, Database] | None = None


def db() -> Database:
    """The syncq database, with every registered index created on first use."""
    global _database
    mongo, uri, name = client(), _current_uri(), database_name()
    made = _database
    if made is not None and made[0] is mongo and made[1] == uri and made[2] == name:
        return made[3]
    database = mongo[name]
    if (uri, name) not in _indexed:
        ensure_indexes(database)
        _indexed.add((uri, name))
    _database = (mongo, uri, name, database)
    return database


def ensure_indexes(database: Database | None = None) -> None:
    """Create every collection's indexes; safe to run any number of times."""
    # Import the modules that register index makers, so none is missed.
    from store import contests, events, health, jobs, raida, stats, students, users, webhooks  # noqa: F401

    database = database if database is not None else client()[database_name()]
    for make in _index_makers:
        make(database)


def ping() -> None:
    """Raise if MongoDB does not answer."""
    client().admin.command("ping")


def reset_after_fork() -> None:
    """Drop the inherited client in a forked child (Celery prefork)."""
    global _client, _client_pid
    _client = None
    _client_pid = None
