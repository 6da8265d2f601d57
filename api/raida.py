"""RAIDA routes: the admin sync trigger, server and directory reads, and the parity server."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

import store.raida as raida_store
from api.auth import admin_required
from api.errors import ApiError
from api.jobs import trigger
from api.openapi import doc
from api.schemas import ParityIn, RaidaResult, ServersQuery, UsersQuery, WaitQuery
from api.validation import json_body
from jobs import kinds

bp = Blueprint("raida", __name__)

_SERVER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@bp.post("/api/admin/sync")
@admin_required
@doc(200, admin=True, job=True, answers=RaidaResult, errors=(502,), query=WaitQuery, tags=("raida",))
def sync():
    """Pull users, QMail servers and RAIDA status from the network: `{status: "success", users_synced,
    servers_synced, timestamp, ...}`, or 502 with `{status: "error", ..., message}`."""
    return trigger(kinds.RAIDA_SYNC)


@bp.get("/api/data/servers")
@doc(200, query=ServersQuery, tags=("raida",))
def servers():
    """QMail servers after the last sync; `?include_unavailable=true` adds the unavailable ones."""
    include = (request.context.query.include_unavailable or "false").lower() in ("true", "1", "yes")
    items = raida_store.qmail_servers(include)
    return jsonify({"servers": items, "count": len(items), "include_unavailable": include})


@bp.get("/api/data/raida")
@doc(200, tags=("raida",))
def raida():
    """The RAIDA servers with readiness and latency from the last echo; a server that did not
    answer says "no answer", whether it timed out, its port was closed or syncq refused its address."""
    items = [_public(server) for server in raida_store.raida_servers()]
    return jsonify({"raida": items, "count": len(items), "ready": sum(1 for s in items if s.get("ready"))})


def _public(server: dict) -> dict:
    # Why an echo got no answer tells an open port from a closed one: for admins' eyes (the sync's
    # result and logs), not for anyone's.
    if not server.get("ready") and server.get("status") is None and server.get("error"):
        return {**server, "error": "no answer"}
    return server


@bp.get("/api/data/users")
@doc(200, query=UsersQuery, tags=("raida",))
def users():
    """Search the directory: `?q=` matches name, description or address; `?cursor=&limit=`."""
    query = request.context.query
    if query.cursor is not None and not re.fullmatch(r"[0-9A-Z]{1,64}", query.cursor):
        raise ApiError(400, "'cursor' is invalid")
    items, next_cursor = raida_store.search_users(query.q, query.cursor, query.limit or 50)
    return jsonify({"users": items, "count": len(items), "next_cursor": next_cursor})


@bp.get("/api/admin/servers/parity")
@admin_required
@doc(200, admin=True, tags=("raida",))
def get_parity():
    """The parity server, or `not_configured`."""
    server_id = raida_store.parity_server_id()
    server = raida_store.qmail_server(server_id) if server_id else None
    if server is None:
        return jsonify(
            {"status": "not_configured", "parity_server": None, "message": "No parity server is currently configured"}
        )
    server["use_for_parity"] = True
    return jsonify({"status": "configured", "parity_server": server})


@bp.post("/api/admin/servers/parity")
@admin_required
@doc(200, admin=True, errors=(404,), json=ParityIn, tags=("raida",))
def set_parity():
    """Make a known QMail server the parity server: 400 without `server_id`, 404 when unknown."""
    server_id = json_body(ParityIn).server_id
    if not _SERVER_ID.match(server_id) or raida_store.qmail_server(server_id) is None:
        raise ApiError(404, f"No server with server_id {server_id[:64]!r}")
    raida_store.set_parity(server_id)
    return jsonify({"status": "success", "server_id": server_id, "message": f"Parity server set to {server_id}"})
