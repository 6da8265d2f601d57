"""Students at Codeforces scale: calls per student of a background sync, a manual sync's
wait mid background sync, and the stats route on 10,000 stored submissions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from adapters import codeforces_users as cfu
from bench.cases import REPS, row
from bench.http import ASYNC
from bench.stack import Stack, median, wait_until
from syncq.samples import students as student_samples


def _job_result(stack: Stack, response: httpx.Response) -> dict:
    while response.status_code == 202:
        response = stack.http.get(f"/jobs/{response.json()['job_id']}", params={"wait": 60})
    assert response.status_code == 200, response.text
    return response.json()


def _seed_synced(stack: Stack, count: int) -> list[str]:
    """`count` students stored as a background sync left them yesterday (their `user.info` as the
    simulator answers it now), so the next sync sees only what a round of activity changes."""
    handles = [f"light_{i:04d}" for i in range(count)]
    stack.db.students.delete_many({})
    stack.db.submissions.delete_many({})
    stack.db.student_sync.delete_many({})
    docs, now = [], datetime.now(UTC)
    with httpx.Client(base_url=f"{stack.sim_url}/codeforces/api", timeout=60) as sim:
        for batch in cfu.handle_batches(handles, 300, 8192, 60):
            infos = sim.get("/user.info", params={"handles": ";".join(batch)}).json()["result"]
            for handle, info in zip(batch, infos):
                profile = cfu.parse_user_info(info)
                top = {k: profile.pop(k) for k in ("currRating", "rank", "maxRating", "maxRank")}
                docs.append(
                    {
                        "name": handle,
                        "email": f"{handle}@example.com",
                        "codeforcesHandle": handle,
                        "handleLower": handle,
                        **top,
                        "profile": profile,
                        "contestData": student_samples.user_rating(handle)[-3:],
                        "submissions": {"total": 0, "byVerdict": {}, "solvedCount": 0, "solved": [], "last50": []},
                        "lastActiveAt": None,
                        "lastSyncedAt": now - timedelta(days=1),
                        "createdAt": now,
                    }
                )
    stack.db.students.insert_many(docs)
    stack.db.student_sync.insert_one({"_id": "state", "lastBackgroundSyncAt": now - timedelta(days=1)})
    stack.simctl.delete("/_sim/log")
    return handles


def students_at_scale(stack: Stack, students: int = 10_000) -> list[dict]:
    """A background sync of 10,000 students, 10% active since the last sync and a rated contest
    finished: Codeforces calls made against the naive plan's 3 per student."""
    stack.sim("reset")
    stack.start_worker(concurrency=4, SYNCQ_CF_RATE_PER_SECOND="500", SYNCQ_CF_RATE_BURST="20")
    handles = _seed_synced(stack, students)
    stack.sim(
        "codeforces/round",
        {"fraction": 0.1, "submissions": 3, "rated_contest": True, "prefix": "light_", "count": students},
    )
    stack.simctl.delete("/_sim/log")
    started = time.perf_counter()
    result = _job_result(stack, stack.http.post("/api/students/sync", params={"wait": 60}))
    wall = time.perf_counter() - started
    made = len(stack.sim_log("codeforces"))
    assert result["total"] == len(handles) and not result["failed"], result
    naive = 3 * students
    per_student, saving = made / students, naive / made
    calls = ", ".join(f"{k} {v}" for k, v in result["calls"].items())
    note = (
        f"{made} calls ({calls}); {result['skippedUnchanged']} unchanged; wall {wall:.0f} s with the limit "
        f"raised to 500/s (at 0.5/s: {made * 2.16 / 3600:.1f} h)"
    )
    stack.start_worker()
    return [
        row(
            f"background sync of {students:,} students, 10% active",
            "Codeforces calls / students",
            per_student,
            "<= 0.15",
            per_student <= 0.15,
            note,
        ),
        row(
            f"background sync of {students:,} students, 10% active",
            "calls the naive plan makes / calls made",
            saving,
            ">= 20",
            saving >= 20,
            f"naive: 3 x {students:,} = {naive:,}",
        ),
    ]


