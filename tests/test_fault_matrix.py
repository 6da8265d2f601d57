"""Platform fault matrix: every source, every fault; retried when transient, isolated when
not, stored data never lost or blanked, the other platforms unaffected, every error says what."""

from __future__ import annotations

import pytest

from syncs.contests import sync_platform as sync_platform_once

pytestmark = pytest.mark.slow

# (source, platform it feeds, simulator fault, expected: the error names this / None = no error)
FAULTS = {
    "timeout": "timed out",
    "500": "HTTP 500",
    "429": "HTTP 429",
    "html": "HTML page",
    "truncated": "truncated JSON",
    "wrong_shape": None,  # the platform-specific message is checked below
    "empty": None,  # an empty list is a valid answer: nothing new, nothing lost
    "absurd": None,  # absurd items are skipped and counted
}
SHAPE_ERRORS = {
    "codeforces": "envelope",
    "leetcode": "allContests",
    "codechef": "status",
    "kenkoooo": "kenkoooo",
    "atcoder": "contest tables",
}
# The AtCoder page is HTML to begin with: a wrong page says its tables are missing, and a
# page cut in half still yields the rows before the cut.
OVERRIDES = {("atcoder", "html"): "contest tables", ("atcoder", "truncated"): None}
SOURCES = [
    ("codeforces", "codeforces"),
    ("leetcode", "leetcode"),
    ("codechef", "codechef"),
    ("kenkoooo", "atcoder"),
    ("atcoder", "atcoder"),
]


@pytest.fixture()
def fast_timeouts(monkeypatch, simulator):
    from core.settings import reload_settings

    monkeypatch.setenv("SYNCQ_HTTP_TIMEOUT", "0.3")
    monkeypatch.setenv("SYNCQ_HTTP_RETRIES", "1")
    reload_settings()
    return simulator


@pytest.mark.parametrize("source,platform", SOURCES)
def test_every_fault_of_one_source(source, platform, fast_timeouts, store_db):
    sim = fast_timeouts
    baseline = sync_platform_once(platform)
    assert baseline["failed"] in (0, 1)  # codechef's feed carries one malformed item
    stored = store_db.contests.count_documents({"platform": platform})
    other = "codechef" if platform != "codechef" else "leetcode"
    for mode, says in FAULTS.items():
        says = OVERRIDES.get((source, mode), says)
        sim.reset()
        sim.set_fault(source, mode)
        result = sync_platform_once(platform)
        requests = [e for e in sim.log() if e["service"] == source]
        # When allContests fails LeetCode asks the fallback's first query (topTwoContests), which meets
        # the same fault, unless LeetCode refused us as a bot (an HTML page): two queries, each as below.
        queries = 2 if source == "leetcode" and mode != "html" else 1
        if mode in ("timeout", "500", "429"):  # transient: retried (SYNCQ_HTTP_RETRIES=1 -> 2 tries)
            assert len(requests) == 2 * queries, (mode, requests)
        elif mode in ("html", "truncated", "wrong_shape"):  # permanent: asked once
            assert len(requests) == queries, (mode, requests)
        if says:
            assert says in result.get("error", "") or any(says in f["reason"] for f in result.get("failures", [])), (
                mode,
                result,
            )
            assert result["failed"] >= 1
        if mode == "wrong_shape":
            text = result.get("error", "") + " ".join(f["reason"] for f in result.get("failures", []))
            assert SHAPE_ERRORS[source] in text, result
        if mode == "absurd":
            assert result["failed"] >= 1 and result["synced"] == 0, result
        if mode == "empty":
            assert result["synced"] == 0 and result["updated"] == 0
        # Nothing stored is ever lost or blanked, whatever came back.
        assert store_db.contests.count_documents({"platform": platform}) == stored, mode
        assert store_db.contests.count_documents({"platform": platform, "name": {"$in": [None, ""]}}) == 0
        # The other platforms are unaffected.
        assert "error" not in sync_platform_once(other), (mode, other)
