"""The simulator's clist.by (`/clist/api/v4/contest/`) and Judgeville (`/judgeville/api/contests.json`).

clist answers as its server does (aropan/clist `src/clist/api/v2.py`, tastypie's paginator): an
`Authorization: ApiKey user:key` header is required (anything else: 401 with an empty body; the
key `bad` is refused too), the filters `resource`, `resource__in`, `end__gt`, `start__gt` and
`order_by=start`, `limit` (default 100, at most 1000, 0 meaning 1000) and `offset`, and a `meta`
whose `next` is never null while the page has items. Judgeville is the made-up site the example
source plugin (`examples/syncq-source-example`) reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from syncq.samples import sources as samples

_AUTH = re.compile(r"^ApiKey ([^:\s]+):(\S+)$", re.IGNORECASE)


def _clist_page(objects: list[dict[str, Any]]) -> Response:
    args = request.args
    if not (match := _AUTH.match(request.headers.get("Authorization", ""))) or match.group(2) == "bad":
        return Response(b"", status=401)
    try:
        limit = int(args.get("limit", 100))
        offset = int(args.get("offset", 0))
        if limit < 0 or offset < 0:
            raise ValueError
    except ValueError:
        return jsonify({"error": "Invalid limit or offset provided. Please provide a positive integer."}), 400
    limit = 1000 if limit == 0 else min(limit, 1000)
    wanted = None
    if args.get("resource"):
        wanted = {args["resource"]}
    elif args.get("resource__in"):
        wanted = set(args["resource__in"].split(","))
    found = [o for o in objects if wanted is None or o["resource"] in wanted]
    for name, key in (("end__gt", "end"), ("start__gt", "start")):
        if args.get(name):
            try:
                bound = datetime.fromisoformat(args[name]).replace(tzinfo=None)
            except ValueError:
                return jsonify({"error": f"Invalid {name}"}), 400
            found = [o for o in found if datetime.fromisoformat(o[key]) > bound]
    if args.get("order_by", "start") == "start":
        found.sort(key=lambda o: (o["start"], o["id"]))
    page = found[offset : offset + limit]
    query = {k: v for k, v in args.items() if k not in ("limit", "offset")}

    def link(at: int) -> str:
        return "/api/v4/contest/?" + urlencode({**query, "limit": limit, "offset": at})

    meta = {
        "estimated_count": len(found),
        "limit": limit,
        "next": link(offset + limit) if page else None,
        "offset": offset,
        "previous": link(offset - limit) if offset - limit >= 0 else None,
        "total_count": None,
    }
    return jsonify({"meta": meta, "objects": page})


def add_routes(app: Flask, serve: Callable[[str, Callable[[], Response]], Response], now: datetime) -> None:
    """Add the clist and Judgeville routes to the simulator `app` (`serve` applies faults and logs)."""
    clist = samples.clist_contests(now)
    judgeville = samples.judgeville_contests(now)

    @app.get("/clist/api/v4/contest/")
    def clist_contests():
        return serve("clist", lambda: _clist_page(clist))

    @app.get("/judgeville/api/contests.json")
    def judgeville_contests():
        return serve("judgeville", lambda: jsonify(judgeville))
