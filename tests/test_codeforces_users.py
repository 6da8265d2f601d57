"""Codeforces student calls: parsers on recorded payloads, proven concurrency, no retry on 400."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import bson
import httpx
import pytest

from adapters import codeforces_users as cfu
from adapters.errors import PermanentError
from adapters.http import make_async_client, send_async
from core.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
FAST = Settings(http_backoff_base=0.0, http_backoff_max=0.0, http_retries=3)


def load(name):
    return json.loads((FIXTURES / name).read_text())


def test_user_info_fields():
    profile = cfu.parse_user_info(load("codeforces_user_info.json")["result"][0])
    assert profile["handle"] == "heavy_10k" and isinstance(profile["currRating"], int)
    assert profile["rank"] and profile["maxRating"] >= profile["currRating"]


def test_unrated_user_has_no_rating():
    profile = cfu.parse_user_info({"handle": "newbie1"})
    assert profile["currRating"] is None and profile["rank"] == "unrated"


def test_rating_changes_keep_the_documented_fields():
    changes = cfu.parse_user_rating(load("codeforces_user_rating.json")["result"])
    assert set(changes[0]) == {"contestId", "contestName", "rank", "oldRating", "newRating", "ratingUpdateTimeSeconds"}


def test_ten_thousand_submissions_summarise_small():
    parsed = cfu.parse_submissions(load("codeforces_user_status_10000.json")["result"], "heavy_10k")
    assert len(parsed.records) == 10000 and parsed.failed == []
    summary = cfu.summarize_submissions(parsed.records)
    assert summary["total"] == 10000 and sum(summary["byVerdict"].values()) == 10000
    assert summary["byVerdict"]["IN_QUEUE"] == 10 and len(summary["last50"]) == 50
    assert summary["last50"][0]["submissionId"] == max(r["submissionId"] for r in parsed.records)
    assert len(bson.encode({"submissions": summary})) < 200_000


def test_last_active_at_is_the_newest_ok_submission():
    parsed = cfu.parse_submissions(load("codeforces_user_status_10000.json")["result"], "heavy_10k").records
    newest_ok = max((r for r in parsed if r["verdict"] == "OK"), key=lambda r: r["creationTimeSeconds"])
    assert cfu.last_active_at(parsed) == newest_ok["creationTime"]
    assert cfu.last_active_at([r for r in parsed if r["verdict"] != "OK"]) is None


def test_merge_summary_adds_new_submissions():
    parsed = cfu.parse_submissions(load("codeforces_user_status_10000.json")["result"], "h").records
    old = cfu.summarize_submissions(parsed[10:])
    merged = cfu.merge_summary(old, parsed[:10])
    assert merged == cfu.summarize_submissions(parsed)


def test_three_calls_are_in_flight_together():
    arrived, gate = [], {}

    async def handler(request):
        gate.setdefault("all", asyncio.Event())
        arrived.append(request.url.path.rsplit("/", 1)[1])
        if len(arrived) == 3:
            gate["all"].set()
        # Held until all three have arrived: calls made one after another never get here.
        await asyncio.wait_for(gate["all"].wait(), timeout=10)
        method = request.url.path.rsplit("/", 1)[1]
        body = {"user.info": [{"handle": "x"}], "user.rating": [], "user.status": []}[method]
        return httpx.Response(200, json={"status": "OK", "result": body})

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await cfu.fetch_student(client, FAST, "x")

    payload = asyncio.run(main())
    assert sorted(arrived) == ["user.info", "user.rating", "user.status"] and payload.complete


def test_unknown_handle_is_permanent_with_one_request_per_call():
    calls = []

    async def handler(request):
        calls.append(request.url.path)
        return httpx.Response(400, json=load("codeforces_user_not_found_400.json"))

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await cfu.fetch_student(client, FAST, "nobody_here")

    with pytest.raises(PermanentError, match="User with handle nobody_here not found"):
        asyncio.run(main())
    assert len(calls) <= 3 and len(set(calls)) == len(calls)


def test_incremental_paging_fetches_only_the_new_page():
    full = load("codeforces_user_status_10000.json")["result"]
    newest_known = full[0]["id"]
    fresh = [dict(full[i], id=newest_known + 10 - i) for i in range(10)]
    served = fresh + full
    requested = []

    async def handler(request):
        start, count = int(request.url.params["from"]), int(request.url.params["count"])
        requested.append((start, count))
        return httpx.Response(200, json={"status": "OK", "result": served[start - 1 : start - 1 + count]})

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await cfu.fetch_new_submissions(client, FAST, "h", newest_known)

    new, spent = asyncio.run(main())
    assert [s["id"] for s in new] == [s["id"] for s in fresh] and requested == [(1, 50)]
    full_bytes = len(json.dumps({"status": "OK", "result": full}))
    assert spent / full_bytes < 0.02


def test_the_hook_before_call_returns_runs_once_the_connection_is_open_right_before_the_request_is_written(_simulator):
    # A real connection to the simulator, so httpcore opens it and says when it writes: a shared
    # rate limit logs the call here, not before connecting (a descheduled worker connected late).
    settings = Settings(codeforces_url=f"{_simulator.url}/codeforces", http_retries=1)
    events: list[str] = []

    async def trace(event, _info):
        events.append(event)

    async def before_call(method):
        events.append(f"before_call {method}")

        async def at_send():
            events.append("at_send")

        return at_send

    async def main():
        async with make_async_client(settings) as client:
            url = f"{settings.codeforces_url}/api/user.info"
            response = await send_async(
                client,
                "GET",
                url,
                service="codeforces",
                params={"handles": "tourist"},
                at_send=await before_call("user.info"),
                extensions={"trace": trace},
            )
            return response.json()

    assert asyncio.run(main())["status"] == "OK"
    assert events.count("at_send") == 1
    at = events.index("at_send")
    assert events.index("connection.connect_tcp.complete") < at
    # Between the event that starts the write and the write's end, nothing else: the call is
    # logged at the moment it really goes out.
    assert events[at - 1] == "http11.send_request_headers.started"
    assert events[at + 1] == "http11.send_request_headers.complete"


def test_every_attempt_runs_its_own_hook_before_the_stub_transport_sees_the_request():
    seen: list[str] = []
    answers = iter([httpx.Response(503, text="busy"), httpx.Response(200, json={"status": "OK", "result": []})])

    def handler(request):
        seen.append("request")
        return next(answers)

    async def before_call(method):
        seen.append(f"before_call {method}")

        async def at_send():
            seen.append("at_send")

        return at_send

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await cfu.api_call_async(client, FAST, "user.rating", {"handle": "x"}, before_call)

    assert asyncio.run(main()).result == []
    # A stub transport emits no httpcore trace: the hook runs just before it is handed the request,
    # once per attempt (a retried call pays the shared limit again).
    assert seen == ["before_call user.rating", "at_send", "request"] * 2


def test_a_before_call_that_returns_no_hook_still_lets_the_call_go():
    async def before_call(_method):
        return None  # the rate limit's local fallback already spaced the call

    async def main():
        transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"status": "OK", "result": [1]}))
        async with make_async_client(FAST, transport=transport) as client:
            return await cfu.api_call_async(client, FAST, "user.rating", {"handle": "x"}, before_call)

    assert asyncio.run(main()).result == [1]
