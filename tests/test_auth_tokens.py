"""Tokens end with what they were issued for: a password change, a role change and a logout end
every token issued before; a token lives at most a day."""

from __future__ import annotations

import pytest

import store.users as users
from core.settings import ConfigError, Settings

PASSWORD = "correct horse battery staple"
UNAUTHORIZED = {"statusCode": 401, "message": "Unauthorized"}


def _login(client, username="admin", password=PASSWORD):
    r = client.post("/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def test_a_password_change_ends_the_tokens_issued_before(client, admin_headers):
    other_device = _login(client)
    assert client.get("/jobs", headers=admin_headers).status_code == 200
    assert users.set_password("admin", "a-new-password-for-admin")
    for headers in (admin_headers, other_device):
        r = client.get("/jobs", headers=headers)
        assert r.status_code == 401 and r.get_json() == UNAUTHORIZED
    assert client.get("/jobs", headers=_login(client, password="a-new-password-for-admin")).status_code == 200


def test_a_role_change_ends_the_tokens_issued_before_and_the_same_role_does_not(client, admin_headers):
    assert users.set_role("admin", "admin")  # unchanged: nothing ends
    assert client.get("/jobs", headers=admin_headers).status_code == 200
    assert users.set_role("admin", "user") and users.set_role("admin", "admin")
    assert client.get("/jobs", headers=admin_headers).status_code == 401
    assert client.get("/jobs", headers=_login(client)).status_code == 200


def test_logout_ends_this_token_and_every_other_of_the_account(client, admin_headers, user_token):
    other_device = _login(client)
    r = client.post("/auth/logout", headers=admin_headers)
    assert r.status_code == 200 and r.get_json() == {"status": "logged_out", "username": "admin"}
    for headers in (admin_headers, other_device):
        assert client.get("/jobs", headers=headers).status_code == 401
        assert client.post("/auth/logout", headers=headers).status_code == 401
    viewer = {"Authorization": f"Bearer {user_token}"}  # another account's token is untouched
    assert client.get("/jobs", headers=viewer).status_code == 403
    assert client.get("/jobs", headers=_login(client)).status_code == 200  # logging in again works


def test_logout_needs_a_token(client):
    r = client.post("/auth/logout")
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_logout_is_in_the_openapi_document(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/auth/logout"]["post"]
    assert "401" in operation["responses"] and "auth" in operation["tags"]


@pytest.mark.parametrize("seconds, ok", [(86400, True), (86401, False), (30 * 86400, False)])
def test_the_token_lifetime_is_at_most_a_day(monkeypatch, seconds, ok):
    monkeypatch.setenv("SYNCQ_JWT_EXPIRES", str(seconds))
    if ok:
        assert Settings.from_env().jwt_expires == seconds
    else:
        with pytest.raises(ConfigError, match="SYNCQ_JWT_EXPIRES"):
            Settings.from_env()


def test_the_cli_makes_no_token_living_longer_than_a_day(capsys):
    from syncq.cli import main, make_token

    with pytest.raises(SystemExit):
        main(["token", "--sub", "ops", "--no-check", "--expires", "86401"])
    assert "at most 86400 seconds" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at most"):
        make_token("ops", "admin", 86401)
