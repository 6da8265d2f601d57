"""The simulator's HTTP app: every outside service under a path prefix, plus `/_sim` controls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Response, jsonify, request

from syncq.samples import contests as contest_samples
from syncq.samples import raida as raida_samples
from syncq.samples import students as student_samples
from syncq.simulator.sources import add_routes as add_source_routes
from syncq.simulator.state import MODES, SERVICES, SimState

HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class Data:
    """The payloads served, generated once at start from `now` (and edited at run time)."""

    def __init__(self, now: datetime):
        self.now = now
        self.codeforces = contest_samples.codeforces_contests(now)
        self.codeforces_gym = contest_samples.codeforces_gym_contests(now)
        self.leetcode = contest_samples.leetcode_contests(now)
        self.codechef = contest_samples.codechef_contests(now)
        # `/all` lists only the 20 newest past contests, as CodeChef does; `/past` pages them all.
        self.codechef_all = {**self.codechef, "past_contests": self.codechef["past_contests"][:20]}
        self.kenkoooo = contest_samples.kenkoooo_contests(now)
        self.atcoder = contest_samples.atcoder_page(now)
        self.users_csv = raida_samples.users_csv(1250, bad_rows=False)
        self.qmail = raida_samples.qmail_servers(30, bad_item=False)
        self.raida = raida_samples.raida_servers()

    @lru_cache(maxsize=16)  # noqa: B019 (one state per simulator, kept for its whole life)
    def encoded(self, name: str) -> bytes:
        """A payload serialised once: a real server does not rebuild its JSON per request."""
        return json.dumps(getattr(self, name), separators=(",", ":")).encode()

    @lru_cache(maxsize=64)  # noqa: B019 (one state per simulator, kept for its whole life)
    def submissions(self, handle: str, total: int) -> list[dict[str, Any]]:
        return student_samples.user_status(handle, total, now=self.now)


def leetcode_fallback_answer(data: Data, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """`topTwoContests` (the next weekly and biweekly) or a `pastContests` page, newest first."""
    now = data.now.timestamp()
    contests = data.leetcode["data"]["allContests"]
    if "topTwoContests" in query:
        upcoming = sorted((c for c in contests if c["startTime"] > now), key=lambda c: c["startTime"])
        return {"data": {"topTwoContests": upcoming[:2]}}
    past = [c for c in contests if c["startTime"] + c["duration"] <= now]
    try:
        page, per_page = max(1, int(variables.get("pageNo", 1))), max(1, int(variables.get("numPerPage", 10)))
    except (TypeError, ValueError):
        return {"errors": [{"message": "pageNo and numPerPage must be integers"}]}
    items = past[(page - 1) * per_page : page * per_page]
    return {
        "data": {
            "pastContests": {
                "pageNum": -(-len(past) // per_page),
                "currentPage": page,
                "totalNum": len(past),
                "numPerPage": per_page,
                "data": items,
            }
        }
    }


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

    def cf_ok(result: Any) -> Response:
        return jsonify({"status": "OK", "result": result})

    def cf_not_found(handle: str, field: str = "handle") -> Response:
        return jsonify({"status": "FAILED", "comment": f"{field}: User with handle {handle} not found"}), 400

    def total_for(handle: str) -> int | None:
        base = student_samples.submission_count(handle)
        if base is None or handle.lower() in state.cf_rounds.missing:
            return None
        return base + state.extra_submissions.get(handle.lower(), 0) + state.cf_rounds.extra_submissions(handle)

    def rating_changes(handle: str) -> list[dict[str, Any]]:
        changes = student_samples.user_rating(handle, data.now)
        return changes + state.cf_rounds.changes(handle, changes[-1]["newRating"] if changes else 1500)

    def user_info(handle: str) -> dict[str, Any]:
        info, changes = student_samples.user_info(handle, data.now), rating_changes(handle)
        online = state.cf_rounds.last_online(handle)
        if online is not None:
            info["lastOnlineTimeSeconds"] = max(online, info["lastOnlineTimeSeconds"])
        if changes:
            info["rating"], info["maxRating"] = changes[-1]["newRating"], max(c["newRating"] for c in changes)
            info["rank"], info["maxRank"] = (
                student_samples.rank_of(info["rating"]),
                student_samples.rank_of(info["maxRating"]),
            )
        return info

    # --- Codeforces ------------------------------------------------------------------------
    @app.get("/codeforces/api/contest.list")
    def cf_contests():
        def build():
            if request.args.get("gym") == "true":
                return Response(
                    b'{"status":"OK","result":' + data.encoded("codeforces_gym") + b"}", mimetype="application/json"
                )
            rounds = state.cf_rounds.contests()
            if not state.contest_edits and not rounds:
                return Response(
                    b'{"status":"OK","result":' + data.encoded("codeforces") + b"}", mimetype="application/json"
                )
            items = [{**c, **state.contest_edits.get(str(c["id"]), {})} for c in data.codeforces]
            return cf_ok(rounds + items)

        return serve("codeforces", build)

    @app.get("/codeforces/api/user.info")
    def cf_info():
        def build():
            handles = [h for h in request.args.get("handles", "").split(";") if h]
            missing = [h for h in handles if total_for(h) is None]
            if not handles or missing:
                return cf_not_found(missing[0] if missing else "", "handles")
            return cf_ok([user_info(h) for h in handles])

        return serve("codeforces", build)

    @app.get("/codeforces/api/user.rating")
    def cf_rating():
        def build():
            handle = request.args.get("handle", "")
            if total_for(handle) is None:
                return cf_not_found(handle)
            return cf_ok(rating_changes(handle))

        return serve("codeforces", build)

    @app.get("/codeforces/api/contest.ratingChanges")
    def cf_rating_changes():
        def build():
            raw = request.args.get("contestId", "")
            if not raw.isdigit():
                return jsonify(
                    {"status": "FAILED", "comment": "contestId: Field should contain long integer value"}
                ), 400
            cid = int(raw)
            r = state.cf_rounds.round_of(cid)
            if r is not None:
                return cf_ok([c for h in r.population for c in rating_changes(h) if c["contestId"] == cid])
            if any(c["id"] == cid for c in data.codeforces):
                return cf_ok([])  # a sample contest: nobody simulated took part
            return jsonify({"status": "FAILED", "comment": f"contestId: Contest with id {cid} not found"}), 400

        return serve("codeforces", build)

    @app.get("/codeforces/api/user.status")
    def cf_status():
        def build():
            handle = request.args.get("handle", "")
            total = total_for(handle)
            if total is None:
                return cf_not_found(handle)
            try:
                start = max(1, int(request.args.get("from", 1)))
                count = max(1, int(request.args.get("count", 100000)))
            except ValueError:
                return jsonify({"status": "FAILED", "comment": "from: Field should contain long integer value"}), 400
            if start - 1 + count < total:  # a page: made alone (thousands of students page daily)
                return cf_ok(student_samples.user_status(handle, total, start, count, now=data.now))
            items = data.submissions(handle.lower(), total)
            return cf_ok(items[start - 1 : start - 1 + count])

        return serve("codeforces", build)

    # --- LeetCode, CodeChef, AtCoder ------------------------------------------------------
    @app.post("/leetcode/graphql")
    def leetcode():
        def build():
            if not (request.headers.get("Origin") or request.headers.get("Referer")):
                return Response("Forbidden", status=403)
            body = request.get_json(silent=True) or {}
            query = str(body.get("query", "")) if isinstance(body, dict) else ""
            if "topTwoContests" in query or "pastContests" in query:
                return jsonify(leetcode_fallback_answer(data, query, body.get("variables") or {}))
            if state.leetcode_all_contests_gone:
                return jsonify({"errors": [{"message": 'Cannot query field "allContests" on type "Query".'}]}), 400
            return Response(data.encoded("leetcode"), mimetype="application/json")

        return serve("leetcode", build)

    @app.get("/codechef/api/list/contests/all")
    def codechef():
        return serve("codechef", lambda: Response(data.encoded("codechef_all"), mimetype="application/json"))

    @app.get("/codechef/api/list/contests/past")
    def codechef_past():
        def build():
            try:
                offset = max(0, int(request.args.get("offset", 0)))
            except ValueError:
                return jsonify({"status": "error", "message": "offset must be a number"}), 400
            past = data.codechef["past_contests"]
            return jsonify(
                {
                    "status": "success",
                    "message": "Past contests list",
                    "contests": past[offset : offset + 20],
                    "count": len(past),
                }
            )

        return serve("codechef", build)

    @app.get("/atcoder/contests/")
    def atcoder():
        return serve("atcoder", lambda: Response(data.atcoder, mimetype="text/html"))

    @app.get("/kenkoooo/atcoder/resources/contests.json")
    def kenkoooo():
        return serve("kenkoooo", lambda: Response(data.encoded("kenkoooo"), mimetype="application/json"))

    add_source_routes(app, serve, data.now)  # clist.by and Judgeville (the example plugin's site)

    # --- RAIDA ------------------------------------------------------------------------------
    @app.get("/raida<int:index>/service/<name>")
    def raida(index: int, name: str):
        if not 0 <= index < 25 or name not in ("echo", "users", "qmail_servers", "raida_servers"):
            return Response("not found", status=404)

        def build():
            if name == "echo":
                return jsonify(raida_samples.echo(index, datetime.now(UTC)))
            if name == "users":
                return Response(data.users_csv, mimetype="text/csv")
            if name == "qmail_servers":
                return jsonify(data.qmail)
            return Response(data.raida, mimetype="text/plain")

        return serve("raida", build, index)

    # --- controls ---------------------------------------------------------------------------
    def body() -> dict[str, Any]:
        value = request.get_json(silent=True)
        return value if isinstance(value, dict) else {}

    def check_service(service: str):
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")

    @app.errorhandler(ValueError)
    def _bad(exc):
        return jsonify({"error": str(exc)}), 400

    @app.get("/_sim/state")
    def sim_state():
        return jsonify({**state.snapshot(), "services": list(SERVICES), "modes": list(MODES)})

    @app.post("/_sim/latency")
    def sim_latency():
        b = body()
        check_service(b.get("service", ""))
        state.set_latency(b["service"], float(b.get("ms", 0)), b.get("index"))
        return jsonify(state.snapshot())

    @app.post("/_sim/fault")
    def sim_fault():
        b = body()
        check_service(b.get("service", ""))
        state.set_fault(
            b["service"],
            b.get("mode"),
            times=b.get("times"),
            index=b.get("index"),
            retry_after=int(b.get("retry_after", 1)),
            status=b.get("status"),
        )
        return jsonify(state.snapshot())

    @app.post("/_sim/raida/<int:index>")
    def sim_raida(index: int):
        b = body()
        mode = b.get("mode") or ("down" if b.get("down") else None)
        state.set_fault("raida", mode, index=index, times=b.get("times"))
        return jsonify(state.snapshot())

    @app.post("/_sim/barrier")
    def sim_barrier():
        parties = body().get("parties")
        state.hold_until(int(parties) if parties else None, float(body().get("timeout", 30)))
        return jsonify({"parties": parties})

    @app.post("/_sim/leetcode/all_contests")
    def sim_leetcode_all_contests():
        state.leetcode_all_contests_gone = bool(body().get("gone"))
        return jsonify({"gone": state.leetcode_all_contests_gone})

    @app.post("/_sim/codeforces/limit")
    def sim_cf_limit():
        state.cf_calls_per_second = body().get("calls_per_second")
        return jsonify(state.snapshot())

    @app.post("/_sim/codeforces/round")
    def sim_cf_round():
        b = body()
        population = [str(h) for h in b.get("handles") or []]
        if b.get("prefix"):
            population += [f"{b['prefix']}{i:04d}" for i in range(int(b.get("count", 1000)))]
        return jsonify(
            state.cf_rounds.advance(
                float(b.get("fraction", 0.1)), int(b.get("submissions", 3)), bool(b.get("rated_contest")), population
            )
        )

    @app.post("/_sim/codeforces/missing")
    def sim_cf_missing():
        handles = {str(h).lower() for h in body().get("handles") or []}
        with state.cf_rounds.lock:
            state.cf_rounds.missing = handles
        return jsonify({"missing": sorted(handles)})

    @app.post("/_sim/students/<handle>/submissions")
    def sim_add_submissions(handle: str):
        if student_samples.submission_count(handle) is None:
            return jsonify({"error": f"no simulated user {handle}"}), 404
        count = int(body().get("count", 1))
        with state.lock:
            state.extra_submissions[handle.lower()] = state.extra_submissions.get(handle.lower(), 0) + count
        return jsonify({"handle": handle, "total": total_for(handle)})

    @app.post("/_sim/contests/codeforces/<contest_id>")
    def sim_edit_contest(contest_id: str):
        with state.lock:
            state.contest_edits.setdefault(contest_id, {}).update(body())
        return jsonify({"id": contest_id, "edits": state.contest_edits[contest_id]})

    @app.get("/_sim/log")
    def sim_log():
        with state.lock:
            return jsonify({"requests": list(state.log), "count": len(state.log)})

    @app.delete("/_sim/log")
    def sim_clear_log():
        with state.lock:
            state.log.clear()
        return jsonify({"count": 0})

    @app.post("/_sim/reset")
    def sim_reset():
        state.reset()
        return jsonify(state.snapshot())

    return app


def dumps(value: Any) -> str:
    """Compact JSON (for the CLI's config echo)."""
    return json.dumps(value, separators=(",", ":"))
