"""The OpenAPI 3 document of the API, served at `GET /openapi.json` (kept true by a test)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from core import __version__

bp = Blueprint("openapi", __name__)

ERROR = {"type": "object", "required": ["statusCode", "message"],
         "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}}}
OBJECT = {"type": "object"}
ENVELOPE = {"type": "object", "required": ["job_id", "kind", "state"],
            "properties": {"job_id": {"type": "string"}, "kind": {"type": "string"},
                           "state": {"type": "string", "enum": ["PENDING", "STARTED", "PROGRESS", "RETRY",
                                                                "SUCCESS", "FAILURE"]}}}
HANDLE = {"name": "handle", "in": "path", "required": True, "schema": {"type": "string"}}
WAIT = {"name": "wait", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 60}}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}
CURSOR = {"name": "cursor", "in": "query", "schema": {"type": "string"}}


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "JSON", "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(ERROR, "error") for code in codes}


def op(summary: str, ok: dict[str, Any], *, admin: bool = False, params: list | None = None,
       body: dict | None = None, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    """One operation: its success responses, its parameters and every error it may answer."""
    codes = set(errors) | {400, 503, 500} | ({401, 403} if admin else set())
    responses = {**_errors(*sorted(codes)), **ok}
    operation: dict[str, Any] = {"summary": summary, "responses": responses, "parameters": params or []}
    if admin:
        operation["security"] = [{"bearer": []}]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        responses.update(_errors(413))
    return operation


def trigger(summary: str, params: list | None = None, failure: tuple[int, ...] = ()) -> dict[str, Any]:
    """A job trigger: 202 with the envelope, or with `?wait=` the job's own result."""
    ok = {"202": _json(ENVELOPE, "queued"), "200": _json(OBJECT, "finished (with ?wait=)")}
    ok.update(_json_errors(failure))
    return {"post": op(summary, ok, admin=True, params=[WAIT, *(params or [])], errors=(404,))}


def _json_errors(codes: tuple[int, ...]) -> dict[str, Any]:
    return {str(code): _json(OBJECT, "the job failed (with ?wait=)") for code in codes}


STUDENT_BODY = {"type": "object", "required": ["name", "email", "codeforcesHandle"],
                "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                               "phone": {"type": "string"}, "codeforcesHandle": {"type": "string"}}}

FORMAT = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}
SCHEDULE_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
SCHEDULE_BODY = {"type": "object", "properties": {
    "cron": {"type": "string"}, "interval": {"type": "integer", "minimum": 1},
    "timezone": {"type": "string"}, "enabled": {"type": "boolean"}}}


def _json_or_csv(description: str = "JSON, or CSV with ?format=csv") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": OBJECT},
                                                     "text/csv": {"schema": {"type": "string"}}}}


