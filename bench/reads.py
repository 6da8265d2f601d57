"""The public reads at their readers' scale: the calendar and the default page of `GET /contests`
(warm, conditional, cold) against a bare Flask route, and 10,000 calendar subscribers polling hourly.

Every case stores the simulator's contests multiplied to 5,000 first (`seed_contests`), through
the store's own writer, so the versions the API reads move as a sync would move them.
"""

from __future__ import annotations

import os
import time

from bench.cases import REPS, row
from bench.http import start_bare, wrk
from bench.stack import Stack, cpu_seconds, median

CONTESTS = 5_000
SUBSCRIBERS = 10_000
POLL_SECONDS = 3600
REPLAY_SECONDS = 60


def _as_api(stack: Stack) -> None:
    """Point this process's store and versions where the stack's API reads them (same Redis,
    queue and database), so a write made here moves the versions the API sees."""
    import store
    from core.settings import reload_settings

    for name in ("SYNCQ_REDIS_URL", "SYNCQ_QUEUE", "SYNCQ_MONGODB_URI"):
        os.environ[name] = stack.base_env[name]
    reload_settings()
    store.configure(None, None)


def seed_contests(stack: Stack, total: int = CONTESTS) -> int:
    """The simulator's contests (one sync-all), then copies under new ids until `total`; returns
    how many the simulator gave."""
    import store.contests as contests_store

    _as_api(stack)
    stack.sim("reset")
    if stack.db.contests.count_documents({}) < total:
        response = stack.http.post("/contests/sync/all", params={"wait": 60})
        while response.status_code == 202:  # still running: wait on its job
            response = stack.http.get(f"/jobs/{response.json()['job_id']}", params={"wait": 60})
        assert response.status_code == 200, response.text
    originals = list(stack.db.contests.find({"platformId": {"$not": {"$regex": "~"}}}, {"_id": 0}))
    missing = total - stack.db.contests.count_documents({})
    copies: dict[str, list[dict]] = {}
    for k in range(max(0, missing)):
        doc = dict(originals[k % len(originals)])
        doc["platformId"] = f"{doc['platformId']}~{k // len(originals) + 1}"
        for key in ("contentHash", "createdAt", "updatedAt", "sequence"):
            doc.pop(key, None)
        copies.setdefault(doc["platform"], []).append(doc)
    for platform, docs in copies.items():
        contests_store.upsert_contests(platform, docs)
    assert stack.db.contests.count_documents({}) == total
    return len(originals)


def _move(stack: Stack, n: int) -> None:
    """A write that changes one contest (as a sync that found it renamed): its versions move."""
    import store.contests as contests_store

    doc = stack.db.contests.find_one({"platform": "codeforces", "phase": "UPCOMING"}, {"_id": 0})
    assert doc is not None, "the simulator lists upcoming Codeforces contests"
    fields = {k: v for k, v in doc.items() if k not in ("contentHash", "createdAt", "updatedAt", "sequence")}
    fields["name"] = f"{doc['name'].split(' #')[0]} #{n}"
    assert contests_store.upsert_contests("codeforces", [fields]).written == 1


def _cold(stack: Stack, path: str, reps: int = REPS) -> tuple[float, int]:
    """Median ms of the first request after a version moved, and the answer's bytes."""
    walls, size = [], 0
    for n in range(reps):
        _move(stack, n)
        wall, response = stack.timed("GET", path)
        assert response.status_code == 200, response.text
        walls.append(wall * 1000)
        size = len(response.content)
    return median(walls), size


def _cold_page_parts(stack: Stack) -> str:
    """Where a cold default page's time goes, measured in this process: the store's queries (how
    many, and their ms) and the JSON encoding, against the API's cold answer."""
    import json

    from pymongo import monitoring

    import store
    import store.contests as contests_store

    class Count(monitoring.CommandListener):
        def __init__(self):
            self.finds, self.ms = 0, 0.0

        def started(self, event):
            pass

        def succeeded(self, event):
            if event.command_name in ("find", "getMore"):
                self.finds += 1
                self.ms += event.duration_micros / 1000

        def failed(self, event):
            pass

    listener = Count()
    monitoring.register(listener)
    store.reset_after_fork()  # a client made with the listener
    reads, encodes = [], []
    for _ in range(REPS):
        listener.finds, listener.ms = 0, 0.0
        start = time.perf_counter()
        items, cursor = contests_store.find_contests(limit=50)
        reads.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        json.dumps({"contests": items, "count": len(items), "next_cursor": cursor}, default=str)
        encodes.append((time.perf_counter() - start) * 1000)
    store.reset_after_fork()
    return (
        f"the page's reads {median(reads):.1f} ms in {listener.finds} queries (store {listener.ms:.1f} ms of it), "
        f"JSON {median(encodes):.1f} ms"
    )


