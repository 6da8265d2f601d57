"""The simulator's run-time controls over HTTP, `/_sim/...` (listed in `syncq.simulator`): latency,
faults, RAIDA outages, Codeforces activity, edits to the data served, the request log and a reset."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from syncq.samples import students as student_samples
from syncq.simulator.platforms import total_for
from syncq.simulator.state import MODES, SERVICES, SimState


def add_routes(app: Flask, state: SimState) -> None:
    """Add the `/_sim` routes to the simulator `app`; a bad value in a control answers 400."""

    def body() -> dict[str, Any]:
        value = request.get_json(silent=True)
        return value if isinstance(value, dict) else {}

    def check_service(service: str):
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")

    # App-wide, as it always was: a ValueError from any route answers 400 with its message.
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
        return jsonify({"handle": handle, "total": total_for(state, handle)})

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