PATHS: dict[str, dict[str, Any]] = {
    "/auth/login": {"post": op("Log in", {"200": _json(OBJECT, "token")}, errors=(401, 429),
                               body={"type": "object", "required": ["username", "password"],
                                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}})},
    "/health": {"get": op("Health of Redis and MongoDB, and of each source", {"200": _json(OBJECT)})},
    "/openapi.json": {"get": op("This document", {"200": _json(OBJECT)})},
    "/jobs": {"get": op("Recent jobs", {"200": _json(OBJECT)}, admin=True,
                        params=[{"name": "kind", "in": "query", "schema": {"type": "string"}}, LIMIT])},
    "/jobs/{job_id}": {"get": op("One job", {"200": _json(OBJECT), "202": _json(OBJECT, "still running"),
                                             **_json_errors((500, 502))}, admin=True,
                                 params=[{"name": "job_id", "in": "path", "required": True,
                                          "schema": {"type": "string"}}, WAIT], errors=(404,))},
    "/jobs/ping": {"post": op("A trivial job", {"202": _json(ENVELOPE), "200": _json(OBJECT)}, admin=True,
                              params=[WAIT], errors=(404,))},
    "/jobs/{job_id}/retry": {"post": op("Re-run a finished job", {"202": _json(ENVELOPE), "200": _json(OBJECT),
                                                                 **_json_errors((500, 502))}, admin=True,
                                        params=[{"name": "job_id", "in": "path", "required": True,
                                                 "schema": {"type": "string"}}, WAIT], errors=(404, 409))},
    "/contests/sync/all": trigger("Sync every platform"),
    "/contests/sync/{platform}": trigger("Sync one platform", [{"name": "platform", "in": "path", "required": True,
                                                                "schema": {"type": "string"}}]),
    "/contests.ics": {"get": op("The contest calendar (iCalendar)", {
        "200": {"description": "RFC 5545 calendar", "content": {"text/calendar": {"schema": {"type": "string"}}}},
        "304": {"description": "unchanged since the ETag sent in If-None-Match"}}, params=[
        {"name": "platform", "in": "query", "schema": {"type": "string"}},
        {"name": "phase", "in": "query", "schema": {"type": "string"}},
        {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}], errors=(404,))},
    "/contests": {"get": op("Contests by start time", {"200": _json_or_csv()}, params=[FORMAT,
        {"name": "platform", "in": "query", "schema": {"type": "string"}},
        {"name": "phase", "in": "query", "schema": {"type": "string"}},
        {"name": "from", "in": "query", "schema": {"type": "string"}},
        {"name": "to", "in": "query", "schema": {"type": "string"}}, LIMIT, CURSOR], errors=(404,))},
    "/contests/{platform}/{platform_id}": {"get": op("One contest", {"200": _json(OBJECT)}, params=[
        {"name": "platform", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "platform_id", "in": "path", "required": True, "schema": {"type": "string"}}], errors=(404,))},
    "/platforms": {"get": op("Platforms, their last sync and their health", {"200": _json(OBJECT)})},
    "/events": {"get": op("The event log, newest first", {"200": _json(OBJECT)}, admin=True, params=[
        {"name": "type", "in": "query", "schema": {"type": "string"}}, LIMIT, CURSOR])},
    "/metrics": {"get": op("Prometheus metrics", {"200": {"description": "Prometheus text format", "content": {
        "text/plain": {"schema": {"type": "string"}}}}}, admin=True)},
    "/api/students": {
        "post": op("Create a student", {"201": _json(OBJECT)}, admin=True, body=STUDENT_BODY, errors=(409,)),
        "get": op("Students", {"200": _json_or_csv()}, admin=True, params=[FORMAT,
            {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["name", "rating"]}},
            {"name": "inactiveDays", "in": "query", "schema": {"type": "integer", "minimum": 0}}, LIMIT, CURSOR])},
    "/api/students/sync": trigger("Background sync of every student"),
    "/api/students/{handle}": {
        "get": op("One student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,)),
        "patch": op("Change a student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,),
                    body={"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                                                           "phone": {"type": "string"},
                                                           "reminders": {"type": "boolean"}}}),
        "delete": op("Delete a student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,))},
    "/api/students/{handle}/submissions": {"get": op("A student's submissions", {"200": _json(OBJECT)}, admin=True,
                                                     params=[HANDLE, {"name": "verdict", "in": "query",
                                                                      "schema": {"type": "string"}}, LIMIT, CURSOR],
                                                     errors=(404,))},
    "/api/codeforces/sync/{handle}": trigger("Sync one student", [HANDLE, {"name": "full", "in": "query",
                                                                           "schema": {"type": "string"}}],
                                             failure=(500,)),
    "/api/schedules": {"get": op("Beat schedule entries", {"200": _json(OBJECT)}, admin=True)},
    "/api/schedules/{name}": {
        "get": op("One beat schedule entry", {"200": _json(OBJECT)}, admin=True, params=[SCHEDULE_NAME], errors=(404,)),
        "patch": op("Change a beat schedule entry", {"200": _json(OBJECT)}, admin=True, params=[SCHEDULE_NAME],
                    errors=(404,), body=SCHEDULE_BODY)},
    "/api/schedules/{name}/run": trigger("Run a schedule entry's job now", [SCHEDULE_NAME]),
    "/api/admin/sync": trigger("Sync from the RAIDA network", failure=(502,)),
    "/api/data/servers": {"get": op("QMail servers", {"200": _json(OBJECT)}, params=[
        {"name": "include_unavailable", "in": "query", "schema": {"type": "string"}}])},
    "/api/data/raida": {"get": op("The RAIDA servers", {"200": _json(OBJECT)})},
    "/api/data/users": {"get": op("Search the directory", {"200": _json(OBJECT)},
                                  params=[{"name": "q", "in": "query", "schema": {"type": "string"}}, LIMIT, CURSOR])},
    "/api/admin/servers/parity": {
        "get": op("The parity server", {"200": _json(OBJECT)}, admin=True),
        "post": op("Set the parity server", {"200": _json(OBJECT)}, admin=True, errors=(404,),
                   body={"type": "object", "required": ["server_id"], "properties": {"server_id": {"type": "string"}}})},
    # The web UI (api/ui.py): HTML, scripts and styles, not JSON; its own page is /ui/.
    "/": {"get": {"summary": "Redirects to the web UI", "parameters": [],
                  "responses": {"302": {"description": "to /ui/"}}}},
    "/ui/": {"get": {"summary": "The web UI", "parameters": [],
                     "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}},
    "/ui/config.json": {"get": op("What the web UI reads from the settings", {"200": _json(OBJECT)})},
    "/ui/{filename}": {"get": {"summary": "A static file of the web UI", "responses": {
        "200": {"description": "the file"}, **_errors(404)},
        "parameters": [{"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}]}},
}

WEBHOOK_ID = {"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string"}}
WEBHOOK_BODY = {"type": "object", "properties": {
    "url": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}},
    "leadMinutes": {"type": "array", "items": {"type": "integer"}}, "description": {"type": "string"},
    "secret": {"type": "string"}, "enabled": {"type": "boolean"}}}
PATHS.update({
    "/api/webhooks": {
        "post": op("Add a webhook endpoint", {"201": _json(OBJECT)}, admin=True,
                   body={**WEBHOOK_BODY, "required": ["url", "events"]}),
        "get": op("Webhook endpoints", {"200": _json(OBJECT)}, admin=True)},
    "/api/webhooks/{endpoint_id}": {
        "get": op("One webhook endpoint", {"200": _json(OBJECT)}, admin=True, params=[WEBHOOK_ID], errors=(404,)),
        "patch": op("Change a webhook endpoint", {"200": _json(OBJECT)}, admin=True, params=[WEBHOOK_ID],
                    errors=(404,), body=WEBHOOK_BODY),
        "delete": op("Delete a webhook endpoint", {"200": _json(OBJECT)}, admin=True, params=[WEBHOOK_ID],
                     errors=(404,))},
    "/api/webhooks/{endpoint_id}/deliveries": {"get": op(
        "A webhook endpoint's deliveries", {"200": _json(OBJECT)}, admin=True, errors=(404,), params=[
            WEBHOOK_ID, {"name": "status", "in": "query",
                         "schema": {"type": "string", "enum": ["pending", "delivered", "failed"]}}, LIMIT])},
    "/api/webhooks/{endpoint_id}/test": {"post": op("Send a test event", {"202": _json(OBJECT)}, admin=True,
                                                    params=[WEBHOOK_ID], errors=(404, 409))},
})


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {"openapi": "3.0.3", "info": {"title": "syncq", "version": __version__},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "paths": PATHS}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of every route."""
    return jsonify(document())
