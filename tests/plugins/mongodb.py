"""The store: a MongoDB wire server for the session (`SYNCQ_TEST_MONGODB_URI`, else one SecantusDB
process, `:memory:`), and a database of its own for every test that asks for `store_db`."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

import store
from syncq.embedded import start_secantus
from tests.plugins.redis_db import clear_guards


@pytest.fixture(scope="session")
def mongo_uri():
    """A MongoDB wire server for the whole session (SecantusDB unless one is given)."""
    given = os.environ.get("SYNCQ_TEST_MONGODB_URI")
    if given:
        yield given
        return
    server = start_secantus(":memory:")
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture()
def store_db(mongo_uri, redis_url):
    """A fresh database of this test's own, set as the store's database (the worker's too); its
    guards and the database are dropped afterwards (the `worker` fixture settles jobs first)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    store.configure(mongo_uri, name)
    os.environ["SYNCQ_MONGODB_URI"] = mongo_uri
    database = store.db()
    yield database
    clear_guards(redis.Redis.from_url(redis_url))
    try:
        store.client().drop_database(name)
    except Exception:  # a test that stopped the store must not fail the teardown
        pass
