"""Contest adapters: pure parsers on recorded payloads, fetch through mock transports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters import atcoder, codechef, codeforces, leetcode, registry
from adapters.errors import ParseError, PermanentError, SyncError, TransientError
from adapters.http import make_client
from core.settings import Settings
from syncq.samples.contests import FIXED_NOW

FIXTURES = Path(__file__).parent / "fixtures"
FAST = Settings(http_backoff_base=0.0, http_backoff_max=0.0, http_retries=3)


def load(name: str):
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def client_for(handler, settings: Settings = FAST) -> httpx.Client:
    return make_client(settings, transport=httpx.MockTransport(handler))


def test_registry_lists_the_four_platforms_in_order():
    assert registry.names() == ["codeforces", "leetcode", "codechef", "atcoder"]


# --- Codeforces ------------------------------------------------------------------------------


def test_codeforces_parses_about_two_thousand_contests():
    result = codeforces.parse(load("codeforces_contest_list.json")["result"])
    assert len(result.records) == 2000 and result.failed == []
    first = result.records[-1]
    assert first.platform == "codeforces" and first.url == f"https://codeforces.com/contest/{first.platformId}"
    assert first.startTime.tzinfo == UTC and first.endTime > first.startTime


def test_codeforces_phases_are_normalised_and_raw_phase_kept():
    result = codeforces.parse(load("codeforces_contest_list.json")["result"])
    pairs = {(c.rawPhase, c.phase) for c in result.records}
    assert ("BEFORE", "UPCOMING") in pairs and ("FINISHED", "FINISHED") in pairs
    assert all(c.phase in ("UPCOMING", "RUNNING", "FINISHED") for c in result.records)


def test_codeforces_contest_without_start_time_has_no_times():
    result = codeforces.parse(
        [{"id": 7, "name": "Round", "type": "CF", "phase": "BEFORE", "frozen": False, "durationSeconds": 7200}]
    )
    contest = result.records[0]
    assert contest.startTime is None and contest.endTime is None and contest.durationSeconds == 7200


def test_codeforces_drops_the_ever_changing_relative_time():
    item = load("codeforces_contest_list.json")["result"][10]
    assert "relativeTimeSeconds" in item
    assert "relativeTimeSeconds" not in codeforces.parse([item]).records[0].raw


@pytest.mark.parametrize(
    "bad",
    [
        {"id": 1, "name": "x", "type": "CF", "phase": "FINISHED", "durationSeconds": -5, "startTimeSeconds": 1},
        {
            "id": 2,
            "name": "x",
            "type": "CF",
            "phase": "FINISHED",
            "durationSeconds": 7200,
            "startTimeSeconds": 253402300799,
        },
        {"id": 3, "name": "x", "type": "CF", "phase": "SOMETIME", "durationSeconds": 7200},
        {"id": "four", "name": "x", "phase": "FINISHED", "durationSeconds": 1},
        "not an object",
    ],
)
def test_codeforces_absurd_or_malformed_items_are_skipped_and_counted(bad):
    good = {
        "id": 9,
        "name": "ok",
        "type": "CF",
        "phase": "FINISHED",
        "durationSeconds": 60,
        "startTimeSeconds": 1700000000,
    }
    result = codeforces.parse([good, bad])
    assert [c.platformId for c in result.records] == ["9"] and len(result.failed) == 1


def test_codeforces_empty_list_is_empty_not_an_error():
    assert codeforces.parse([]).records == []


def test_codeforces_wrong_shape_is_a_parse_error():
    with pytest.raises(ParseError, match="not a list"):
        codeforces.parse({"contests": []})


def test_codeforces_failed_envelope_with_400_is_permanent_and_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(400, json=load("codeforces_failed_400.json"))

    with pytest.raises(PermanentError, match="gym: Field should contain boolean value"):
        codeforces.fetch(client_for(handler), FAST)
    assert len(calls) == 1


def test_codeforces_call_limit_is_retried_then_succeeds():
    answers = [
        httpx.Response(503, json=load("codeforces_call_limit.json")),
        httpx.Response(200, json={"status": "OK", "result": []}),
    ]
    assert codeforces.fetch(client_for(lambda request: answers.pop(0)), FAST) == []
    assert answers == []


def test_codeforces_call_limit_backs_off_at_least_two_seconds(own_sleeps):
    waits = own_sleeps
    answers = [
        httpx.Response(503, json=load("codeforces_call_limit.json")),
        httpx.Response(200, json={"status": "OK", "result": []}),
    ]
    settings = FAST.replace(http_backoff_max=30.0)
    codeforces.fetch(client_for(lambda request: answers.pop(0), settings), settings)
    assert waits == [2.0]


def test_codeforces_retries_503_then_succeeds():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503, text="<html>Service Unavailable</html>", headers={"Content-Type": "text/html"})
        return httpx.Response(200, json={"status": "OK", "result": [{"id": 1}]})

    assert codeforces.fetch(client_for(handler), FAST) == [{"id": 1}]
    assert len(calls) == 3


def test_codeforces_gives_up_after_the_configured_retries():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError, match="unreachable"):
        codeforces.fetch(client_for(handler), FAST)
    assert len(calls) == FAST.http_retries + 1


def test_base_url_with_a_path_prefix_and_user_agent():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"status": "OK", "result": []})

    settings = FAST.replace(codeforces_url="http://127.0.0.1:9000/cf")
    codeforces.fetch(client_for(handler, settings), settings)
    assert str(seen[0].url) == "http://127.0.0.1:9000/cf/api/contest.list?gym=false"
    assert seen[0].headers["User-Agent"].startswith("syncq/")


def test_429_retry_after_is_honoured(own_sleeps):
    waits = own_sleeps
    answers = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"status": "OK", "result": []}),
    ]
    settings = FAST.replace(http_backoff_max=30.0)
    codeforces.fetch(client_for(lambda request: answers.pop(0), settings), settings)
    assert waits == [7.0]


# --- LeetCode --------------------------------------------------------------------------------


def test_leetcode_parses_weekly_and_biweekly_contests():
    result = leetcode.parse(load("leetcode_all_contests.json"), now=FIXED_NOW)
    assert len(result.records) == 650 and result.failed == []
    weekly = next(c for c in result.records if c.platformId == "weekly-contest-479")
    assert weekly.type == "weekly" and weekly.phase == "FINISHED" and weekly.durationSeconds == 5400
    assert weekly.url == "https://leetcode.com/contest/weekly-contest-479"
    assert next(c for c in result.records if c.platformId == "weekly-contest-480").phase == "UPCOMING"


def test_leetcode_sends_origin_and_referer():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"data": {"allContests": []}})

    leetcode.fetch(client_for(handler), FAST)
    assert seen[0].method == "POST" and seen[0].url.path == "/graphql"
    assert seen[0].headers["Origin"] == "https://leetcode.com" and "leetcode.com" in seen[0].headers["Referer"]
    assert "allContests" in json.loads(seen[0].content)["query"]


def test_leetcode_html_challenge_page_is_a_clear_failure():
    page = load("leetcode_challenge.html")
    handler = lambda request: httpx.Response(200, text=page, headers={"Content-Type": "text/html"})  # noqa: E731
    with pytest.raises(ParseError, match="HTML page"):
        leetcode.fetch(client_for(handler), FAST)


def test_leetcode_403_is_permanent_with_a_clear_message():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(403, text="Forbidden")

    with pytest.raises(PermanentError, match="refused the request \\(HTTP 403\\)"):
        leetcode.fetch(client_for(handler), FAST)
    assert len(calls) == 1


def test_leetcode_graphql_errors_are_reported():
    with pytest.raises(PermanentError, match="Cannot query field"):
        leetcode.parse({"errors": [{"message": "Cannot query field 'allContests'"}]})


def test_leetcode_wrong_shape_is_a_parse_error():
    with pytest.raises(ParseError, match="allContests"):
        leetcode.parse({"data": {"contests": []}})


# --- CodeChef --------------------------------------------------------------------------------


def test_codechef_parses_all_lists_with_phases_and_utc_times():
    result = codechef.parse(load("codechef_contests.json"))
    by_code = {c.platformId: c for c in result.records}
    assert by_code["START214"].phase == "RUNNING" and by_code["START215"].phase == "UPCOMING"
    assert by_code["START213"].phase == "FINISHED" and by_code["START213"].rawPhase == "past"
    assert by_code["START215"].startTime.utcoffset().total_seconds() == 0
    assert by_code["START215"].raw["contest_start_date_iso"].endswith("T20:00:00+05:30")
    assert (by_code["START215"].startTime.hour, by_code["START215"].startTime.minute) == (14, 30)


@pytest.mark.parametrize(
    "raw,seconds", [("120", 7200), ("03:00:00", 10800), ("240:00:00", 864000), (90, 5400), ("1:30", 5400)]
)
def test_codechef_duration_forms(raw, seconds):
    assert codechef.duration_seconds(raw) == seconds


def test_codechef_contest_in_two_lists_is_kept_once_and_bad_item_counted():
    result = codechef.parse(load("codechef_contests.json"))
    codes = [c.platformId for c in result.records]
    assert codes.count("START214") == 1 and len(result.failed) == 1


def test_codechef_error_status_is_permanent():
    with pytest.raises(PermanentError, match="maintenance"):
        codechef.parse({"status": "error", "message": "Site under maintenance"})


def test_codechef_absurd_dates_are_skipped():
    item = {
        "contest_code": "X1",
        "contest_name": "X",
        "contest_start_date_iso": "9999-01-01T00:00:00+05:30",
        "contest_duration": "120",
    }
    result = codechef.parse({"status": "success", "future_contests": [item], "past_contests": []})
    assert result.records == [] and "absurd" in result.failed[0]["error"]


# --- AtCoder ---------------------------------------------------------------------------------


def test_atcoder_merges_kenkoooo_with_the_contests_page():
    payload = {"kenkoooo": load("kenkoooo_contests.json"), "page": load("atcoder_contests.html"), "errors": {}}
    result = atcoder.parse(payload, now=FIXED_NOW)
    by_id = {c.platformId: c for c in result.records}
    assert len(by_id) == 1805 and result.failed == []
    assert by_id["abc431"].phase == "UPCOMING" and by_id["abc431"].durationSeconds == 6000
    assert by_id["ahc057"].phase == "RUNNING" and by_id["ahc057"].durationSeconds == 240 * 3600
    assert by_id["abc431"].startTime == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_atcoder_keeps_one_source_when_the_other_fails():
    def handler(request):
        if "kenkoooo" in request.url.host or request.url.path.endswith("contests.json"):
            return httpx.Response(500)
        return httpx.Response(200, text=load("atcoder_contests.html"), headers={"Content-Type": "text/html"})

    payload = atcoder.fetch(client_for(handler), FAST)
    result = atcoder.parse(payload, now=FIXED_NOW)
    assert len(result.records) == 15 and "kenkoooo" in result.failed[0]["error"]


def test_atcoder_both_sources_down_is_an_error():
    with pytest.raises(SyncError, match="both sources failed"):
        atcoder.fetch(client_for(lambda request: httpx.Response(502)), FAST)


def test_atcoder_page_without_tables_counts_as_a_failure():
    result = atcoder.parse({"kenkoooo": [], "page": "<html><body>Maintenance</body></html>"}, now=FIXED_NOW)
    assert result.records == [] and "none of the contest tables" in result.failed[0]["error"]
