"""Store helpers: updates read back without find_one_and_update (a collection scan on SecantusDB);
the embedded store's mode."""

from __future__ import annotations

from pathlib import Path

from store.util import update_then_read

ROOT = Path(__file__).resolve().parent.parent


def test_update_then_read_returns_the_document_with_the_update_applied(store_db):
    store_db.things.insert_many([{"_id": "a", "n": 1, "tags": []}, {"_id": "b", "n": 5, "tags": []}])
    doc = update_then_read(store_db.things, {"_id": "a"}, {"$inc": {"n": 2}, "$addToSet": {"tags": "x"}})
    assert doc == {"_id": "a", "n": 3, "tags": ["x"]}
    assert store_db.things.find_one({"_id": "b"})["n"] == 5  # only the named document changed


def test_update_then_read_projects_and_answers_none_when_nothing_matched(store_db):
    store_db.things.insert_one({"_id": "a", "n": 1, "guard": "g"})
    assert update_then_read(store_db.things, {"_id": "a"}, {"$set": {"n": 2}}, {"guard": 1}) == {
        "_id": "a",
        "guard": "g",
    }
    assert update_then_read(store_db.things, {"_id": "missing"}, {"$set": {"n": 2}}) is None
    assert store_db.things.count_documents({}) == 1  # no upsert


def test_no_store_code_calls_find_one_and_update():
    # SecantusDB (the embedded store and the tests') answers it by scanning the collection:
    # 80 ms a call once 10,000 jobs are kept, on every step of every sync.
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("store", "workers", "api", "syncq")
        for path in (ROOT / folder).rglob("*.py")
        if "find_one_and_update(" in path.read_text()
    ]
    assert offenders == []


def test_the_embedded_store_runs_standalone_so_writes_keep_no_oplog(store_db):
    # As a replica set it would write an oplog entry for every document (change streams syncq
    # never opens): 8-17% of its CPU on a bulk insert.
    import os

    from syncq.embedded import secantus_argv

    if os.environ.get("SYNCQ_TEST_MONGODB_URI"):
        assert "--standalone" in secantus_argv("127.0.0.1", 1, ":memory:")
        return
    hello = store_db.client.admin.command("hello")
    assert "setName" not in hello and hello["isWritablePrimary"]
    store_db.things.insert_one({"_id": "a"})
    assert store_db.client.local.oplog.rs.count_documents({"o._id": "a"}) == 0
