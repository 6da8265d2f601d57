"""The RAIDA network as its real client (worthingtonse/qmail-client) sees it.

The directory comes from RAIDA 11's HTTPS host (`<raida_url_template with i=11>/service/users`,
`/service/qmail_servers`, `/service/raida_servers`). `raida_servers` (25 lines `IP:PORT`, a
missing port is 50000 + line; from RAIDA 11, else from the first other RAIDA that serves it; a
RAIDA it does not list: its URL's host, port 50000 + i) gives where each RAIDA answers the
network's binary echo (`adapters.raida_echo`, UDP with TCP as fallback; `SYNCQ_RAIDA_ECHO=http`
keeps the legacy `/service/echo` JSON on each RAIDA's URL). The 25 echoes are all in flight together, each with
its own timeout, so the fan-out lasts as long as the slowest answer. `fetch_directory` fails
over from RAIDA 11 to the next ready RAIDA by lowest latency when it is down or answers
garbage. Parsers are pure; bad rows are counted.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from adapters import raida_echo
from adapters.errors import ParseError, SyncError
from adapters.http import async_call_with_retry, decode_json, send_async
from adapters.records import ParseResult
from core.settings import Settings

SERVICE = "raida"
SERIAL = re.compile(r"^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{1,26}$")
CLASSES = ("bit", "byte", "kilo", "mega", "giga")
USER_COLUMNS = ("CustomSerialNumber", "First", "Last", "Description", "InboxFee", "Class", "Beacon")
HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:]+\]$")


def raida_url(settings: Settings, index: int) -> str:
    """Base URL of RAIDA `index` from the template."""
    return settings.raida_url_template.replace("{i}", str(index))


# --- pure parsers -------------------------------------------------------------------------------


def parse_echo(
    index: int, payload: Any, latency_ms: float | None, error: str | None, checked_at: datetime
) -> dict[str, Any]:
    """One RAIDA's readiness from its legacy HTTP echo answer (or the error that replaced it)."""
    ready, status = False, None
    if error is None:
        if isinstance(payload, dict) and isinstance(payload.get("status"), str):
            status = payload["status"]
            ready = status.lower() == "ready"
            if not ready:
                error = f"status {status!r}"
        else:
            error = "echo answer is not {status: ...} JSON"
    return {
        "index": index,
        "name": f"RAIDA{index}",
        "ready": ready,
        "status": status,
        "latencyMs": round(latency_ms, 1) if latency_ms is not None else None,
        "version": payload.get("version") if isinstance(payload, dict) else None,
        "message": payload.get("message") if isinstance(payload, dict) else None,
        "checkedAt": checked_at,
        "error": error,
    }