def manual_mid_background(stack: Stack, students: int = 1000, rate: float = 5.0) -> list[dict]:
    """Manual syncs started during a 1,000-student background sync: each one's wait before its
    first call, in slots of the shared limit."""
    stack.sim("reset")
    stack.start_worker(concurrency=4, SYNCQ_CF_RATE_PER_SECOND=str(rate), SYNCQ_CF_RATE_BURST="1")
    handles = _seed_synced(stack, students)
    stack.sim("codeforces/round", {"fraction": 0.1, "submissions": 3, "prefix": "light_", "count": students})
    stack.simctl.delete("/_sim/log")
    slot = 1.08 / rate  # the limit's slot (its jitter margin included)

    answers: list[float] = []

    def manual_waits(chosen: list[str]) -> list[float]:
        waits = []
        for handle in chosen:
            triggered = datetime.now(UTC)
            response = stack.http.post(f"/api/codeforces/sync/{handle}", params={"wait": 30})
            assert response.status_code == 200, response.text
            answers.append((datetime.now(UTC) - triggered).total_seconds() / slot)
            mine = [
                e
                for e in stack.sim_log("codeforces")  # its own calls, not the background's for the same one
                if (f"handle={handle}&" in e["query"] + "&" or e["query"] == f"handles={handle}")
                and datetime.fromisoformat(e["started_at"]) >= triggered
            ]
            first = min(datetime.fromisoformat(e["started_at"]) for e in mine)
            waits.append((first - triggered).total_seconds() / slot)
            time.sleep(4 * slot)  # the limit idles again (alone) / the background takes its slots back
        return waits

    # With the limit idle: the path's own cost in slots (API, queue, worker, Redis), and every
    # worker process's first connections made before anything is measured.
    idle = manual_waits(handles[900 : 900 + 2 * REPS])[REPS:]
    stack.simctl.delete("/_sim/log")
    # respond-async: with no preference the trigger would wait (up to SYNCQ_SYNC_WAIT) for the
    # background sync to end, and the manual syncs would run after it, not during it.
    background = stack.http.post("/api/students/sync", headers=ASYNC)
    assert background.status_code == 202, background.text
    wait_until(lambda: len(stack.sim_log("codeforces")) > 10, 60, "the background sync to be under way")
    answers.clear()
    busy = manual_waits(handles[100 : 100 + 2 * REPS])
    result = _job_result(stack, stack.http.get(f"/jobs/{background.json()['job_id']}", params={"wait": 60}))
    stack.start_worker()
    value = median(busy)
    return [
        row(
            f"a manual sync started mid background sync ({students:,} students)",
            "its wait before its first call / the rate limiter's slot",
            value,
            "<= 3",
            value <= 3,
            f"limit {rate:g}/s (slot {slot * 1000:.0f} ms); median of {len(busy)}, max {max(busy):.2f}; with the "
            f"limit idle {median(idle):.2f}; its answer (3 calls, the student back) after {median(answers):.2f} slots; "
            f"the background sync made {result['callsTotal']} calls",
        )
    ]


def student_stats(stack: Stack, submissions: int = 10_000, requests: int = 200) -> list[dict]:
    """The stats route for a student with 10,000 stored submissions (stored as a sync stores them,
    with the monthly aggregates), against reading the student: p50 and p99."""
    import store.stats as stats_store
    from bench.reads import _as_api

    handle = "stats_10k"
    stack.db.students.delete_many({"handleLower": handle})
    stack.db.submissions.delete_many({"handle": handle})
    stack.db.student_months.delete_many({"handle": handle})
    now = int(time.time())
    items = student_samples.user_status("heavy_10k", submissions)
    for k, item in enumerate(items):  # spread over the last 365 days, newest first
        item["creationTimeSeconds"] = now - 60 - k * (365 * 86400 // submissions)
    _as_api(stack)
    started = time.perf_counter()
    stats_store.save_submissions(handle, cfu.parse_submissions(items, handle).records)
    stored = time.perf_counter() - started
    stack.db.students.insert_one(
        {
            "name": "Stats",
            "email": "s@example.com",
            "codeforcesHandle": handle,
            "handleLower": handle,
            "currRating": 2000,
            "contestData": [],
            "submissions": cfu.summarize_submissions([]),
            "createdAt": datetime.now(UTC),
        }
    )
    timings: dict[str, list[float]] = {"stats": [], "doc": []}
    for _ in range(requests):
        for name, path in (("stats", f"/api/students/{handle}/stats?days=365"), ("doc", f"/api/students/{handle}")):
            wall, response = stack.timed("GET", path)
            assert response.status_code == 200, response.text
            timings[name].append(wall)
    body = stack.http.get(f"/api/students/{handle}/stats?days=365").json()
    p50 = median(timings["stats"]) / median(timings["doc"])
    p99s = {k: sorted(v)[int(len(v) * 0.99) - 1] for k, v in timings.items()}
    p99 = p99s["stats"] / p99s["doc"]
    case = f"stats for a student with {submissions:,} submissions"
    note = (
        f"p50 {median(timings['stats']) * 1000:.1f} ms vs {median(timings['doc']) * 1000:.1f} ms; p99 "
        f"{p99s['stats'] * 1000:.1f} ms vs {p99s['doc'] * 1000:.1f} ms; {body['submissions']} submissions in the "
        f"window, {body['solved']} solved; storing them with their aggregates took {stored:.1f} s"
    )
    why = "the route reads the student and the monthly aggregates its window covers (13 documents for 365 days)"
    return [
        row(case, "API time / time to read the student (p50)", p50, "<= 3", p50 <= 3, note, why),
        row(case, "API time / time to read the student (p99)", p99, "<= 3", p99 <= 3, note, why),
    ]


CASES = [students_at_scale, manual_mid_background, student_stats]
