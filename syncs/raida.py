"""RAIDA sync: echo the servers, then store users, QMail servers and RAIDA addresses."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

import store.raida as raida_store
from adapters import raida
from adapters.http import make_async_client
from core.settings import get_settings
from store.util import iso, utcnow
from syncs import announce, health
from syncs.errors import SyncFailed


async def _snapshot() -> raida.NetworkSnapshot:
    settings = get_settings()
    # Enough connections for every RAIDA, so all the echoes are really in flight together.
    limits = httpx.Limits(max_connections=settings.raida_count + 5, max_keepalive_connections=settings.raida_count + 5)
    async with make_async_client(settings, limits=limits) as client:
        return await raida.sync_network(client, settings)


def _qmail_docs(servers: list[dict[str, Any]], echoes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_index = {e["index"]: e for e in echoes}
    now = utcnow()
    docs = []
    for server in servers:
        echo = by_index.get(server.get("server_index"))
        # A QMail server that is also a RAIDA takes that RAIDA's echo; others are available
        # because the directory lists them now.
        docs.append(
            {
                **server,
                "ping_ms": echo["latencyMs"] if echo else None,
                "is_available": echo["ready"] if echo else True,
                "last_checked": now,
            }
        )
    return docs


def sync_network() -> dict[str, Any]:
    """Pull users, QMail servers and RAIDA status; SyncFailed (code `raida_unavailable`) without
    quorum or a directory."""
    started = time.monotonic()
    snapshot = asyncio.run(_snapshot())
    raida_store.record_echoes(snapshot.echoes)
    announce.announce_quorum(snapshot.ready_count, get_settings().raida_quorum, get_settings().raida_count)
    if snapshot.error:
        health.record_run(
            health.RAIDA,
            ok=False,
            error=snapshot.error,
            interval_s=health.schedule_interval("raida.sync"),
            duration_s=time.monotonic() - started,
        )
        raise SyncFailed(snapshot.error, code="raida_unavailable", details={"raida_ready": snapshot.ready_count})
    directory = snapshot.directory
    assert directory is not None  # a snapshot without an error has its directory
    written = raida_store.upsert_users(directory.users.records)
    users = len(directory.users.records)  # every valid user is now in step (unchanged ones are not rewritten)
    qmail = _qmail_docs(directory.qmail_servers.records, snapshot.echoes)
    servers = raida_store.upsert_qmail_servers(qmail)
    raida_store.mark_listed([s["server_id"] for s in qmail])
    raida_servers = (
        raida_store.upsert_raida_addresses(directory.raida_servers.records) if directory.raida_servers else 0
    )
    raida_store.default_parity()
    skipped = (
        directory.users.failed
        + directory.qmail_servers.failed
        + (directory.raida_servers.failed if directory.raida_servers else [])
    )
    health.record_run(
        health.RAIDA,
        ok=True,
        items=users + len(qmail) + raida_servers,
        failed_items=len(skipped),
        interval_s=health.schedule_interval("raida.sync"),
        duration_s=time.monotonic() - started,
    )
    return {
        "status": "success",
        "users_synced": users,
        "servers_synced": servers,
        "timestamp": iso(utcnow()),
        "raida_servers_synced": raida_servers,
        "raida_ready": snapshot.ready_count,
        "directory_from": f"RAIDA{directory.served_by}",
        "users_written": written,
        "skipped": len(skipped),
        "skipped_examples": skipped[:10],
        "users_flagged": len(directory.users.flagged),
        "flagged_examples": directory.users.flagged[:10],
        "echo_mode": snapshot.echo_mode,
        "echo_targets": snapshot.targets_source,
        "failover": directory.attempts,
    }
