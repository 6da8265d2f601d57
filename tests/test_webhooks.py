"""Webhooks end to end: HTTP API -> event -> real worker -> a receiver that verifies signatures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

import store.contests as contests_store
from core.signals import emit
from store.util import utcnow
from syncs import webhooks as domain
from tests.contest_stubs import contest, install
from tests.procs import wait_until
from tests.webhook_receiver import receiver, tune, webhook_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("webhook_env")


def add(client, headers, url, events, **extra):
    r = client.post("/api/webhooks", headers=headers, json={"url": url, "events": events, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def verified(endpoint, request) -> dict:
    """The request's payload, checked by the Standard Webhooks library (raises if forged)."""
    return Webhook(endpoint["secret"]).verify(request["body"], request["headers"])


def deliveries(client, headers, endpoint_id, **params):
    r = client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=headers, query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["deliveries"]


def settled(client, headers, endpoint_id, count=1):
    """The endpoint's deliveries once `count` of them are no longer pending."""
    return wait_until(
        lambda: (lambda d: d if len([x for x in d if x["status"] != "pending"]) >= count else None)(
            deliveries(client, headers, endpoint_id)
        ),
        40,
        "deliveries to settle",
    )


def test_a_test_event_arrives_signed_and_is_logged(client, admin_headers, worker, receiver):
    endpoint = add(client, admin_headers, receiver.url, ["job.failed"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    assert endpoint["leadMinutes"] == [60, 10]
    r = client.post(f"/api/webhooks/{endpoint['id']}/test", headers=admin_headers)
    assert r.status_code == 202 and r.get_json()["status"] == "pending"
    [request] = receiver.wait_for(1)
    payload = verified(endpoint, request)
    assert payload["type"] == "webhook.test" and payload["data"]["endpointId"] == endpoint["id"]
    assert request["headers"]["webhook-id"].startswith("msg_") and request["path"] == "/hooks"
    [delivery] = settled(client, admin_headers, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["statusCode"] == 200
    assert delivery["latencyMs"] >= 0 and delivery["lastError"] is None
    assert delivery["messageId"] == request["headers"]["webhook-id"]


def test_a_forged_signature_fails_verification(client, admin_headers, worker, receiver):
    endpoint = add(client, admin_headers, receiver.url, ["job.failed"])
    client.post(f"/api/webhooks/{endpoint['id']}/test", headers=admin_headers)
    [request] = receiver.wait_for(1)
    other = Webhook(domain.new_secret())
    with pytest.raises(Exception, match="signature"):
        other.verify(request["body"], request["headers"])
    tampered = request["body"].replace("webhook.test", "webhook.tset")
    with pytest.raises(Exception, match="signature"):
        verified(endpoint, {**request, "body": tampered})


def test_failed_attempts_are_retried_with_backoff_until_delivered(client, admin_headers, worker, receiver):
    endpoint = add(client, admin_headers, receiver.url, ["job.failed"])
    receiver.statuses = [500, 503]
    emit("job.failed", {"job_id": "j1", "kind": "contests.sync_all", "error": "boom"})
    first, second, third = receiver.wait_for(3)
    assert {r["headers"]["webhook-id"] for r in (first, second, third)} == {first["headers"]["webhook-id"]}
    for request in (first, second, third):  # each attempt is signed afresh
        assert verified(endpoint, request)["data"] == {"job_id": "j1", "kind": "contests.sync_all", "error": "boom"}
    # Exponential: at least 0.2 s, then at least 0.4 s between attempts.
    assert second["at"] - first["at"] >= 0.2 and third["at"] - second["at"] >= 0.4
    [delivery] = settled(client, admin_headers, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [h["statusCode"] for h in delivery["history"]] == [500, 503, 200]
    assert delivery["history"][0]["error"] == "HTTP 500: nope"
    assert client.get(f"/api/webhooks/{endpoint['id']}", headers=admin_headers).get_json()["failingSince"] is None


def test_an_endpoint_failing_past_the_window_is_disabled_and_says_so(
    client, admin_headers, worker, receiver, webhook_env
):
    tune(webhook_env, disable_after="1", backoff_base="0.3", backoff_max="0.5")
    endpoint = add(client, admin_headers, receiver.url, ["job.failed", "source.health_changed"])
    receiver.always = 500
    emit("job.failed", {"job_id": "j2"})
    [delivery] = settled(client, admin_headers, endpoint["id"])
    assert delivery["status"] == "failed" and delivery["lastError"].endswith("endpoint disabled")
    assert delivery["attempts"] >= 3 and len(receiver.requests) == delivery["attempts"]
    shown = client.get(f"/api/webhooks/{endpoint['id']}", headers=admin_headers).get_json()
    assert shown["enabled"] is False and shown["disabledAt"]
    assert shown["disabledReason"].startswith("disabled after failing since") and "HTTP 500" in shown["disabledReason"]
    listed = client.get("/api/webhooks", headers=admin_headers).get_json()["webhooks"]
    assert listed[0]["enabled"] is False and "secret" not in listed[0]
    # Disabled: new events are not recorded for it, and a test event is refused with the reason.
    seen = len(receiver.requests)
    emit("source.health_changed", {"platform": "leetcode", "health": "down"})
    assert len(deliveries(client, admin_headers, endpoint["id"])) == 1
    r = client.post(f"/api/webhooks/{endpoint['id']}/test", headers=admin_headers)
    assert r.status_code == 409 and "disabled after failing" in r.get_json()["message"]
    # Re-enabled by an operator once the receiver is fixed: delivered again.
    receiver.always = None
    r = client.patch(f"/api/webhooks/{endpoint['id']}", headers=admin_headers, json={"enabled": True})
    assert r.get_json()["enabled"] is True and r.get_json()["disabledReason"] is None
    assert client.post(f"/api/webhooks/{endpoint['id']}/test", headers=admin_headers).status_code == 202
    receiver.wait_for(seen + 1)
    assert settled(client, admin_headers, endpoint["id"], 2)[0]["status"] == "delivered"


def test_a_message_is_given_up_after_the_retry_window(client, admin_headers, worker, receiver, webhook_env):
    tune(webhook_env, retry_window="1", backoff_base="0.3", backoff_max="0.5")
    endpoint = add(client, admin_headers, receiver.url, ["job.failed"])
    receiver.always = 502
    emit("job.failed", {"job_id": "j3"})
    [delivery] = settled(client, admin_headers, endpoint["id"])
    assert delivery["status"] == "failed" and "gave up after" in delivery["lastError"]
    assert delivery["attempts"] >= 2 and len(receiver.requests) == delivery["attempts"]
    assert client.get(f"/api/webhooks/{endpoint['id']}", headers=admin_headers).get_json()["enabled"] is True


def test_endpoints_get_only_the_events_they_asked_for(client, admin_headers, worker, receiver):
    wants = add(client, admin_headers, receiver.url, ["raida.quorum_lost"])
    add(client, admin_headers, receiver.url.replace("/hooks", "/other"), ["student.inactive"])
    emit("raida.quorum_lost", {"ready": 3, "needed": 13})
    [request] = receiver.wait_for(1)
    assert verified(wants, request)["type"] == "raida.quorum_lost" and request["path"] == "/hooks"
    settled(client, admin_headers, wants["id"])
    assert len(receiver.requests) == 1


def test_a_contest_sync_announces_created_updated_and_cancelled_contests(
    client, admin_headers, worker, receiver, monkeypatch
):
    stubs = install(monkeypatch)
    soon = utcnow() + timedelta(days=3)
    stubs["codeforces"].contests = [
        contest(
            "codeforces",
            n,
            phase="UPCOMING",
            startTime=soon + timedelta(days=n),
            endTime=soon + timedelta(days=n, hours=2),
        )
        for n in range(3)
    ]
    stubs["codeforces"].contests.append(contest("codeforces", 7))  # finished long ago: no news
    endpoint = add(client, admin_headers, receiver.url, ["contest.created", "contest.updated", "contest.cancelled"])
    assert client.post("/contests/sync/codeforces?wait=30", headers=admin_headers).status_code == 200
    created = [verified(endpoint, r) for r in receiver.wait_for(3)]
    assert sorted(p["data"]["platformId"] for p in created) == ["co0", "co1", "co2"]
    assert {p["type"] for p in created} == {"contest.created"}
    assert created[0]["data"]["startTime"].endswith("Z")
    # co1 moves by an hour, co2 disappears before it started, co0 is untouched.
    moved = soon + timedelta(days=1, hours=1)
    stubs["codeforces"].contests[1] = contest(
        "codeforces", 1, phase="UPCOMING", startTime=moved, endTime=moved + timedelta(hours=2)
    )
    del stubs["codeforces"].contests[2]
    assert client.post("/contests/sync/codeforces?wait=30", headers=admin_headers).status_code == 200
    updated = verified(endpoint, receiver.wait_for(4)[3])
    assert updated["type"] == "contest.updated" and updated["data"]["platformId"] == "co1"
    assert set(updated["data"]["changes"]) == {"startTime"}
    assert updated["data"]["changes"]["startTime"]["to"].startswith(moved.strftime("%Y-%m-%dT%H:%M"))
    # Missing from a second complete list in a row: co2 is cancelled (kept, never deleted).
    assert client.post("/contests/sync/codeforces?wait=30", headers=admin_headers).status_code == 200
    cancelled = verified(endpoint, receiver.wait_for(5)[4])
    assert cancelled["type"] == "contest.cancelled" and cancelled["data"]["platformId"] == "co2"
    assert contests_store.get_contest("codeforces", "co2")["phase"] == "CANCELLED"
    # The same list again: nothing new to say.
    assert client.post("/contests/sync/codeforces?wait=30", headers=admin_headers).status_code == 200
    settled(client, admin_headers, endpoint["id"], 5)
    assert len(receiver.requests) == 5


def test_starting_soon_is_sent_once_per_lead_time(client, admin_headers, worker, receiver, store_db):
    from workers.webhooks import deliver, scan

    now = utcnow()
    contests_store.upsert_contests(
        "atcoder",
        [
            contest("atcoder", 1, phase="UPCOMING", startTime=now + timedelta(minutes=30)).to_doc(),
            contest("atcoder", 2, phase="UPCOMING", startTime=now + timedelta(minutes=5)).to_doc(),
            contest("atcoder", 3, phase="UPCOMING", startTime=now + timedelta(hours=5)).to_doc(),
        ],
    )
    endpoint = add(client, admin_headers, receiver.url, ["contest.starting_soon"], leadMinutes=[10, 60])
    assert endpoint["leadMinutes"] == [60, 10]
    scan.delay()  # what beat runs each minute
    first = {p["data"]["platformId"]: p["data"] for p in (verified(endpoint, r) for r in receiver.wait_for(2))}
    # at2 is within both lead times: one message, at the shorter one.
    assert first["at1"]["leadMinutes"] == 60 and first["at2"]["leadMinutes"] == 10
    assert 29 <= first["at1"]["minutesLeft"] <= 30
    assert domain.starting_soon(now) == []  # each lead time is sent once
    for delivery_id in domain.starting_soon(now + timedelta(minutes=21)):  # at1 is now 9 minutes away
        deliver.delay(delivery_id)
    third = verified(endpoint, receiver.wait_for(3)[2])
    assert third["type"] == "contest.starting_soon" and third["data"]["platformId"] == "at1"
    assert third["data"]["leadMinutes"] == 10
    assert domain.starting_soon(now + timedelta(minutes=22)) == []
    settled(client, admin_headers, endpoint["id"], 3)
    assert len(receiver.requests) == 3


def test_raida_quorum_lost_is_announced_once_per_loss(client, admin_headers, worker, receiver):
    from syncs.announce import announce_quorum

    endpoint = add(client, admin_headers, receiver.url, ["raida.quorum_lost"])
    assert announce_quorum(20, 13, 25) is False
    assert announce_quorum(5, 13, 25) is True
    assert announce_quorum(4, 13, 25) is False  # still lost: not news
    payload = verified(endpoint, receiver.wait_for(1)[0])
    assert payload["type"] == "raida.quorum_lost" and payload["data"]["ready"] == 5
    assert announce_quorum(14, 13, 25) is False and announce_quorum(2, 13, 25) is True


@pytest.mark.parametrize(
    "body, message",
    [
        ({"events": ["job.failed"]}, "'url' is required"),
        ({"url": "ftp://example.com/x", "events": ["job.failed"]}, "http:// or https://"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, "'events' must be a non-empty list"),
        ({"url": "http://127.0.0.1:9/x", "events": ["contest.exploded"]}, "unknown events contest.exploded"),
        ({"url": "http://127.0.0.1:9/x", "events": ["job.failed"], "leadMinutes": [0]}, "'leadMinutes'"),
        ({"url": "http://127.0.0.1:9/x", "events": ["job.failed"], "secret": "hunter2"}, "starts with whsec_"),
        ({"url": "http://127.0.0.1:9/x", "events": ["job.failed"], "colour": "red"}, "Unknown fields colour"),
        ({"url": {"$gt": ""}, "events": ["job.failed"]}, "'url' must be a string"),
    ],
)
def test_bad_endpoints_are_400_naming_the_problem(client, admin_headers, body, message):
    r = client.post("/api/webhooks", headers=admin_headers, json=body)
    assert r.status_code == 400 and message in r.get_json()["message"], r.get_json()
    assert client.get("/api/webhooks", headers=admin_headers).get_json()["count"] == 0


def test_endpoints_are_admin_only_and_can_be_changed_and_deleted(client, admin_headers, user_token):
    assert client.get("/api/webhooks").status_code == 401
    assert client.get("/api/webhooks", headers={"Authorization": f"Bearer {user_token}"}).status_code == 403
    secret = domain.new_secret()
    endpoint = add(client, admin_headers, "http://127.0.0.1:9/a", ["job.failed"], secret=secret, description="ops")
    assert endpoint["secret"] == secret and endpoint["description"] == "ops"
    r = client.patch(
        f"/api/webhooks/{endpoint['id']}",
        headers=admin_headers,
        json={"events": ["contest.created", "contest.created"], "leadMinutes": [15]},
    )
    assert r.status_code == 200 and r.get_json()["events"] == ["contest.created"]
    assert r.get_json()["leadMinutes"] == [15] and r.get_json()["url"] == "http://127.0.0.1:9/a"
    assert client.delete(f"/api/webhooks/{endpoint['id']}", headers=admin_headers).status_code == 200
    for method in ("get", "patch", "delete"):
        r = getattr(client, method)(f"/api/webhooks/{endpoint['id']}", headers=admin_headers, json={})
        assert r.status_code == 404 and json.loads(r.data)["message"] == f"No webhook endpoint {endpoint['id']}"
    assert client.get("/api/webhooks/nope/deliveries", headers=admin_headers).status_code == 404


def test_a_raida_sync_that_loses_the_quorum_announces_it(client, admin_headers, worker, receiver, monkeypatch):
    import adapters.http
    from core.settings import reload_settings
    from tests.fake_raida import TEMPLATE, FakeNetwork

    fake = FakeNetwork()
    monkeypatch.setattr(adapters.http, "default_async_transport", fake.transport())
    monkeypatch.setenv("SYNCQ_RAIDA_URL_TEMPLATE", TEMPLATE)
    monkeypatch.setenv("SYNCQ_RAIDA_TIMEOUT", "0.3")
    monkeypatch.setenv("SYNCQ_RAIDA_ECHO", "http")  # the fake network answers the legacy JSON echo
    reload_settings()
    endpoint = add(client, admin_headers, receiver.url, ["raida.quorum_lost"])
    assert client.post("/api/admin/sync?wait=30", headers=admin_headers).status_code == 200
    for i in range(14):
        fake.mode[i] = "down"
    assert client.post("/api/admin/sync?wait=30", headers=admin_headers).status_code == 502
    payload = verified(endpoint, receiver.wait_for(1)[0])
    assert payload["type"] == "raida.quorum_lost"
    assert (payload["data"]["ready"], payload["data"]["needed"], payload["data"]["count"]) == (11, 13, 25)
    assert client.post("/api/admin/sync?wait=30", headers=admin_headers).status_code == 502  # still lost
    settled(client, admin_headers, endpoint["id"])
    assert len(receiver.requests) == 1


def test_a_delivery_whose_task_was_lost_is_sent_by_the_scan(client, admin_headers, worker, receiver, store_db):
    from workers.webhooks import scan

    endpoint = add(client, admin_headers, receiver.url, ["job.failed"])
    # Recorded but never enqueued (what a broker outage between the two leaves behind).
    [delivery_id] = domain.publish("job.failed", {"job_id": "lost"})
    store_db.webhook_deliveries.update_one(
        {"_id": delivery_id}, {"$set": {"nextAttemptAt": utcnow() - timedelta(minutes=10)}}
    )
    scan.delay()
    assert verified(endpoint, receiver.wait_for(1)[0])["data"] == {"job_id": "lost"}
    [delivery] = settled(client, admin_headers, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
