"""Admin auth: every 401 and 403 case answers the documented body, never 422 or 500."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt as pyjwt
import pytest

import store
import store.users as users

UNAUTHORIZED = {"statusCode": 401, "message": "Unauthorized"}
FORBIDDEN = {"statusCode": 403, "message": "Forbidden resource"}
ADMIN_ROUTE = "/jobs"


def _bodies_in_order(response):
    assert list(response.get_json().keys()) == ["statusCode", "message"]
    return response.get_json()


def test_no_token_is_401(client):
    r = client.get(ADMIN_ROUTE)
    assert r.status_code == 401 and _bodies_in_order(r) == UNAUTHORIZED


def test_raw_body_keeps_status_code_first(client):
    r = client.get(ADMIN_ROUTE)
    assert r.data.decode().replace(" ", "").startswith('{"statusCode":401,"message":"Unauthorized"}')


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Token abc",
        "abc.def.ghi",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0",
        "Basic YWRtaW46YWRtaW4=",
    ],
)
def test_malformed_tokens_are_401_not_422(client, header):
    r = client.get(ADMIN_ROUTE, headers={"Authorization": header})
    assert r.status_code == 401 and _bodies_in_order(r) == UNAUTHORIZED


def test_expired_token_is_401(app, client, admin_token):
    from flask_jwt_extended import create_access_token

    with app.app_context():
        token = create_access_token("admin", additional_claims={"role": "admin"}, expires_delta=timedelta(seconds=-5))
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_token_signed_with_another_secret_is_401(client, admin_token):
    forged = pyjwt.encode(
        {
            "sub": "admin",
            "role": "admin",
            "type": "access",
            "fresh": False,
            "jti": "x",
            "iat": int(time.time()),
            "nbf": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        "another-secret-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_alg_none_token_is_401(client, admin_token):
    unsigned = pyjwt.encode(
        {
            "sub": "admin",
            "role": "admin",
            "type": "access",
            "fresh": False,
            "jti": "x",
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        None,
        algorithm="none",
    )
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {unsigned}"})
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_valid_token_without_admin_role_is_403(client, user_token):
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {user_token}"})
    assert r.status_code == 403 and _bodies_in_order(r) == FORBIDDEN


def test_a_user_made_non_admin_loses_admin_routes_at_once(client, admin_headers):
    assert client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 200
    assert users.set_role("admin", "user")  # the role change ends the token issued for the old role
    r = client.get(ADMIN_ROUTE, headers=admin_headers)
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED
    token = client.post(
        "/auth/login", json={"username": "admin", "password": "correct horse battery staple"}
    ).get_json()["access_token"]
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.get_json() == FORBIDDEN


def test_a_token_claiming_admin_for_a_user_who_is_not_gains_nothing(app, client, user_token):
    from flask_jwt_extended import create_access_token

    with app.app_context():  # signed with the right key, for the existing non-admin user "viewer"
        token = create_access_token("viewer", additional_claims={"role": "admin"})
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.get_json() == FORBIDDEN


def test_a_401_names_the_bearer_scheme(client):
    r = client.get(ADMIN_ROUTE)
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_non_admin_cannot_trigger_a_job(client, user_token):
    r = client.post("/jobs/ping", headers={"Authorization": f"Bearer {user_token}"})
    assert r.status_code == 403 and r.get_json() == FORBIDDEN


def test_token_of_a_deleted_user_is_401(client, admin_token):
    assert users.delete("admin")
    r = client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {admin_token}"})
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_a_user_removed_behind_syncqs_back_loses_its_tokens_at_once(client, admin_headers):
    assert client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 200
    store.db().users.delete_many({})  # nothing caches the user: the next request knows
    assert client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 401


def test_an_expired_token_stops_working_on_time(app, client):
    from flask_jwt_extended import create_access_token

    users.create("poller", "correct horse battery staple", "admin")
    with app.app_context():
        token = create_access_token("poller", additional_claims={"role": "admin"}, expires_delta=timedelta(seconds=2))
    expires = pyjwt.decode(token, options={"verify_signature": False})["exp"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ADMIN_ROUTE, headers=headers).status_code == 200
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    r = client.get(ADMIN_ROUTE, headers=headers)
    assert r.status_code == 401 and r.get_json() == UNAUTHORIZED


def test_admin_token_is_accepted(client, admin_headers):
    assert client.get(ADMIN_ROUTE, headers=admin_headers).status_code == 200


def test_login_returns_a_bearer_token_that_works(client, store_db):
    users.create("ops", "s3cret-password", "admin")
    r = client.post("/auth/login", json={"username": "ops", "password": "s3cret-password"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert client.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_login_token_carries_role_claim(client, store_db):
    users.create("viewer2", "s3cret-password", "user")
    token = client.post("/auth/login", json={"username": "viewer2", "password": "s3cret-password"}).get_json()[
        "access_token"
    ]
    claims = pyjwt.decode(token, options={"verify_signature": False})
    assert claims["role"] == "user" and claims["sub"] == "viewer2"


def test_wrong_password_is_401(client, store_db):
    users.create("ops", "s3cret-password", "admin")
    r = client.post("/auth/login", json={"username": "ops", "password": "wrong"})
    assert r.status_code == 401 and r.get_json()["message"] == "Invalid username or password"


def test_password_is_stored_as_scrypt_hash(store_db):
    users.create("ops", "s3cret-password", "admin")
    raw = store_db.users.find_one({"username": "ops"})
    assert raw["password_hash"].startswith("scrypt:") and "s3cret-password" not in raw["password_hash"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": {"$gt": ""}, "password": {"$gt": ""}},
        {"username": "ops"},
        {"username": ["ops"], "password": "x"},
    ],
)
def test_login_rejects_non_string_fields_with_400(client, store_db, body):
    users.create("ops", "s3cret-password", "admin")
    r = client.post("/auth/login", json=body)
    assert r.status_code == 400 and r.get_json()["statusCode"] == 400


def test_login_with_broken_json_is_400(client, store_db):
    r = client.post("/auth/login", data="{not json", content_type="application/json")
    assert r.status_code == 400 and "JSON" in r.get_json()["message"]


def test_passwords_and_the_jwt_secret_never_reach_logs_or_responses(client, store_db, caplog):
    import logging

    from core.settings import get_settings

    secret = get_settings().jwt_secret
    caplog.set_level(logging.DEBUG)
    users.create("ops", "correct-password-123", "admin")
    bodies = [
        client.post("/auth/login", json={"username": "ops", "password": "wrong-password-456"}).data,
        client.post("/auth/login", json={"username": "ops", "password": "correct-password-123"}).data,
        client.post("/auth/login", data="{broken", content_type="application/json").data,
        client.get("/health").data,
        client.get("/jobs").data,
        client.get("/nope").data,
    ]
    text = caplog.text + b"".join(bodies).decode()
    for needle in ("wrong-password-456", "correct-password-123", secret):
        assert needle not in text