def _number(raw: str, field_name: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{field_name} is not a number: {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{field_name} out of range: {raw!r}")
    return value


def _name_part(raw: str) -> str:
    return re.sub(r"\s+", "", raw.strip()).lower()


def _is_header(row: list[str]) -> bool:
    # Any header variant: "CustomSerialNumber", "Serial Number", "SN", "custom_sn", ...
    first = re.sub(r"[^a-z]", "", row[0].lower()) if row else ""
    klass = re.sub(r"[^a-z]", "", row[5].lower()) if len(row) > 5 else ""
    return "serial" in first or first in ("sn", "customsn") or klass == "class"


def parse_users(text: str) -> ParseResult:
    """Directory users from the users CSV, read by position as the real client reads it
    (`0:CustomSerialNumber, 1:First, 2:Last, 3:Description, 4:InboxFee, 5:Class, 6:Beacon`)
    whatever the header row calls them; header rows are skipped. Rows with fewer than 7 fields,
    a serial that is not Base32 or a fee that is not a number >= 0 are skipped and counted; an
    empty fee is 0; an unknown class is kept as given and flagged (`classKnown: false`, and in
    `flagged`); a duplicate serial keeps the last row and is counted."""
    if not isinstance(text, str) or text.lstrip().startswith("<"):
        raise ParseError("users list is not CSV (an HTML page?)", service=SERVICE)
    result, by_serial, short = ParseResult(), {}, 0
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row) or _is_header(row):
            continue
        try:
            if len(row) < len(USER_COLUMNS):
                short += 1
                raise ValueError(f"{len(row)} fields, at least {len(USER_COLUMNS)} expected")
            cells = [cell.strip() for cell in row]
            serial = cells[0].upper()
            if not SERIAL.match(serial):
                raise ValueError(f"serial {serial!r} is not Base32 (0-9, A-Z without I, L, O, U)")
            first, last, description, fee, klass, beacon = cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
            fee_value = _number(fee, "InboxFee") if fee else 0.0
        except ValueError as exc:
            result.failed.append({"item": f"row {number}", "error": str(exc)})
            continue
        known_class = klass.lower() in CLASSES
        user = {
            "serialNumber": serial,
            "first": first,
            "last": last,
            "description": description,
            "inboxFee": fee_value,
            "class": klass.lower() if known_class else klass,
            "classKnown": known_class,
            "beacon": beacon or None,
            "address": f"{_name_part(first)}.{_name_part(last)}@{_name_part(description)}#{serial}."
            f"{klass.lower() if known_class else klass}",
        }
        if not known_class:
            result.flagged.append({"item": f"row {number}", "error": f"unknown class {klass!r} kept as given"})
        if serial in by_serial:
            result.failed.append({"item": f"row {number}", "error": f"duplicate serial {serial} (last wins)"})
        by_serial[serial] = user
    result.records = list(by_serial.values())
    if not result.records and short and short == len(result.failed):
        raise ParseError(f"users list has no row of {len(USER_COLUMNS)} fields (not the users CSV?)", service=SERVICE)
    return result


_FLOATS = ("cost_per_mb", "cost_per_8_weeks", "percent_uptime", "performance_benchmark_percentile")


def parse_qmail_servers(payload: Any) -> ParseResult:
    """QMail servers from a JSON list or `{"servers": [...]}`; bad items counted."""
    items = payload.get("servers") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ParseError('qmail_servers is neither a list nor {"servers": [...]}', service=SERVICE)
    result = ParseResult()
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ValueError("server is not an object")
            server_id, ip = item.get("server_id"), item.get("ip_address")
            if not isinstance(server_id, (str, int)) or isinstance(server_id, bool) or str(server_id).strip() == "":
                raise ValueError("server_id missing")
            if not isinstance(ip, str) or not HOST.match(ip.strip()):
                raise ValueError(f"ip_address {ip!r} is not a host")
            server: dict[str, Any] = {"server_id": str(server_id).strip(), "ip_address": ip.strip()}
            for key, kind in (("port", int), ("server_index", int)):
                value = item.get(key)
                if value is None:
                    server[key] = None
                elif isinstance(value, bool) or not isinstance(value, (int, float, str)) or not str(value).isdigit():
                    raise ValueError(f"{key} {value!r} is not a whole number")
                else:
                    server[key] = kind(value)
            if server["port"] is not None and not 0 < server["port"] < 65536:
                raise ValueError(f"port {server['port']} out of range")
            for key in _FLOATS:
                server[key] = _number(item[key], key) if item.get(key) is not None else None
            for key in ("server_type", "region", "description"):
                server[key] = str(item[key]) if item.get(key) is not None else None
        except ValueError as exc:
            result.skip(item, str(exc))
            continue
        result.records.append(server)
    return result


def parse_raida_servers(text: str) -> ParseResult:
    """RAIDA addresses from `IP:PORT` lines (line n is RAIDA n; no port means 50000 + n)."""
    if not isinstance(text, str) or text.lstrip().startswith("<"):
        raise ParseError("raida_servers is not a text list (an HTML page?)", service=SERVICE)
    result = ParseResult()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    for index, line in enumerate(lines):
        host, _, port = line.rpartition(":") if re.search(r":\d+$", line) else (line, "", "")
        if not HOST.match(host) or (port and not 0 < int(port) < 65536):
            result.failed.append({"item": f"line {index}", "error": f"not IP:PORT: {line[:40]!r}"})
            continue
        result.records.append({"index": index, "host": host, "port": int(port) if port else 50000 + index})
    return result


# --- I/O ----------------------------------------------------------------------------------------


async def _echo(client: httpx.AsyncClient, settings: Settings, index: int) -> dict[str, Any]:
    started = time.perf_counter()
    payload, error = None, None
    try:
        response = await asyncio.wait_for(
            send_async(
                client,
                "GET",
                f"{raida_url(settings, index)}/service/echo",
                service=f"raida{index}",
                timeout=settings.raida_timeout,
            ),
            timeout=settings.raida_timeout + 0.5,
        )
        payload = decode_json(response, f"raida{index}")
    except TimeoutError:
        error = f"timed out after {settings.raida_timeout:g} s"
    except SyncError as exc:
        error = exc.message
    latency = (time.perf_counter() - started) * 1000
    return parse_echo(index, payload, latency if error is None else None, error, datetime.now(UTC))


async def echo_all(client: httpx.AsyncClient, settings: Settings) -> list[dict[str, Any]]:
    """Echo every RAIDA at once; one result per server, never raising for a single server."""
    return list(await asyncio.gather(*(_echo(client, settings, i) for i in range(settings.raida_count))))


def directory_candidates(echoes: list[dict[str, Any]], preferred: int) -> list[int]:
    """Whom to ask for the directory: the preferred RAIDA unless it is known down, then the
    ready ones by lowest latency."""
    ready = sorted((e for e in echoes if e["ready"]), key=lambda e: (e["latencyMs"] or 0, e["index"]))
    order = [e["index"] for e in ready if e["index"] != preferred]
    preferred_ready = any(e["index"] == preferred and e["ready"] for e in echoes)
    return ([preferred] if preferred_ready else []) + order


@dataclass
class Directory:
    """What one RAIDA served: users, QMail servers, RAIDA addresses, and who served it."""

    served_by: int
    users: ParseResult
    qmail_servers: ParseResult
    raida_servers: ParseResult | None
    attempts: list[dict[str, Any]] = field(default_factory=list)


async def _get(client: httpx.AsyncClient, settings: Settings, index: int, path: str) -> httpx.Response:
    url = f"{raida_url(settings, index)}/service/{path}"
    return await async_call_with_retry(lambda: send_async(client, "GET", url, service=f"raida{index}"), settings)


async def _directory_from(
    client: httpx.AsyncClient,
    settings: Settings,
    index: int,
    raida_list: asyncio.Future[httpx.Response] | None = None,
) -> Directory:
    users_r, qmail_r, raida_r = await asyncio.gather(
        _get(client, settings, index, "users"),
        _get(client, settings, index, "qmail_servers"),
        raida_list if raida_list is not None else _get(client, settings, index, "raida_servers"),
        return_exceptions=True,
    )
    if isinstance(users_r, BaseException):
        raise users_r
    if isinstance(qmail_r, BaseException):
        raise qmail_r
    users = parse_users(users_r.text)
    if not users.records:
        raise ParseError("users CSV has no valid row", service=f"raida{index}")
    qmail = parse_qmail_servers(decode_json(qmail_r, f"raida{index}"))
    # The RAIDA list is optional: its failure is recorded, the directory still counts.
    raida: ParseResult | None
    try:
        if isinstance(raida_r, BaseException):
            raise raida_r
        raida = parse_raida_servers(raida_r.text)
    except SyncError as exc:
        raida = ParseResult(failed=[{"item": "raida_servers", "error": str(exc)}])
    return Directory(index, users, qmail, raida)


async def fetch_directory(
    client: httpx.AsyncClient,
    settings: Settings,
    echoes: list[dict[str, Any]],
    prefetched: asyncio.Task[Directory] | None = None,
) -> Directory:
    """The directory from the first RAIDA that serves it well; SyncError naming every failure.

    `prefetched` is a fetch from the preferred RAIDA already under way (started with the echoes).
    """
    attempts = []
    for index in directory_candidates(echoes, settings.raida_directory_index):
        try:
            if prefetched is not None and index == settings.raida_directory_index:
                directory = await prefetched
            else:
                directory = await _directory_from(client, settings, index)
        except SyncError as exc:
            attempts.append({"raida": index, "error": exc.message})
            continue
        directory.attempts = attempts
        return directory
    tried = "; ".join(f"raida{a['raida']}: {a['error']}" for a in attempts) or "no RAIDA was ready"
    raise SyncError(f"no RAIDA served the directory ({tried})", service=SERVICE)


def echo_targets(raida_list: ParseResult | None, settings: Settings) -> tuple[list[dict[str, Any]], str]:
    """Where to echo each RAIDA: its `IP:PORT` from the directory's `raida_servers` list, else
    (list missing or short) the host of its URL template on port 50000 + index; and which it was."""
    listed = {r["index"]: r for r in (raida_list.records if raida_list else [])}
    targets = []
    for index in range(settings.raida_count):
        if index in listed:
            targets.append({"index": index, "host": listed[index]["host"].strip("[]"), "port": listed[index]["port"]})
        else:
            host = urlsplit(raida_url(settings, index)).hostname or ""
            targets.append({"index": index, "host": host.strip("[]"), "port": 50000 + index})
    defaulted = settings.raida_count - sum(1 for i in range(settings.raida_count) if i in listed)
    source = (
        "raida_servers"
        if not defaulted
        else f"raida_servers, {defaulted} from the URL template"
        if listed
        else "the URL template (no raida_servers)"
    )
    return targets, source


async def _raida_list_from(response: asyncio.Future[httpx.Response] | Any) -> ParseResult:
    listed = parse_raida_servers((await response).text)
    if not listed.records:
        raise ParseError("raida_servers lists no server", service=SERVICE)
    return listed


async def raida_list(
    client: httpx.AsyncClient, settings: Settings, preferred: asyncio.Future[httpx.Response]
) -> tuple[ParseResult | None, int | None]:
    """The `raida_servers` list and who served it: the preferred RAIDA's answer, else the first
    good answer of the others, all asked at once (None when no RAIDA serves it)."""
    try:
        return await _raida_list_from(preferred), settings.raida_directory_index
    except SyncError:
        pass

    async def one(i: int) -> tuple[ParseResult, int]:
        return await _raida_list_from(_get(client, settings, i, "raida_servers")), i

    tasks = [asyncio.ensure_future(one(i)) for i in range(settings.raida_count) if i != settings.raida_directory_index]
    try:
        for done in asyncio.as_completed(tasks):
            try:
                return await done
            except SyncError:
                continue
        return None, None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class NetworkSnapshot:
    """One sync's view of the network: every echo, and the directory or why there is none."""

    echoes: list[dict[str, Any]]
    ready_count: int
    directory: Directory | None
    error: str | None
    echo_mode: str = "http"  # "binary" (UDP/TCP echo of the raida_servers targets) or "http"
    targets_source: str | None = None  # binary mode: where the echo targets came from


async def sync_network(client: httpx.AsyncClient, settings: Settings) -> NetworkSnapshot:
    """Echo all RAIDA and check the quorum; the directory comes from the preferred RAIDA (11),
    asked at the same time as the echoes (the echoes wait for the slowest server), else from
    the next ready RAIDA by latency. In binary mode (the default) the echo targets are the
    preferred RAIDA's `raida_servers` list, fetched first."""
    index, mode = settings.raida_directory_index, settings.raida_echo
    raida_list_task = asyncio.ensure_future(_get(client, settings, index, "raida_servers"))
    preferred = asyncio.ensure_future(_directory_from(client, settings, index, raida_list_task))
    source = None
    try:
        if mode == "binary":
            listed, served_by = await raida_list(client, settings, raida_list_task)
            targets, source = echo_targets(listed, settings)
            if listed is not None and served_by != index:
                source += f" of RAIDA{served_by}"
            echoes = await raida_echo.echo_all(
                targets, settings.raida_timeout, allow_private=settings.raida_allow_private
            )
        else:
            echoes = await echo_all(client, settings)
        ready = sum(1 for e in echoes if e["ready"])
        if ready < settings.raida_quorum:
            return NetworkSnapshot(
                echoes,
                ready,
                None,
                f"Failed to connect to RAIDA network: only {ready} of {settings.raida_count} "
                f"RAIDA servers are ready; at least {settings.raida_quorum} are needed",
                mode,
                source,
            )
        try:
            directory = await fetch_directory(client, settings, echoes, prefetched=preferred)
        except SyncError as exc:
            return NetworkSnapshot(
                echoes, ready, None, f"Failed to sync from RAIDA network: {exc.message}", mode, source
            )
        return NetworkSnapshot(echoes, ready, directory, None, mode, source)
    finally:
        for task in (preferred, raida_list_task):
            if not task.done():
                task.cancel()
        # Retrieve a failure nobody awaited (preferred RAIDA not ready), so asyncio does not warn.
        await asyncio.gather(preferred, raida_list_task, return_exceptions=True)
