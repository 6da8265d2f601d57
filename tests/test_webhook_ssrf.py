"""Webhook targets inside our network are refused: by address, by a name resolving inside (checked
after resolution, and again at each delivery), and through redirects (never followed)."""

from __future__ import annotations

import pytest

from adapters import webhooks as target
from core.settings import reload_settings
from tests.procs import wait_until
from tests.webhook_receiver import Receiver, receiver, tune, webhook_env  # noqa: F401 (fixtures)

INSIDE = {
    "inside.example": ["10.0.0.7"],
    "meta.example": ["169.254.169.254"],
    "home.example": ["127.0.0.1"],
    "mixed.example": ["93.184.216.34", "192.168.1.20"],
    "v6.example": ["fd00::1"],
    "public.example": ["93.184.216.34"],
}


def first_attempted(client, headers, endpoint_id):
    """The endpoint's newest delivery once its first attempt is recorded, else None."""
    delivery = client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=headers).get_json()["deliveries"][0]
    return delivery if delivery["history"] else None


@pytest.fixture()
def names(monkeypatch):
    """A resolver of our own (the test process may not use DNS): `INSIDE`, changeable per test."""
    table = {k: list(v) for k, v in INSIDE.items()}

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:  # the system's (tests may look up loopback names only)
            return target.system_resolve(host, port)
        return table[host]

    monkeypatch.setattr(target, "resolver", resolve)
    return table


@pytest.fixture()
def strict(monkeypatch):
    """SYNCQ_WEBHOOK_ALLOW_PRIVATE off (before the app reads its settings)."""
    monkeypatch.setenv("SYNCQ_WEBHOOK_ALLOW_PRIVATE", "false")
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://172.16.0.1/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://100.64.0.1/hook", "non-global"),
        ("http://inside.example/hook", "private"),
        ("http://meta.example/hook", "link-local"),
        ("http://home.example:8000/hook", "loopback"),
        ("http://mixed.example/hook", "private"),
        ("http://v6.example/hook", "private"),
    ],
)
def test_targets_inside_are_refused_when_the_endpoint_is_added(strict, names, client, admin_headers, url, kind):
    r = client.post("/api/webhooks", headers=admin_headers, json={"url": url, "events": ["job.failed"]})
    assert r.status_code == 400, r.get_json()
    message = r.get_json()["message"]
    assert message.startswith("'url' is refused") and f"is not a public address ({kind})" in message
    assert client.get("/api/webhooks", headers=admin_headers).get_json()["count"] == 0


def test_a_name_resolving_outside_is_accepted_and_one_that_does_not_resolve_is_400(
    strict, names, client, admin_headers
):
    ok = client.post(
        "/api/webhooks", headers=admin_headers, json={"url": "https://public.example/hook", "events": ["job.failed"]}
    )
    assert ok.status_code == 201
    r = client.post(
        "/api/webhooks", headers=admin_headers, json={"url": "http://nowhere.example/hook", "events": ["job.failed"]}
    )
    assert r.status_code == 400 and "cannot resolve nowhere.example" in r.get_json()["message"]
    r = client.patch(
        f"/api/webhooks/{ok.get_json()['id']}", headers=admin_headers, json={"url": "http://inside.example/hook"}
    )
    assert r.status_code == 400 and "10.0.0.7" in r.get_json()["message"]


def test_a_name_that_later_resolves_inside_is_refused_at_delivery(
    strict, names, client, admin_headers, worker, receiver
):
    names["rebind.example"] = ["93.184.216.34"]  # public when the endpoint is added...
    r = client.post(
        "/api/webhooks",
        headers=admin_headers,
        json={"url": f"http://rebind.example:{receiver.port}/hooks", "events": ["job.failed"]},
    )
    assert r.status_code == 201
    endpoint_id = r.get_json()["id"]
    names["rebind.example"] = ["127.0.0.1"]  # ...and points at us when it is called
    assert client.post(f"/api/webhooks/{endpoint_id}/test", headers=admin_headers).status_code == 202
    delivery = wait_until(lambda: first_attempted(client, admin_headers, endpoint_id), 30, "the first attempt")
    assert delivery["lastError"].startswith("refused: rebind.example resolves to 127.0.0.1")
    assert delivery["statusCode"] is None and receiver.requests == []