def public_reads(stack: Stack) -> list[dict]:
    """The calendar (default query) and the default page of GET /contests over 5,000 contests:
    cold builds, then warm and conditional (304) throughput against a bare Flask route."""
    given = seed_contests(stack)
    # No worker while reads are measured: a job an earlier case left behind (a redelivered message)
    # that writes contests would move the versions mid-measurement. (A full run still showed one
    # such move without it; the repetitions below check for that.)
    stack.worker.stop()
    cold_feed, feed_bytes = _cold(stack, "/contests.ics")
    cold_page, page_bytes = _cold(stack, "/contests")
    parts = _cold_page_parts(stack)
    bare, bare_url = start_bare(stack)
    api = [stack.api.process.pid, *stack.api.children()]
    results: dict[str, list[tuple[float, float, float]]] = {"bare": [], "feed": [], "304": [], "page": []}
    answered: list[int] = []  # what each repetition's conditional requests were answered, checked after
    try:
        # A repetition whose versions moved mid-run (its ETag then answered 200) measured full answers
        # as conditional ones: it is done again, at most REPS more times, and the note says so.
        while answered.count(304) < REPS and len(answered) < 2 * REPS:
            etag = stack.http.get("/contests.ics").headers["ETag"]  # what a calendar app last got
            rep: dict[str, tuple[float, float, float]] = {}
            for key, url, headers in (
                ("bare", f"{bare_url}/bare", None),
                ("feed", f"{stack.url}/contests.ics", None),
                ("304", f"{stack.url}/contests.ics", {"If-None-Match": etag}),
                ("page", f"{stack.url}/contests", None),
            ):
                pids = [bare.process.pid, *bare.children()] if key == "bare" else api
                before = sum(cpu_seconds(pid) for pid in pids)
                rps, p99, total = wrk(url, headers=headers)
                rep[key] = (rps, p99, (sum(cpu_seconds(pid) for pid in pids) - before) / total * 1000)
                if key == "304":  # wrk counts any 3xx or 2xx as good: ask once more, by hand
                    answered.append(stack.http.get("/contests.ics", headers={"If-None-Match": etag}).status_code)
            if answered[-1] == 304:
                for key, measured_rep in rep.items():
                    results[key].append(measured_rep)
    finally:
        bare.stop()
        stack.start_worker()

    def med(key: str, i: int) -> float:
        return median([r[i] for r in results[key]])

    bare_rps = med("bare", 0)
    case = f"public reads over {CONTESTS:,} contests (the simulator's {given:,} multiplied), 32 clients"
    rows = [
        row(
            "calendar, default query (what ended in the last 30 days and later)",
            "cold build ms (first request after a version moved)",
            cold_feed,
            "report",
            True,
            f"feed {feed_bytes:,} bytes; {CONTESTS:,} contests stored",
        ),
        row(
            "GET /contests, default page (50)",
            "cold page ms (first request after a version moved)",
            cold_page,
            "report",
            True,
            f"{page_bytes:,} bytes; in-process: {parts}",
        ),
    ]
    for key, label, goal in (
        ("feed", "calendar, default query, warm", 0.5),
        ("304", "calendar, conditional request (If-None-Match) answered 304", 0.7),
        ("page", "GET /contests, default page, warm", 0.5),
    ):
        ratio = med(key, 0) / bare_rps
        # The conditional requests count only if they were answered 304 (the versions held still).
        measured = key != "304" or answered.count(304) >= REPS
        why = (
            f"a request cost {med(key, 2):.2f} ms of the API's CPU against the bare route's {med('bare', 2):.2f} "
            f"ms (its gunicorn processes), on {os.cpu_count()} cores shared with wrk, Redis and the store"
            + ("" if measured else "; and some conditional requests were not answered 304 (see the note)")
        )
        rows.append(
            row(
                f"{label} ({case})",
                "requests/s / requests/s of a bare Flask route",
                ratio,
                f">= {goal}",
                ratio >= goal and measured,
                f"{med(key, 0):.0f} vs {bare_rps:.0f} req/s; p99 {med(key, 1):.1f} ms (bare {med('bare', 1):.1f}); "
                f"CPU ms a request: API {med(key, 2):.2f} (bare {med('bare', 2):.2f}); each repetition "
                f"{', '.join(f'{r[0] / b[0]:.2f}' for r, b in zip(results[key], results['bare']))}"
                + (
                    f"; the same request after each run answered {', '.join(map(str, answered))}"
                    if key == "304"
                    else ""
                ),
                why,
            )
        )
    return rows


def calendar_subscribers(stack: Stack) -> list[dict]:
    """10,000 subscribers polling the calendar once an hour, replayed at that rate for a minute:
    the CPU the API and the store use, as a share of one core. Each poll sends the ETag it has
    (calendar apps do); the minute starts with one sync's write, so one poll builds the feed."""
    import httpx

    seed_contests(stack)
    rate = SUBSCRIBERS / POLL_SECONDS
    client = httpx.Client(base_url=stack.url, timeout=60)
    etag = client.get("/contests.ics").headers["ETag"]
    pids = {
        "API": [stack.api.process.pid, *stack.api.children()],
        "store": [stack.mongo.process.pid],
        "Redis": [int(stack.redis.info("server")["process_id"])],
    }
    before = {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()}
    _move(stack, 99)
    statuses: dict[int, int] = {}
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < REPLAY_SECONDS:
        due = start + sent / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # the replay's pace, not a wait for a condition
        response = client.get("/contests.ics", headers={"If-None-Match": etag})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        etag = response.headers.get("ETag", etag)
        sent += 1
    elapsed = time.monotonic() - start
    client.close()
    used = {name: (sum(cpu_seconds(pid) for pid in group) - before[name]) / elapsed for name, group in pids.items()}
    share = (used["API"] + used["store"]) * 100
    return [
        row(
            f"{SUBSCRIBERS:,} calendar subscribers polling hourly, replayed for {REPLAY_SECONDS} s "
            f"({rate:.2f} req/s, {CONTESTS:,} contests)",
            "CPU of the API and the store, % of one core",
            share,
            "<= 5",
            share <= 5,
            f"{sent} polls: {', '.join(f'{n} answered {code}' for code, n in sorted(statuses.items()))}; "
            f"API {used['API'] * 100:.2f}%, store {used['store'] * 100:.2f}%, Redis {used['Redis'] * 100:.2f}%",
            "the minute's one feed build (after the write that opened it) and the polls' CPU, measured above",
        )
    ]


CASES = [public_reads, calendar_subscribers]
