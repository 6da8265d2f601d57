"""Public reads answered from versions: validators first, then a document built once per version.

`versioned(kind, query, names, build, ...)`:

1. reads the versions of what the answer shows (`store.versions`, one Redis round trip);
2. derives the ETag (a hash of the route, its query and those versions) and Last-Modified (the
   latest version is the time of the last change): a conditional request that matches
   (`If-None-Match`, or `If-Modified-Since` without one) is answered 304 here, nothing read;
3. otherwise answers the document built for that (query, versions), shared by every API process
   (`core.built`): built by one reader, the others wait for it and read it.

`Cache-Control: public` with `stale-while-revalidate`, so a proxy or CDN in front serves repeat
readers too (README: nginx). With Redis away, the answer is built from the store each time and
carries no validators.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from flask import Response, current_app, request

from api import front
from core import built
from store import versions


def cache_control(max_age: int, stale: int) -> str:
    """What a shared cache may do with a public answer."""
    return f"public, max-age={max_age}, stale-while-revalidate={stale}"


def _none_match(etag: str) -> bool | None:
    """True/False when the request sends If-None-Match, None when it does not."""
    header = request.headers.get("If-None-Match")
    if not header:
        return None
    if header.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


def _not_modified_since(last_modified_s: int) -> bool:
    header = request.headers.get("If-Modified-Since")
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False  # a date we cannot read: answer in full
    return since is not None and last_modified_s <= int(since.timestamp())


def versioned(
    kind: str,
    query: dict[str, Any],
    names: Iterable[str],
    build: Callable[[], bytes],
    *,
    mimetype: str,
    cache: str,
    headers: dict[str, str] | None = None,
    until: float | None = None,
) -> Response:
    """The answer of a public read (see the module's text). `query`: everything besides the
    versions that the document depends on (JSON-serialisable); `names`: the versions it shows;
    `until`: the epoch second after which the same URL may mean another query (default: the
    built answers' TTL), how long `api.front` may answer it again."""
    settings = current_app.config["SYNCQ_SETTINGS"]
    headers = {"Cache-Control": cache, **(headers or {})}
    try:
        found = versions.current(names)
    except versions.VersionsUnavailable:
        return Response(build(), mimetype=mimetype, headers=headers)
    digest = hashlib.sha256(
        json.dumps([kind, query, sorted(found.items())], sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    etag = f'"{digest}"'
    changed = datetime.fromtimestamp(max(found.values()) // 1_000_000, tz=UTC)
    headers.update({"ETag": etag, "Last-Modified": format_datetime(changed, usegmt=True)})
    matched = _none_match(etag)
    if matched or (matched is None and _not_modified_since(int(changed.timestamp()))):
        return Response(status=304, headers=headers)
    scope = versions.scope()
    names = list(found)
    request.environ[front.ENVIRON_KEY] = (names, found, until or time.time() + settings.read_cache_ttl)
    body = built.get_or_build(
        f"{scope}:built:{kind}:{digest}",
        build,
        ttl=settings.read_cache_ttl,
        entries=settings.read_cache_entries,
        index=f"{scope}:built-index",
    )
    return Response(body, mimetype=mimetype, headers=headers)


def json_bytes(value: Any) -> bytes:
    """`value` as the API's JSON (its datetimes and ids written as every JSON answer writes them)."""
    return current_app.json.dumps(value).encode()
