"""Errors are JSON everywhere; Redis or MongoDB being down gives 503, never a stack trace."""

from __future__ import annotations

import pytest

from core.settings import ConfigError, Settings
from syncq.embedded import free_port


def test_unknown_route_is_json_404(client):
    r = client.get("/no/such/route")
    assert r.status_code == 404 and r.get_json() == {"statusCode": 404, "message": "Not found"}


def test_wrong_method_is_json_405(client):
    r = client.delete("/health")
    assert r.status_code == 405 and r.get_json()["statusCode"] == 405 and "GET" in r.headers["Allow"]


def test_oversized_body_is_413(client):
    r = client.post("/auth/login", data="x" * (70 * 1024), content_type="application/json")
    assert r.status_code == 413 and r.get_json()["statusCode"] == 413


def test_health_ok(client):
    r = client.get("/health")
    body = r.get_json()
    assert r.status_code == 200 and {k: body[k] for k in ("status", "redis", "mongodb")} == {
        "status": "ok",
        "redis": "ok",
        "mongodb": "ok",
    }
    assert body["sources"]["codeforces"]["health"] == "unknown"  # never synced yet


@pytest.fixture()
def redis_down(monkeypatch, celery_app_under_test):
    """Point the API's Redis, and the connection jobs are sent over, at a port where no Redis listens."""
    from core.settings import reload_settings
    from jobs import service

    bad = f"redis://127.0.0.1:{free_port()}/0"
    good = celery_app_under_test.conf.broker_url
    monkeypatch.setenv("SYNCQ_REDIS_URL", bad)
    reload_settings()

    def dispatch_to_nowhere(signature):
        with celery_app_under_test.connection_for_write(bad) as connection:
            signature.apply_async(connection=connection)

    monkeypatch.setattr(service, "dispatch", dispatch_to_nowhere)
    yield
    monkeypatch.setenv("SYNCQ_REDIS_URL", good)
    reload_settings()


def test_enqueue_with_redis_down_is_503_and_the_job_records_why(client, admin_headers, store_db, redis_down):
    r = client.post("/jobs/ping", headers=admin_headers)
    assert r.status_code == 503
    assert r.get_json()["statusCode"] == 503 and "Redis" in r.get_json()["message"]
    failed = store_db.jobs.find_one({"kind": "ping"})
    assert failed["state"] == "FAILURE" and "broker" in failed["error"]


def test_health_names_redis_when_it_is_down(client, redis_down):
    r = client.get("/health")
    assert r.status_code == 503 and r.get_json()["redis"].startswith("down")
    assert r.get_json()["mongodb"] == "ok" and "redis" in r.get_json()["message"]


def test_store_down_is_503_for_reads(client, admin_headers):
    import store

    store.configure(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true&serverSelectionTimeoutMS=300", "x")
    r = client.get("/jobs", headers=admin_headers)
    assert r.status_code in (401, 503)  # the user lookup itself needs the store
    assert r.status_code == 503 and r.get_json()["message"].startswith("MongoDB")
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["mongodb"].startswith("down")


def test_api_refuses_to_start_without_a_jwt_secret():
    from api import create_app

    with pytest.raises(ConfigError, match="SYNCQ_JWT_SECRET is not set"):
        create_app(Settings(jwt_secret=""))


def test_api_refuses_a_short_jwt_secret():
    from api import create_app

    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app(Settings(jwt_secret="short"))


@pytest.mark.parametrize("path", ["/auth/login", "/api/students"])
def test_json_nested_too_deep_for_the_parser_is_a_400_not_a_500(client, admin_headers, path):
    deep = "[" * 30000 + "]" * 30000  # 60 KB: under the body limit, over the parser's stack
    r = client.post(path, data=deep, content_type="application/json", headers=admin_headers)
    assert r.status_code == 400 and r.get_json()["statusCode"] == 400, r.get_data(as_text=True)[:200]


def test_an_oversized_body_is_413_even_where_the_route_reads_no_body(client, admin_headers, store_db):
    r = client.post(
        "/contests/sync/all", data="x" * (200 * 1024), content_type="application/octet-stream", headers=admin_headers
    )
    assert r.status_code == 413 and r.get_json()["statusCode"] == 413
    assert store_db.jobs.count_documents({}) == 0  # refused before anything was enqueued
