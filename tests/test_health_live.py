"""Source health through the real path: API -> worker -> simulator -> store, read back over HTTP."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sources(client) -> dict:
    r = client.get("/health")
    assert r.status_code == 200
    return r.get_json()["sources"]


def runs_total(client, headers, source: str, result: str) -> float:
    text = client.get("/metrics", headers=headers).get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "syncq_sync_runs_total" and sample.labels == {"source": source, "result": result}:
                return sample.value
    return 0.0


def test_a_sync_all_makes_every_platform_ok_and_says_so(client, admin_headers, worker, simulator):
    before = runs_total(client, admin_headers, "atcoder", "ok")
    r = client.post("/contests/sync/all?wait=60", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    shown = {p["platform"]: p["health"] for p in client.get("/platforms").get_json()["platforms"]}
    assert shown == {"codeforces": "ok", "leetcode": "ok", "codechef": "ok", "atcoder": "ok"}
    changes = client.get("/events?type=source.health_changed", headers=admin_headers).get_json()["events"]
    assert sorted(e["data"]["source"] for e in changes) == ["atcoder", "codechef", "codeforces", "leetcode"]
    assert runs_total(client, admin_headers, "atcoder", "ok") == before + 1


def test_a_platform_that_keeps_failing_is_failing_and_the_api_stays_live(client, admin_headers, worker, simulator):
    simulator.set_fault("leetcode", "500")
    for _ in range(3):
        body = client.post("/contests/sync/leetcode?wait=60", headers=admin_headers).get_json()
        assert body["failed"] == 1
    state = sources(client)["leetcode"]
    assert state["health"] == "failing" and "HTTP 500" in state["reason"]


def test_the_raida_network_and_the_students_have_their_health(client, admin_headers, worker, simulator):
    assert client.post("/api/admin/sync?wait=60", headers=admin_headers).status_code == 200
    # Light students (20-50 submissions each): the health is what is tested, not the store's speed
    # on thousands of submissions, which late in a long session took this sync past its 60 s.
    for handle in ("light_0001", "light_0002"):
        r = client.post(
            "/api/students",
            headers=admin_headers,
            json={"name": handle, "email": f"{handle}@example.com", "codeforcesHandle": handle},
        )
        assert r.status_code == 201
    r = client.post("/api/students/sync?wait=60", headers=admin_headers)
    assert r.status_code == 200 and r.get_json()["synced"] == 2, r.get_json()
    shown = sources(client)
    assert shown["raida"]["health"] == "ok" and shown["students"]["health"] == "ok"
    import store.health as health_store

    assert health_store.recent_runs("students")[0]["items"] == 2
    assert health_store.recent_runs("raida")[0]["items"] > 25
