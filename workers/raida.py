"""RAIDA sync task: fan out to the 25 servers, then store users, QMail and RAIDA servers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

import store
import store.raida as raida_store
from adapters import raida
from adapters.http import make_async_client
from store.util import iso, utcnow
from core.settings import get_settings
from syncs import announce
from workers import jobs
from workers.base import JobFailed, JobTask
from workers.celery_app import app


async def _snapshot() -> raida.NetworkSnapshot:
    settings = get_settings()
    # Enough connections for every RAIDA, so all 25 echoes are really in flight together.
    limits = httpx.Limits(max_connections=settings.raida_count + 5,
                          max_keepalive_connections=settings.raida_count + 5)
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
        docs.append({**server, "ping_ms": echo["latencyMs"] if echo else None,
                     "is_available": echo["ready"] if echo else True, "last_checked": now})
    return docs


@app.task(name="syncq.raida.sync", base=JobTask, bind=True, job_kind="raida.sync",
          autoretry_for=store.UNAVAILABLE, retry_backoff=2, retry_backoff_max=60, max_retries=4)
def sync_raida(self, job_id: str | None = None) -> dict[str, Any]:
    """Pull users, QMail servers and RAIDA status; fails (502 body) without quorum or directory."""
    snapshot = asyncio.run(_snapshot())
    raida_store.record_echoes(snapshot.echoes)
    announce.announce_quorum(snapshot.ready_count, get_settings().raida_quorum, get_settings().raida_count)
    if snapshot.error:
        body = {"status": "error", "users_synced": 0, "servers_synced": 0, "timestamp": iso(utcnow()),
                "message": snapshot.error, "raida_ready": snapshot.ready_count}
        raise JobFailed(snapshot.error, status=502, body=body)
    directory = snapshot.directory
    written = raida_store.upsert_users(directory.users.records)
    users = len(directory.users.records)  # every valid user is now in step (unchanged ones are not rewritten)
    qmail = _qmail_docs(directory.qmail_servers.records, snapshot.echoes)
    servers = raida_store.upsert_qmail_servers(qmail)
    raida_store.mark_listed([s["server_id"] for s in qmail])
    raida_servers = raida_store.upsert_raida_addresses(directory.raida_servers.records) \
        if directory.raida_servers else 0
    raida_store.default_parity()
    skipped = (directory.users.failed + directory.qmail_servers.failed
               + (directory.raida_servers.failed if directory.raida_servers else []))
    return {"status": "success", "users_synced": users, "servers_synced": servers,
            "timestamp": iso(utcnow()), "raida_servers_synced": raida_servers,
            "raida_ready": snapshot.ready_count, "directory_from": f"RAIDA{directory.served_by}",
            "users_written": written,
            "skipped": len(skipped), "skipped_examples": skipped[:10],
            "failover": directory.attempts}


def _failure(job: dict[str, Any]) -> tuple[int, Any]:
    body = job.get("error_body") or {"status": "error", "users_synced": 0, "servers_synced": 0,
                                     "timestamp": iso(job.get("finished_at") or utcnow()),
                                     "message": job.get("error") or "RAIDA sync failed"}
    return job.get("error_status") or 502, body


jobs.register_kind(jobs.JobKind(
    name="raida.sync",
    signature=lambda params, job_id: sync_raida.si(job_id=job_id),
    lock_key=lambda params: "raida.sync",
    failure_response=_failure,
))
