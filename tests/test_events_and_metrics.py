"""`GET /events` (the event log) and `GET /metrics` (Prometheus, admin token only)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

import syncs.events  # noqa: F401  (records emitted events, as the worker and the API do)
from core import metrics, signals

# --- /events ------------------------------------------------------------------------------------


def test_every_emitted_event_is_recorded_and_listed_newest_first(client, admin_headers):
    signals.emit("contest.created", {"platform": "codeforces", "platformId": "1"})
    signals.emit("source.health_changed", {"source": "leetcode", "old": "ok", "new": "failing", "reason": "r"})
    r = client.get("/events", headers=admin_headers)
    assert r.status_code == 200
    body = r.get_json()
    assert [e["type"] for e in body["events"]] == ["source.health_changed", "contest.created"]
    assert body["events"][0]["data"]["new"] == "failing" and body["events"][0]["at"].endswith("Z")
    assert body["count"] == 2 and body["next_cursor"] is None


def test_events_filter_by_type(client, admin_headers):
    for n in range(3):
        signals.emit("job.failed", {"n": n})
        signals.emit("source.health_changed", {"source": f"s{n}"})
    body = client.get("/events?type=job.failed", headers=admin_headers).get_json()
    assert [e["data"]["n"] for e in body["events"]] == [2, 1, 0]
    assert client.get("/events?type=no.such.type", headers=admin_headers).get_json()["events"] == []


def test_events_page_with_a_cursor_without_losing_or_repeating_any(client, admin_headers):
    for n in range(7):
        signals.emit("job.failed", {"n": n})
    seen, cursor = [], None
    while True:
        url = "/events?type=job.failed&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=admin_headers).get_json()
        seen += [e["data"]["n"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [6, 5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "cursor=nope", "type=$where", "type=" + "a" * 65])
def test_bad_event_queries_are_400(client, admin_headers, query):
    r = client.get(f"/events?{query}", headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["statusCode"] == 400


def test_events_require_an_admin(client, user_token):
    assert client.get("/events").get_json() == {"statusCode": 401, "message": "Unauthorized"}
    r = client.get("/events", headers={"Authorization": f"Bearer {user_token}"})
    assert r.status_code == 403


def test_an_event_the_store_cannot_keep_never_fails_the_code_that_emitted_it(store_db):
    signals.emit("odd.event", {"value": {1, 2}})  # a set: BSON cannot encode it
    assert store_db.events.count_documents({"type": "odd.event"}) == 0


# --- /metrics -----------------------------------------------------------------------------------


def scrape(client, admin_headers) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    r = client.get("/metrics", headers=admin_headers)
    assert r.status_code == 200 and r.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_need_an_admin_token(client, user_token):
    r = client.get("/metrics")
    assert r.status_code == 401 and r.get_json() == {"statusCode": 401, "message": "Unauthorized"}
    assert client.get("/metrics", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {user_token}"}).status_code == 403


def test_a_sync_changes_what_the_scrape_shows(client, admin_headers, monkeypatch):
    from syncs.contests import sync_platform as sync_platform_once
    from tests.contest_stubs import DOWN, install

    stubs = install(monkeypatch)
    before = scrape(client, admin_headers)
    sync_platform_once("codeforces")
    stubs["atcoder"].error = DOWN
    sync_platform_once("atcoder")
    after = scrape(client, admin_headers)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("syncq_sync_runs_total", source="codeforces", result="ok") == 1
    assert delta("syncq_sync_runs_total", source="atcoder", result="failed") == 1
    assert delta("syncq_sync_items_total", source="codeforces") == 5
    assert delta("syncq_sync_duration_seconds_count", source="codeforces") == 1
    assert after[("syncq_source_health", (("health", "ok"), ("source", "codeforces")))] == 1
    assert after[("syncq_source_health", (("health", "unknown"), ("source", "codeforces")))] == 0
    assert ("syncq_source_health", (("health", "ok"), ("source", "codeforces"))) not in before or before[
        ("syncq_source_health", (("health", "ok"), ("source", "codeforces")))
    ] == 0
    assert after[("syncq_source_consecutive_failures", (("source", "atcoder"),))] == 1
    assert ("syncq_source_last_success_timestamp_seconds", (("source", "codeforces"),)) in after
    assert ("syncq_source_last_success_timestamp_seconds", (("source", "atcoder"),)) not in after
    assert after[("syncq_source_last_run_items", (("outcome", "ok"), ("source", "codeforces")))] == 5
    assert after[("syncq_source_last_run_duration_seconds", (("source", "atcoder"),))] >= 0
    queue = os.environ["SYNCQ_QUEUE"]
    assert after[("syncq_queue_length", (("queue", queue),))] >= 0


def test_rate_limit_waits_and_task_retries_are_counted(client, admin_headers):
    from celery.signals import task_retry

    from adapters.ratelimit import RateLimiter
    from workers.contests import sync_platform

    key = f"syncq:test:ratelimit:{uuid.uuid4().hex[:8]}"
    before = scrape(client, admin_headers)
    limiter = RateLimiter(key, rate=50, burst=1)
    limiter.acquire(), limiter.acquire()  # the second waits for its slot
    task_retry.send(sender=sync_platform, request=None, reason="store unavailable", einfo=None)
    after = scrape(client, admin_headers)
    assert after[("syncq_rate_limit_wait_seconds_count", (("limiter", key),))] == 2
    assert after[("syncq_rate_limit_wait_seconds_sum", (("limiter", key),))] > 0
    retries = ("syncq_task_retries_total", (("task", "syncq.contests.sync_platform"),))
    assert after[retries] - before.get(retries, 0) == 1


def test_queue_lengths_are_read_from_redis_at_scrape_time(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    queue = f"syncq-test-queue-{uuid.uuid4().hex[:8]}"
    client.rpush(queue, "a", "b")
    client.rpush(metrics.queue_keys(queue)[2], "c")  # a message of priority 6
    try:
        collector = metrics.QueueCollector(lambda: client, lambda: [queue])
        text = metrics.scrape(collector).decode()
    finally:
        client.delete(*metrics.queue_keys(queue))
    lengths = {
        s.labels.get("queue"): s.value
        for f in text_string_to_metric_families(text)
        if f.name == "syncq_queue_length"
        for s in f.samples
    }
    assert lengths == {queue: 3}


def test_the_scrape_sums_what_every_process_counted(tmp_path):
    here, there = tmp_path / "api", tmp_path / "worker"  # one host's processes, and another container's
    count = textwrap.dedent("""
        from core import metrics
        metrics.SYNC_RUNS.labels("raida", "ok").inc()
        metrics.SYNC_DURATION.labels("raida").observe(1.5)
    """)
    for directory in (here, here, there):
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(here), "SYNCQ_METRICS_DIRS": str(there)}
    serve = (
        "from core import metrics, settings; "
        "print(metrics.scrape(other_dirs=settings.get_settings().metrics_dirs).decode())"
    )
    served = subprocess.run(
        [sys.executable, "-c", serve], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(served)
        for s in f.samples
    }
    assert samples[("syncq_sync_runs_total", (("result", "ok"), ("source", "raida")))] == 3
    assert samples[("syncq_sync_duration_seconds_sum", (("source", "raida"),))] == 4.5
    assert samples[("syncq_sync_duration_seconds_bucket", (("le", "2.5"), ("source", "raida")))] == 3
