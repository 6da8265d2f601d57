"""The background student sync at Codeforces scale: batches, not-found handles, only what changed,
contests' rating changes applied once, and a manual sync ahead of background work."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx

import store.student_sync as sync_store
import store.students as students_store
from adapters import codeforces_users as cfu
from adapters.http import make_async_client
from core.settings import Settings, get_settings
from syncs.students_background import sync_all_students

FAST = Settings(http_backoff_base=0.0, http_backoff_max=0.0, http_retries=1)


def handles_of(request: httpx.Request) -> list[str]:
    return parse_qs(urlsplit(str(request.url)).query)["handles"][0].split(";")


def batch_transport(missing: set[str], seen: list[list[str]], name_in_comment=None) -> httpx.MockTransport:
    """user.info over a batch: FAILED naming the first missing handle, as Codeforces answers."""

    async def handler(request):
        handles = handles_of(request)
        seen.append(handles)
        absent = [h for h in handles if h in missing]
        if absent:
            named = name_in_comment or absent[0]
            return httpx.Response(
                400, json={"status": "FAILED", "comment": f"handles: User with handle {named} not found"}
            )
        return httpx.Response(200, json={"status": "OK", "result": [{"handle": h} for h in handles]})

    return httpx.MockTransport(handler)


def run_infos(transport, handles):
    async def main():
        async with make_async_client(FAST, transport=transport) as client:
            return await cfu.fetch_user_infos(client, FAST, handles)

    return asyncio.run(main())


def test_a_missing_handle_in_the_middle_of_a_batch_is_set_aside_and_the_rest_asked_again():
    seen: list[list[str]] = []
    handles = [f"h{i}" for i in range(9)]
    found, missing = run_infos(batch_transport({"h4"}, seen), handles)
    assert missing == ["h4"] and sorted(found) == sorted(h for h in handles if h != "h4")
    assert seen == [handles, [h for h in handles if h != "h4"]]  # two calls, not nine


def test_a_batch_whose_answer_names_no_handle_of_it_is_split_until_the_missing_ones_are_found():
    seen: list[list[str]] = []
    handles = [f"h{i}" for i in range(8)]
    found, missing = run_infos(batch_transport({"h2", "h5"}, seen, name_in_comment="someone_else"), handles)
    assert sorted(missing) == ["h2", "h5"] and len(found) == 6
    assert len(seen) < 2 * len(handles) - 1 and all(len(b) == 1 for b in seen if b[0] in ("h2", "h5") and len(b) == 1)


def test_batches_keep_to_the_handle_count_and_the_url_length():
    handles = [f"user_{i:05d}" for i in range(1000)]
    by_count = cfu.handle_batches(handles, 300, 1_000_000, 50)
    assert [len(b) for b in by_count] == [300, 300, 300, 100] and sum(by_count, []) == handles
    by_url = cfu.handle_batches(handles, 300, 2000, 50)
    assert sum(by_url, []) == handles
    for batch in by_url:  # what the URL really is once httpx encodes it
        url = str(httpx.URL("http://x/api/user.info", params={"handles": ";".join(batch)}))
        assert len(url) - len("http://x/api/user.info?handles=") + 50 <= 2000


def test_only_contests_finished_in_the_window_are_candidates_oldest_first():
    contests = [
        {"id": 3, "phase": "FINISHED", "startTimeSeconds": 1000, "durationSeconds": 100},
        {"id": 4, "phase": "FINISHED", "startTimeSeconds": 500, "durationSeconds": 100},
        {"id": 5, "phase": "CODING", "startTimeSeconds": 1000, "durationSeconds": 100},
        {"id": 6, "phase": "FINISHED", "startTimeSeconds": 100, "durationSeconds": 100},
        {"id": "x", "phase": "FINISHED"},
        "garbage",
    ]
    assert [c["contestId"] for c in cfu.finished_between(contests, 300, 1100)] == [4, 3]
    assert cfu.finished_between(contests, 1100, 2000) == []


def test_rating_changes_are_keyed_by_handle_and_an_unrated_contest_answers_none():
    changes = [
        {
            "contestId": 7,
            "contestName": "R",
            "handle": "Tourist",
            "rank": 1,
            "oldRating": 3500,
            "newRating": 3550,
            "ratingUpdateTimeSeconds": 10,
        },
        {"handle": "broken"},
        "garbage",
    ]
    parsed = cfu.parse_rating_changes(changes)
    assert list(parsed) == ["tourist"] and parsed["tourist"]["newRating"] == 3550 and "handle" not in parsed["tourist"]

    async def handler(request):
        return httpx.Response(
            400, json={"status": "FAILED", "comment": "contestId: Rating changes are unavailable for this contest"}
        )

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await cfu.fetch_rating_changes(client, FAST, 7)

    assert asyncio.run(main()) is None


# --- against the simulator and the store ----------------------------------------------------


def calls(sim, method):
    return [e for e in sim.log() if e["service"] == "codeforces" and e["path"].endswith("/" + method)]


def make_students(handles):
    for h in handles:
        students_store.create(h, f"{h}@example.com", h)


def test_a_first_sync_fetches_everyone_in_full_and_a_second_one_costs_only_batched_user_info(simulator, store_db):
    handles = [f"light_{i:04d}" for i in range(25)]
    make_students(handles)
    first = sync_all_students()
    assert first["synced"] == 25 and first["changed"] == 25 and first["failed"] == []
    assert (
        first["calls"]["user.info"] == 1 and first["calls"]["user.status"] == 25 and first["calls"]["user.rating"] == 25
    )
    student = students_store.get("light_0003")
    assert student["submissions"]["total"] > 0 and student["contestData"] and student["profile"]["lastOnlineAt"]
    simulator.clear_log()
    second = sync_all_students()
    assert second["skippedUnchanged"] == 25 and second["changed"] == 0
    # Unchanged students cost no user.status and no user.rating call (counted at the simulator).
    assert calls(simulator, "user.status") == [] and calls(simulator, "user.rating") == []
    assert len(calls(simulator, "user.info")) == 1 == second["calls"]["user.info"]
    assert second["callsTotal"] == len([e for e in simulator.log() if e["service"] == "codeforces"])


def test_active_students_alone_get_user_status_and_a_rated_contest_reaches_every_participant_once(simulator, store_db):
    handles = [f"light_{i:04d}" for i in range(40)]
    make_students(handles)
    sync_all_students()
    round_ = simulator.codeforces_round(0.3, submissions=4, rated_contest=True, population=handles)
    rounds = simulator.state.cf_rounds
    active = {h for h in handles if rounds.active(h, rounds.rounds[-1])}
    takers = {h for h in handles if rounds.takes_part(h, rounds.rounds[-1])}
    assert active and takers and len(active) < len(handles)
    totals = {h: students_store.get(h)["submissions"]["total"] for h in active}
    simulator.clear_log()

    result = sync_all_students()
    cid = round_["contestId"]
    rating_calls = [e for e in calls(simulator, "contest.ratingChanges") if f"contestId={cid}" in e["query"]]
    assert len(rating_calls) == 1
    assert {c["contestId"]: c["tracked"] for c in result["contestsApplied"]}[cid] == len(takers)
    status_handles = {parse_qs(e["query"])["handle"][0] for e in calls(simulator, "user.status")}
    assert status_handles == active  # only the active ones
    assert calls(simulator, "user.rating") == []  # every rating change was explained by the contest
    assert result["skippedUnchanged"] == len(handles) - len(active)
    for h in takers:
        doc = students_store.get(h)
        entries = [c for c in doc["contestData"] if c["contestId"] == cid]
        assert len(entries) == 1 and doc["currRating"] == entries[0]["newRating"]
    for h in active:
        assert students_store.get(h)["submissions"]["total"] == totals[h] + 4

    simulator.clear_log()
    again = sync_all_students()  # the contest is remembered: not asked for, not applied twice
    assert [e for e in calls(simulator, "contest.ratingChanges") if f"contestId={cid}" in e["query"]] == []
    assert cid not in {c["contestId"] for c in again["contestsApplied"]}
    assert all(len([c for c in students_store.get(h)["contestData"] if c["contestId"] == cid]) == 1 for h in takers)
    assert cid in sync_store.applied_contests([cid])


def test_a_rating_that_moved_without_a_known_contest_falls_back_to_user_rating(simulator, store_db):
    handles = [f"light_{i:04d}" for i in range(10)]
    make_students(handles)
    sync_all_students()
    store_db.students.update_one({"handleLower": "light_0004"}, {"$set": {"currRating": 1}})
    simulator.clear_log()
    result = sync_all_students()
    assert [parse_qs(e["query"])["handle"][0] for e in calls(simulator, "user.rating")] == ["light_0004"]
    assert calls(simulator, "user.status") == [] and result["changed"] == 1
    assert students_store.get("light_0004")["currRating"] != 1


def test_a_renamed_handle_is_marked_not_found_keeps_its_data_and_is_skipped_until_synced_by_hand(simulator, store_db):
    handles = [f"light_{i:04d}" for i in range(12)]
    make_students(handles)
    sync_all_students()
    before = students_store.get("light_0006")
    simulator.set_missing(["light_0006"])
    simulator.clear_log()
    result = sync_all_students()
    assert result["notFound"] == ["light_0006"] and result["synced"] == 11 and result["failed"] == []
    assert len(calls(simulator, "user.info")) == 2  # the batch, then the batch without it
    after = students_store.get("light_0006")
    assert after["handleStatus"] == "not_found" and after["handleNotFoundAt"] is not None
    assert after["submissions"] == before["submissions"] and after["contestData"] == before["contestData"]

    simulator.clear_log()
    later = sync_all_students()
    assert later["total"] == 11 and later["notFound"] == [] and later["skippedNotFound"] == ["light_0006"]
    assert all("light_0006" not in e["query"] for e in simulator.log())
    simulator.set_missing([])
    students_store.save_sync("light_0006", {})  # what a manual sync writes when it finds the handle again
    assert "handleStatus" not in students_store.get("light_0006")
    assert sync_all_students()["total"] == 12


# --- a manual sync goes ahead of background work ---------------------------------------------


def test_a_manual_sync_task_is_taken_before_queued_background_tasks(redis_url):
    from kombu import Consumer

    from workers.celery_app import create_celery

    settings = get_settings().replace(queue=f"prio-{uuid.uuid4().hex[:8]}", redis_url=redis_url)
    app = create_celery(settings)
    for i in range(3):
        app.send_task("syncq.students.sync_all", kwargs={"job_id": f"bg{i}"})
    app.send_task("syncq.students.sync_student", args=["petr"], kwargs={"job_id": "manual1"})
    app.send_task("syncq.students.sync_all", kwargs={"job_id": "bg3"})
    app.send_task("syncq.students.sync_student", args=["benq"], kwargs={"job_id": "manual2"})
    order: list[str] = []
    with app.connection_for_read() as conn:

        def got(body, message):
            order.append(message.headers["kwargsrepr"].split("'")[3])
            message.ack()

        with Consumer(conn, queues=app.amqp.queues.consume_from.values(), callbacks=[got], accept=["json"]):
            while len(order) < 6:
                conn.drain_events(timeout=5)
        for queue in app.amqp.queues.values():
            queue.bind(conn.default_channel).delete()
    # Round robin over the two queues would give bg0, manual1, bg1, manual2, ...
    assert order[:2] == ["manual1", "manual2"] and order[2:] == ["bg0", "bg1", "bg2", "bg3"]


def manual_wait_in_slots(redis_url, background: bool) -> float:
    """How many slots a manual call waits while six background callers keep the limit busy."""
    import threading

    import redis as redis_lib

    from adapters.ratelimit import JITTER_MARGIN, RateLimiter

    client, key, rate = redis_lib.Redis.from_url(redis_url), f"test:rl:{uuid.uuid4().hex}", 5.0
    busy, stop = RateLimiter(key, rate, 1, client=client, background=background), threading.Event()

    def background_caller():
        while not stop.is_set():
            wait, _ = busy.reserve()  # one slot held at a time, slept until due
            stop.wait(wait)

    threads = [threading.Thread(target=background_caller, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        stop.wait(1.0)  # let them take (or, reserving ahead, hold) the next slots
        seconds, micros = client.time()
        _, slot = RateLimiter(key, rate, 1, client=client).reserve()
        return (slot - (seconds + micros / 1e6)) / (JITTER_MARGIN / rate)
    finally:
        stop.set()
        for t in threads:
            t.join(10)


def test_a_manual_call_takes_the_next_slot_ahead_of_background_callers(redis_url):
    assert manual_wait_in_slots(redis_url, background=True) <= 2
    # The same callers reserving ahead (as every caller did before) push it back behind all six.
    assert manual_wait_in_slots(redis_url, background=False) >= 4


def test_an_operator_gives_a_renamed_student_its_new_handle_and_the_background_sync_takes_it_again(
    client, admin_headers, simulator, store_db
):
    make_students(["light_0001", "light_0002"])
    sync_all_students()
    stored = store_db.submissions.count_documents({"handle": "light_0002"})
    simulator.set_missing(["light_0002"])
    assert sync_all_students()["notFound"] == ["light_0002"]
    r = client.patch("/api/students/light_0002", headers=admin_headers, json={"codeforcesHandle": "light_0102"})
    assert r.status_code == 200 and r.get_json()["codeforcesHandle"] == "light_0102"
    assert (
        "handleStatus" not in r.get_json() and store_db.submissions.count_documents({"handle": "light_0102"}) == stored
    )
    taken = client.patch("/api/students/light_0102", headers=admin_headers, json={"codeforcesHandle": "LIGHT_0001"})
    assert taken.status_code == 409
    result = sync_all_students()
    assert result["total"] == 2 and result["notFound"] == [] and result["changed"] == 1  # the new account's data
