"""The simulator's platforms on their real paths and formats: Codeforces, LeetCode, CodeChef, AtCoder,
kenkoooo and the 25 RAIDA, serving payloads generated once at start (`Data`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Response, jsonify, request

from syncq.samples import contests as contest_samples
from syncq.samples import raida as raida_samples
from syncq.samples import students as student_samples
from syncq.simulator.state import SimState


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


def total_for(state: SimState, handle: str) -> int | None:
    """How many submissions a simulated Codeforces student has now (None: no such handle, or renamed)."""
    base = student_samples.submission_count(handle)
    if base is None or handle.lower() in state.cf_rounds.missing:
        return None
    return base + state.extra_submissions.get(handle.lower(), 0) + state.cf_rounds.extra_submissions(handle)


def add_routes(app: Flask, serve: Callable[..., Response], state: SimState, data: Data) -> None:
    """Add the platforms' routes to the simulator `app` (`serve` applies faults and logs)."""

    def cf_ok(result: Any) -> Response:
        return jsonify({"status": "OK", "result": result})

    def cf_not_found(handle: str, field: str = "handle") -> Response:
        return jsonify({"status": "FAILED", "comment": f"{field}: User with handle {handle} not found"}), 400

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
            missing = [h for h in handles if total_for(state, h) is None]
            if not handles or missing:
                return cf_not_found(missing[0] if missing else "", "handles")
            return cf_ok([user_info(h) for h in handles])

        return serve("codeforces", build)

    @app.get("/codeforces/api/user.rating")
    def cf_rating():
        def build():
            handle = request.args.get("handle", "")
            if total_for(state, handle) is None:
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
            total = total_for(state, handle)
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
