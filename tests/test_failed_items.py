"""Failed items say why: a platform's result keeps the first 20 as `{"platformId", "reason"}`,
beside an exact `failed` count."""

from __future__ import annotations

import httpx

from syncs.contests import sync_platform as sync_platform_once


def test_malformed_items_are_kept_with_their_ids_and_reasons_and_counted_exactly(simulator, store_db):
    ids = [c["id"] for c in httpx.get(f"{simulator.url}/codeforces/api/contest.list").json()["result"][:25]]
    for cid in ids:
        httpx.post(f"{simulator.url}/_sim/contests/codeforces/{cid}", json={"phase": "SOON"}).raise_for_status()
    result = sync_platform_once("codeforces")
    assert result["failed"] == 25 and result["synced"] == 2000 - 25
    assert len(result["failures"]) == 20
    assert all(set(f) == {"platformId", "reason"} for f in result["failures"])
    assert result["failures"][0] == {"platformId": str(ids[0]), "reason": "unknown phase 'SOON'"}
    assert [f["platformId"] for f in result["failures"]] == [str(i) for i in ids[:20]]
    # The platform's record keeps the same result (GET /platforms shows it as lastResult).
    assert store_db.platforms.find_one({"_id": "codeforces"})["lastResult"]["failures"] == result["failures"]


def test_an_item_without_an_id_is_named_in_its_reason(simulator, store_db):
    result = sync_platform_once("codechef")  # the simulator lists one contest without a code
    assert result["failed"] == 1
    assert result["failures"] == [
        {"platformId": None, "reason": "bad contest_code None (item named 'Practice (no code)')"}
    ]
