"""Webhook attempts are bounded like every other outside call: a trickling endpoint is cut at the
attempt's deadline, the attempt is recorded as failed with its reason, follows the backoff and
counts toward disabling the endpoint; an attempt that never ended is recorded by the scan, and
the scan gives a message up once its retry window has passed."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded

import store.webhooks as webhooks_store
from adapters import webhooks as target
from core.signals import emit
from store.util import utcnow
from syncs import webhooks as domain
from tests.hostile_server import HostileServer
from tests.procs import wait_until
from tests.webhook_receiver import receiver, tune, webhook_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("webhook_env")


@pytest.fixture()
def hostile():
    with HostileServer(interval=0.5) as server:
        yield server


def _endpoint(client, headers, url):
    r = client.post("/api/webhooks", headers=headers, json={"url": url, "events": ["job.failed"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_500_whose_body_trickles_is_cut_at_the_attempts_deadline(hostile):
    checked = target.check_target(hostile.url("trickle-500"), allow_private=True)
    started = time.monotonic()
    outcome = target.post(checked, "{}", {"webhook-id": "msg_1"}, timeout=1.0)
    assert time.monotonic() - started < 5  # httpx's per-read timeout alone never trips here
    assert not outcome.ok and outcome.error.startswith("timed out: no complete answer within 1 s")


def test_headers_that_trickle_are_cut_too(hostile):
    checked = target.check_target(hostile.url("trickle-headers"), allow_private=True)
    started = time.monotonic()
    outcome = target.post(checked, "{}", {}, timeout=1.0)
    assert time.monotonic() - started < 5 and outcome.error.startswith("timed out")


def test_a_trickling_endpoint_is_failed_backed_off_and_disabled(client, admin_headers, worker, hostile, webhook_env):
    tune(webhook_env, timeout="0.6", disable_after="2", backoff_base="0.2", backoff_max="0.4")
    endpoint = _endpoint(client, admin_headers, hostile.url("trickle-500") + "/hooks")
    emit("job.failed", {"job_id": "slow"})

    def ended():
        [delivery] = client.get(f"/api/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).get_json()[
            "deliveries"
        ]
        return delivery if delivery["status"] != "pending" else None

    delivery = wait_until(ended, 40, "the delivery to end")
    assert delivery["status"] == "failed" and delivery["lastError"].endswith("endpoint disabled")
    assert delivery["attempts"] >= 2 and len(delivery["history"]) == delivery["attempts"]
    assert all(h["error"].startswith("timed out: no complete answer within 0.6 s") for h in delivery["history"])
    shown = client.get(f"/api/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
    assert shown["enabled"] is False and "timed out" in shown["disabledReason"]


def test_an_attempt_stopped_by_the_tasks_time_limit_is_a_failed_attempt(client, admin_headers, monkeypatch):
    endpoint = _endpoint(client, admin_headers, "http://127.0.0.1:9/hooks")
    [delivery_id] = domain.publish("job.failed", {"job_id": "x"})

    def stopped(*_args, **_kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(target, "post", stopped)
    delay = domain.attempt(delivery_id, 1)
    assert delay is not None and delay > 0  # the backoff, as for any failed attempt
    delivery = webhooks_store.get_delivery(delivery_id)
    assert delivery["status"] == "pending" and "time limit" in delivery["lastError"]
    assert webhooks_store.get_endpoint(endpoint["id"])["failingSince"] is not None


def test_the_scan_records_an_attempt_that_never_ended(client, admin_headers, webhook_env):
    tune(webhook_env, retry_window="3600")
    endpoint = _endpoint(client, admin_headers, "http://127.0.0.1:9/hooks")
    [delivery_id] = domain.publish("job.failed", {"job_id": "killed"})
    assert webhooks_store.claim_attempt(delivery_id, 1) is not None  # then the task was killed
    later = utcnow() + domain.OVERDUE_GRACE + timedelta(seconds=5)
    assert domain.overdue(later) == [(delivery_id, 2)]
    delivery = webhooks_store.get_delivery(delivery_id)
    assert delivery["lastError"] == "attempt 1 never ended (its task was killed or lost)"
    assert delivery["history"][-1]["error"] == delivery["lastError"]
    assert webhooks_store.get_endpoint(endpoint["id"])["failingSince"] is not None
    assert domain.overdue(later) == []  # recorded once; the next attempt is in flight


def test_the_scan_gives_a_message_up_after_the_retry_window(client, admin_headers, webhook_env):
    tune(webhook_env, retry_window="600")
    _endpoint(client, admin_headers, "http://127.0.0.1:9/hooks")
    [delivery_id] = domain.publish("job.failed", {"job_id": "old"})  # recorded, its task lost
    assert domain.overdue(utcnow() + domain.OVERDUE_GRACE + timedelta(seconds=5)) == [(delivery_id, 1)]
    assert domain.overdue(utcnow() + timedelta(seconds=601)) == []
    delivery = webhooks_store.get_delivery(delivery_id)
    assert delivery["status"] == "failed" and "the retry window passed" in delivery["lastError"]
