"""Login throttling stops attackers, not owners: one address guessing one account is stopped,
one address trying many accounts is stopped, many addresses guessing one account wait longer and
longer, and the owner, from an address that has not failed, always gets in."""

from __future__ import annotations

import pytest

import store.users as users
from api import create_app, login_guard
from core.settings import get_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def admin(store_db):
    users.create("admin", PASSWORD, "admin")
    return "admin"


def tune(app, **changes):
    app.config["SYNCQ_SETTINGS"] = app.config["SYNCQ_SETTINGS"].replace(**changes)


def login(client, password, address, username="admin", **headers):
    return client.post(
        "/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def test_the_owner_gets_in_from_another_address_while_one_address_guesses(client, admin):
    # The reported attack: five wrong passwords from one address locked the owner out everywhere.
    codes = [login(client, f"guess{i}", "203.0.113.7").status_code for i in range(7)]
    assert codes == [401] * 5 + [429, 429]
    blocked = login(client, PASSWORD, "203.0.113.7")  # that address may not try this account now
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 300
    assert blocked.get_json() == {"statusCode": 429, "message": "Too many failed login attempts; try again later"}
    owner = login(client, PASSWORD, "198.51.100.20")
    assert owner.status_code == 200 and owner.get_json()["token_type"] == "Bearer"


def test_one_address_trying_many_accounts_is_stopped(app, client, store_db):
    tune(app, login_address_max_attempts=6)
    codes = [login(client, "x", "203.0.113.9", username=f"user{i}").status_code for i in range(8)]
    assert codes == [401] * 6 + [429, 429]
    users.create("other", PASSWORD, "user")
    assert login(client, PASSWORD, "203.0.113.9", username="other").status_code == 429
    assert login(client, PASSWORD, "198.51.100.1", username="other").status_code == 200


def test_many_addresses_guessing_one_account_wait_longer_and_longer(app, client, admin):
    tune(app, login_max_attempts=5, login_delay_base=10, login_delay_max=100)
    bots = [f"203.0.113.{i}" for i in range(1, 11)]
    assert [login(client, "guess", bot).status_code for bot in bots[:5]] == [401] * 5  # each one guess
    again = login(client, "guess", bots[0])  # an address that has failed waits the account's delay
    assert again.status_code == 429 and 5 <= int(again.headers["Retry-After"]) <= 10
    assert login(client, "guess", bots[5]).status_code == 401  # a new address: one guess, then...
    longer = login(client, "guess", bots[5])
    assert longer.status_code == 429 and 10 < int(longer.headers["Retry-After"]) <= 20  # ...it doubled
    assert login(client, "guess", bots[6]).status_code == 401
    assert 20 < int(login(client, "guess", bots[1]).headers["Retry-After"]) <= 40
    # The owner, from an address that has not failed, is not slowed at all.
    assert login(client, PASSWORD, "198.51.100.20").status_code == 200


def test_the_delay_is_capped(app, client, admin):
    tune(app, login_max_attempts=2, login_delay_base=10, login_delay_max=15)
    for bot in range(6):
        login(client, "guess", f"203.0.113.{bot}")
    assert int(login(client, "guess", "203.0.113.0").headers["Retry-After"]) <= 15


def test_the_owners_typo_is_forgotten_once_they_get_in(client, admin):
    for _ in range(4):
        assert login(client, "typo", "198.51.100.20").status_code == 401
    assert login(client, PASSWORD, "198.51.100.20").status_code == 200
    assert login(client, "typo", "198.51.100.20").status_code == 401  # a fresh count, not the fifth strike


def test_with_redis_down_logins_still_work(client, admin, monkeypatch):
    import redis

    def down(*_args, **_kwargs):
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(login_guard, "get_redis", down)
    monkeypatch.setattr(login_guard, "script", down)
    assert login(client, "guess", "203.0.113.7").status_code == 401
    assert login(client, PASSWORD, "203.0.113.7").status_code == 200


def test_behind_trusted_proxies_each_client_has_its_own_count(store_db, admin):
    app = create_app(get_settings().replace(trusted_proxies=1))
    client = app.test_client()
    login_guard.reset(app.config["SYNCQ_SETTINGS"])
    proxy = "10.0.0.2"  # every request comes from the proxy, naming its client
    for i in range(5):
        assert login(client, f"guess{i}", proxy, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 401
    assert login(client, PASSWORD, proxy, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert login(client, PASSWORD, proxy, **{"X-Forwarded-For": "198.51.100.20"}).status_code == 200


def test_without_trusted_proxies_a_client_cannot_name_its_own_address(client, admin):
    for i in range(5):
        assert login(client, f"guess{i}", "203.0.113.7", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code == 401
    assert login(client, PASSWORD, "203.0.113.7", **{"X-Forwarded-For": "192.0.2.99"}).status_code == 429
