"""The simulator's HTTP app: every outside service under a path prefix, plus `/_sim` controls.

Every platform request goes through `serve`, which logs it and applies the latency and the faults
set at run time; the routes come from `platforms` (Codeforces .. RAIDA), `sources` (clist.by,
Judgeville) and `controls` (`/_sim`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from syncq.simulator.controls import add_routes as add_control_routes
from syncq.simulator.platforms import Data
from syncq.simulator.platforms import add_routes as add_platform_routes
from syncq.simulator.sources import add_routes as add_source_routes
from syncq.simulator.state import SimState

HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


def _absurd(service: str) -> Any:
    far = 253402300000  # year 9999
    if service == "codeforces":
        return {
            "status": "OK",
            "result": [
                {
                    "id": 1,
                    "name": "Negative",
                    "type": "CF",
                    "phase": "FINISHED",
                    "frozen": False,
                    "durationSeconds": -7200,
                    "startTimeSeconds": 1700000000,
                },
                {
                    "id": 2,
                    "name": "Far future",
                    "type": "CF",
                    "phase": "BEFORE",
                    "frozen": False,
                    "durationSeconds": 7200,
                    "startTimeSeconds": far,
                },
            ],
        }
    if service == "leetcode":
        return {"data": {"allContests": [{"title": "Weird", "titleSlug": "weird", "startTime": far, "duration": -1}]}}
    if service == "codechef":
        return {
            "status": "success",
            "present_contests": [],
            "past_contests": [],
            "future_contests": [
                {
                    "contest_code": "X9999",
                    "contest_name": "Far",
                    "contest_start_date_iso": "9999-01-01T00:00:00+05:30",
                    "contest_end_date_iso": "9999-01-01T02:00:00+05:30",
                    "contest_duration": "-120",
                }
            ],
        }
    return [{"id": "abs1", "start_epoch_second": far, "duration_second": -10, "title": "Absurd", "rate_change": "-"}]


def _empty(service: str) -> Any:
    return {
        "codeforces": {"status": "OK", "result": []},
        "leetcode": {"data": {"allContests": []}},
        "codechef": {"status": "success", "present_contests": [], "future_contests": [], "past_contests": []},
        "clist": {"meta": {"limit": 100, "next": None, "offset": 0, "previous": None}, "objects": []},
        "judgeville": {"site": "Judgeville", "contests": []},
    }.get(service, [])


def create_app(state: SimState, data: Data) -> Flask:
    """The simulator app over `state` (controls) and `data` (payloads)."""
    app = Flask("syncq.simulator")
    app.json.sort_keys = False

    def serve(service: str, build: Callable[[], Response], index: int | None = None) -> Response:
        # Logged on arrival (a request held by a timeout fault shows while it hangs), then completed.
        entry = {
            "service": service,
            "index": index,
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode(),
            "status": None,
            "bytes": None,
            "started_at": datetime.now(UTC).isoformat(),
            "start": time.monotonic(),
            "end": None,
        }
        state.record(entry)
        response = app.make_response(_apply(service, build, index))
        entry.update(status=response.status_code, bytes=response.calculate_content_length() or 0, end=time.monotonic())
        return response

    def _apply(service: str, build: Callable[[], Response], index: int | None) -> Response:
        if not state.delay(service, index):
            return Response("barrier broken: not every expected request arrived", status=504)
        fault = state.take_fault(service, index)
        if fault is None and service == "codeforces" and state.cf_over_limit():
            return jsonify({"status": "FAILED", "comment": "Call limit exceeded"}), 503
        if fault is None:
            return build()
        mode = fault.mode
        if mode == "timeout":
            state.hang()
            return Response("gateway timeout", status=504)
        if mode == "down":
            return Response("service unavailable", status=503)
        if mode == "500":
            return Response("internal server error", status=fault.status or 500)
        if mode == "429":
            return Response("too many requests", status=429, headers={"Retry-After": str(fault.retry_after)})
        if mode == "call_limit":
            return jsonify({"status": "FAILED", "comment": "Call limit exceeded"}), 503
        if mode == "html":
            return Response(HTML_PAGE, status=200, mimetype="text/html")
        if mode == "wrong_shape":
            return jsonify({"unexpected": True, "items": "not a list"})
        if mode == "empty":
            if service == "raida":
                return Response(
                    "CustomSerialNumber,First,Last,Description,InboxFee,Class,Beacon\n", mimetype="text/csv"
                )
            return jsonify(_empty(service))
        if mode == "absurd":
            return jsonify(_absurd(service))
        normal = app.make_response(build())  # truncated: the real answer cut in half
        body = normal.get_data()
        return Response(body[: len(body) // 2], status=200, mimetype=normal.mimetype)

    add_platform_routes(app, serve, state, data)
    add_source_routes(app, serve, data.now)  # clist.by and Judgeville (the example plugin's site)
    add_control_routes(app, state)
    return app
