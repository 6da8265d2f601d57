"""The OpenAPI document is true to the routes, and every route survives a schemathesis fuzz."""

from __future__ import annotations

import re
import threading

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from api import create_app
from api.openapi import document

SCHEMA = schemathesis.openapi.from_dict(document(create_app()))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_document_lists_exactly_the_routes_the_app_serves(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule == "/apidoc/openapi.json":  # the document itself, again
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {(path, method) for path, ops in document(app)["paths"].items() for method in ops}
    assert documented == served


def test_the_document_is_made_from_the_schemas_that_validate_requests(app, client):
    from api.schemas import StudentsQuery

    operation = document(app)["paths"]["/api/students"]["get"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    declared = StudentsQuery.model_fields["limit"].metadata
    assert dict(_bounds(limit["schema"])) == {"minimum": 1, "maximum": 200}
    assert any(getattr(m, "le", None) == 200 for m in declared)
    body = document(app)["paths"]["/api/students"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].startswith("#/components/schemas/StudentIn")
    r = client.get("/contests?limit=0")
    assert r.status_code == 400 and r.get_json() == {
        "statusCode": 400,
        "message": r.get_json()["message"],
        "field": "limit",
    }


def _bounds(schema: dict) -> dict:
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "integer":
            return {k: option[k] for k in ("minimum", "maximum") if k in option}
    return {}


@pytest.mark.parametrize(
    "path, answer",
    [
        ("/contests/sync/all", "SyncAllResult"),
        ("/contests/sync/{platform}", "PlatformResult"),
        ("/api/codeforces/sync/{handle}", "StudentDocument"),
        ("/api/admin/sync", "RaidaResult"),
    ],
)
def test_each_trigger_documents_its_body_its_answer_modes_and_their_headers(app, path, answer):
    operation = document(app)["paths"][path]["post"]
    assert any(p["in"] == "header" and p["name"] == "prefer" for p in operation["parameters"])
    assert all(mode in operation["description"] for mode in ("respond-async", "wait=N", "SYNCQ_SYNC_WAIT"))
    ok, accepted = operation["responses"]["200"], operation["responses"]["202"]
    assert ok["content"]["application/json"]["schema"]["$ref"].startswith(f"#/components/schemas/{answer}")
    assert set(accepted["headers"]) == {"Location", "Retry-After", "Preference-Applied"}
    assert "Preference-Applied" in ok["headers"]


def test_polling_a_job_documents_prefer_wait(app):
    operation = document(app)["paths"]["/jobs/{job_id}"]["get"]
    assert any(p["in"] == "header" and p["name"] == "prefer" for p in operation["parameters"])
    assert set(operation["responses"]["202"]["headers"]) == {"Retry-After", "Preference-Applied"}


def test_openapi_json_is_served(client):
    body = client.get("/openapi.json").get_json()
    assert body["openapi"].startswith("3.") and "/contests/sync/all" in body["paths"]


@pytest.fixture()
def live_api(app, monkeypatch, admin_token, celery_app_under_test):
    import store.jobs as jobs_store
    from jobs import service as jobs

    # Fuzzed triggers are recorded but not run (no sync against the real services), and a
    # fuzzed ?wait= must not hold each case for a minute.
    monkeypatch.setattr(jobs, "dispatch", lambda signature: None)
    monkeypatch.setattr(jobs, "wait_for", lambda job_id, timeout: jobs_store.get(job_id))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", {"Authorization": f"Bearer {admin_token}"}
    server.shutdown()
    from core.redisconn import get_redis

    for key in get_redis().scan_iter("syncq:guard:*"):  # the fuzz's jobs never end: free their guards
        get_redis().delete(key)


@pytest.mark.slow
@SCHEMA.parametrize()
@hypothesis.settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_every_route_survives_fuzzing(case, live_api):
    base_url, headers = live_api
    case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
