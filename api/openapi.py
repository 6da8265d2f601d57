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

PATHS: dict[str, dict[str, Any]] = {
    "/auth/login": {"post": op("Log in", {"200": _json(OBJECT, "token")}, errors=(401, 429),
                               body={"type": "object", "required": ["username", "password"],
                                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}})},
    "/health": {"get": op("Health of Redis and MongoDB", {"200": _json(OBJECT)})},
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
    "/contests": {"get": op("Contests by start time", {"200": _json(OBJECT)}, params=[
        {"name": "platform", "in": "query", "schema": {"type": "string"}},
        {"name": "phase", "in": "query", "schema": {"type": "string"}},
        {"name": "from", "in": "query", "schema": {"type": "string"}},
        {"name": "to", "in": "query", "schema": {"type": "string"}}, LIMIT, CURSOR], errors=(404,))},
    "/contests/{platform}/{platform_id}": {"get": op("One contest", {"200": _json(OBJECT)}, params=[
        {"name": "platform", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "platform_id", "in": "path", "required": True, "schema": {"type": "string"}}], errors=(404,))},
    "/platforms": {"get": op("Platforms and their last sync", {"200": _json(OBJECT)})},
    "/api/students": {
        "post": op("Create a student", {"201": _json(OBJECT)}, admin=True, body=STUDENT_BODY, errors=(409,)),
        "get": op("Students", {"200": _json(OBJECT)}, admin=True, params=[
            {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["name", "rating", "solved"]}},
            {"name": "inactiveDays", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            {"name": "minRating", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            {"name": "maxRating", "in": "query", "schema": {"type": "integer", "minimum": 0}}, LIMIT, CURSOR])},
    "/api/students/sync": trigger("Background sync of every student"),
    "/api/students/{handle}": {
        "get": op("One student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,)),
        "patch": op("Change a student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,),
                    body={"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                                                           "phone": {"type": "string"},
                                                           "codeforcesHandle": {"type": "string"}}}),
        "delete": op("Delete a student", {"200": _json(OBJECT)}, admin=True, params=[HANDLE], errors=(404,))},
    "/api/students/{handle}/submissions": {"get": op("A student's submissions", {"200": _json(OBJECT)}, admin=True,
                                                     params=[HANDLE, {"name": "verdict", "in": "query",
                                                                      "schema": {"type": "string"}}, LIMIT, CURSOR],
                                                     errors=(404,))},
    "/api/students/{handle}/stats": {"get": op("A student's statistics from stored submissions", {"200": _json(OBJECT)},
                                               admin=True, errors=(404,), params=[HANDLE, {
                                                   "name": "days", "in": "query",
                                                   "schema": {"type": "integer", "enum": [30, 90, 365]}}])},
    "/api/codeforces/sync/{handle}": trigger("Sync one student", [HANDLE, {"name": "full", "in": "query",
                                                                           "schema": {"type": "string"}}],
                                             failure=(500,)),
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
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {"openapi": "3.0.3", "info": {"title": "syncq", "version": __version__},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "paths": PATHS}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of every route."""
    return jsonify(document())