def test_delivery_connects_to_the_address_it_checked(webhook_env, names, client, admin_headers, worker, receiver):
    # Private targets allowed; the name exists only in our resolver. The system resolver is blocked
    # for it in tests, so a second lookup at connect time would fail: the delivery arriving proves
    # syncq connected to the checked address, naming the host in the Host header.
    names["hooks.example"] = ["127.0.0.1"]
    r = client.post(
        "/api/webhooks",
        headers=admin_headers,
        json={"url": f"http://hooks.example:{receiver.port}/hooks", "events": ["job.failed"]},
    )
    assert r.status_code == 201
    client.post(f"/api/webhooks/{r.get_json()['id']}/test", headers=admin_headers)
    [request] = receiver.wait_for(1)
    assert request["headers"]["Host"] == f"hooks.example:{receiver.port}" and request["path"] == "/hooks"


def test_redirects_are_never_followed(webhook_env, client, admin_headers, worker, receiver):
    inside = Receiver()  # where the redirect points
    try:
        receiver.always, receiver.location = 302, inside.url
        tune(webhook_env, retry_window="0")
        r = client.post("/api/webhooks", headers=admin_headers, json={"url": receiver.url, "events": ["job.failed"]})
        endpoint_id = r.get_json()["id"]
        client.post(f"/api/webhooks/{endpoint_id}/test", headers=admin_headers)
        delivery = wait_until(
            lambda: [
                d
                for d in client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=admin_headers).get_json()[
                    "deliveries"
                ]
                if d["status"] == "failed"
            ],
            30,
            "the delivery to fail",
        )[0]
        assert delivery["statusCode"] == 302 and "not followed" in delivery["lastError"]
        assert inside.url in delivery["lastError"]
        assert len(receiver.requests) == 1 and inside.requests == []
    finally:
        inside.close()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "http:///nohost", "http://user:pw@public.example/", "not a url", "file:///etc/passwd"]
)
def test_malformed_or_credentialed_urls_are_refused(names, url):
    with pytest.raises(target.TargetRefused):
        target.check_target(url, allow_private=False)


def test_the_checked_address_is_what_post_connects_to(names):
    checked = target.check_target("https://public.example:8443/x?y=1", allow_private=False)
    assert checked.address == "93.184.216.34" and checked.url.host == "public.example"
    seen = {}

    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(url=str(request.url), host=request.headers["Host"], sni=request.extensions.get("sni_hostname"))
        return httpx.Response(204)

    outcome = target.post(checked, "{}", {"webhook-id": "msg_1"}, timeout=2, transport=httpx.MockTransport(handler))
    assert outcome.ok and outcome.status_code == 204
    assert seen == {"url": "https://93.184.216.34:8443/x?y=1", "host": "public.example:8443", "sni": "public.example"}


@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://[2002:7f00:1::]/hook", "loopback: 6to4 for 127.0.0.1"),
        ("http://[2002:a9fe:a9fe::1]/latest", "link-local: 6to4 for 169.254.169.254"),
        ("http://[2002:0a00:0007::]/hook", "private: 6to4 for 10.0.0.7"),
        ("http://[2001:0:5db8:d822::f5ff:fffe]/hook", "private: Teredo for 10.0.0.1"),
        ("http://[2001:0:7f00:1::5db8:d822]/hook", "loopback: Teredo for 127.0.0.1"),
    ],
)
def test_6to4_and_teredo_addresses_are_judged_by_the_ipv4_they_carry(strict, client, admin_headers, url, kind):
    r = client.post("/api/webhooks", headers=admin_headers, json={"url": url, "events": ["job.failed"]})
    assert r.status_code == 400 and f"is not a public address ({kind})" in r.get_json()["message"], r.get_json()


def test_6to4_and_teredo_addresses_carrying_public_ones_are_accepted():
    for url in ("http://[2002:5db8:d822::1]/hook", "http://[2001:0:5db8:d822::a2fe:fffe]/hook"):
        assert target.check_target(url, allow_private=False).address.startswith("200")
