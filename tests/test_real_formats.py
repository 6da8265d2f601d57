"""The parsers on answers other people recorded from the real services (tests/fixtures/real,
sources in its SOURCES.md); every expected value below was read off the recording by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters import codechef, codeforces, leetcode, raida
from adapters.codeforces_users import api_call_async, parse_user_info
from adapters.errors import ParseError, PermanentError, TransientError
from adapters.http import make_async_client, make_client
from core.settings import Settings

REAL = Path(__file__).parent / "fixtures" / "real"
FAST = Settings(http_backoff_base=0.0, http_backoff_max=0.0, http_retries=2)
UTC = UTC


def real(name: str):
    text = (REAL / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def client_for(handler, settings: Settings = FAST) -> httpx.Client:
    return make_client(settings, transport=httpx.MockTransport(handler))


# --- LeetCode ---------------------------------------------------------------------------------


def test_leetcode_2018_list_types_every_old_and_new_slug_form():
    result = leetcode.parse(real("leetcode_all_contests_2018.json"), now=datetime(2018, 7, 2, tzinfo=UTC))
    by_slug = {c.platformId: c for c in result.records}
    assert len(by_slug) == 97 and result.failed == []
    assert by_slug["weekly-contest-91"].type == "weekly"
    assert by_slug["leetcode-weekly-contest-57"].type == "weekly"  # the 2016-2017 slug form
    assert by_slug["leetcode-weekly-contest-18a"].type == "weekly"  # "Weekly Contest 18A"
    assert by_slug["weekly-contest-by-app-academy"].type == "weekly"  # slug says nothing: its title does
    assert by_slug["weekly-contest-by-app-academy"].name == "Weekly Contest 62"
    assert by_slug["smarking-algorithm-contest-4"].type == "special"
    assert by_slug["warm-up-contest"].type == "special" and by_slug["warm-up-contest"].durationSeconds == 86400
    first = by_slug["weekly-contest-91"]
    assert first.startTime == datetime(2018, 7, 1, 1, 30, tzinfo=UTC) and first.endTime == datetime(
        2018, 7, 1, 3, 0, tzinfo=UTC
    )
    assert first.phase == "FINISHED" and first.url == "https://leetcode.com/contest/weekly-contest-91"
    assert by_slug["leetcode-weekly-contest-2"].durationSeconds == 9000  # early contests lasted 2.5 h


def test_leetcode_top_two_without_title_slug_gets_its_slug_and_type_from_the_title():
    result = leetcode.parse(real("leetcode_top_two_contests_2022.json"), now=datetime(2022, 8, 27, tzinfo=UTC))
    weekly, biweekly = result.records
    assert (weekly.platformId, weekly.type, weekly.phase) == ("weekly-contest-308", "weekly", "UPCOMING")
    assert (biweekly.platformId, biweekly.type) == ("biweekly-contest-86", "biweekly")
    assert weekly.startTime == datetime(2022, 8, 28, 2, 30, tzinfo=UTC)
    assert biweekly.startTime == datetime(2022, 9, 3, 14, 30, tzinfo=UTC)
    assert biweekly.url == "https://leetcode.com/contest/biweekly-contest-86"


@pytest.mark.parametrize(
    "slug,title,expected",
    [
        ("weekly-contest-480", "Weekly Contest 480", "weekly"),
        ("biweekly-contest-170", "Biweekly Contest 170", "biweekly"),
        ("leetcode-weekly-contest-16b", "Weekly Contest 16B", "weekly"),
        (None, "Biweekly Contest 1", "biweekly"),
        (None, "Weekly Contest 18A", "weekly"),
        (None, "Weekly Contest by App Academy", "special"),
        ("warm-up-contest", "Warm Up Contest", "special"),
        ("smarking-algorithm-contest", "Smarking Algorithm Contest", "special"),
    ],
)
def test_leetcode_contest_type_from_slug_or_title(slug, title, expected):
    assert leetcode.contest_type(slug, title) == expected


def _past_pages(items: list, per_page: int = 10):
    pages = -(-len(items) // per_page)
    return {
        page: {
            "data": {
                "pastContests": {
                    "pageNum": pages,
                    "currentPage": page,
                    "totalNum": len(items),
                    "numPerPage": per_page,
                    "data": items[(page - 1) * per_page : page * per_page],
                }
            }
        }
        for page in range(1, pages + 1)
    }


class FallbackLeetCode:
    """allContests answers a GraphQL error; topTwoContests and pastContests answer recordings."""

    def __init__(self):
        past = [
            {k: c[k] for k in ("title", "titleSlug", "startTime", "duration")}
            for c in real("leetcode_all_contests_2018.json")["data"]["allContests"]
        ]
        self.pages = _past_pages(past)
        self.queries: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.queries.append(body)
        if "allContests" in body["query"]:
            return httpx.Response(
                400, json={"errors": [{"message": 'Cannot query field "allContests" on type "Query".'}]}
            )
        if "topTwoContests" in body["query"]:
            return httpx.Response(200, json=real("leetcode_top_two_contests_2022.json"))
        return httpx.Response(200, json=self.pages[body["variables"]["pageNo"]])


def test_leetcode_falls_back_to_top_two_and_past_pages_when_all_contests_fails():
    service = FallbackLeetCode()
    settings = FAST.replace(leetcode_max_past_pages=3)
    payload = leetcode.fetch(client_for(service, settings), settings)
    result = leetcode.parse(payload, now=datetime(2022, 8, 27, tzinfo=UTC))
    slugs = [c.platformId for c in result.records]
    assert slugs[:2] == ["weekly-contest-308", "biweekly-contest-86"] and len(slugs) == 2 + 30
    assert slugs[2] == "weekly-contest-91" and slugs[-1] == "weekly-contest-by-app-academy"  # 3 pages of 10: 91 .. 62
    assert result.failed[0]["item"] == "allContests" and "Cannot query field" in result.failed[0]["error"]
    pages = [q["variables"]["pageNo"] for q in service.queries if "pastContests" in q["query"]]
    assert pages == [1, 2, 3] and service.queries[1]["operationName"] == "topTwoContests"


def test_leetcode_fallback_paging_stops_at_a_page_of_stored_contests():
    service = FallbackLeetCode()
    known = {c["titleSlug"] for c in service.pages[2]["data"]["pastContests"]["data"]}
    leetcode.fetch(client_for(service), FAST, known=known)
    assert [q["variables"]["pageNo"] for q in service.queries if "pastContests" in q["query"]] == [1, 2]


def test_leetcode_fallback_failing_too_names_both_failures():
    def handler(request):
        if "allContests" in json.loads(request.content)["query"]:
            return httpx.Response(400, json={"errors": [{"message": "Cannot query field allContests"}]})
        return httpx.Response(502, text="bad gateway")

    with pytest.raises(PermanentError, match="allContests failed .*Cannot query field.*fallback failed too"):
        leetcode.fetch(client_for(handler), FAST)


def test_leetcode_bot_check_does_not_try_the_fallback():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(403, text="Forbidden")

    with pytest.raises(ParseError, match="HTTP 403"):
        leetcode.fetch(client_for(handler), FAST)
    assert len(calls) == 1


# --- CodeChef ---------------------------------------------------------------------------------


def test_codechef_2025_list_parses_with_utc_times_and_durations_from_the_dates():
    result = codechef.parse(real("codechef_all_contests_2025.json"))
    by_code = {c.platformId: c for c in result.records}
    assert len(by_code) == 1 + 2 + 20 and result.failed == []  # skill tests and banners are not contests
    weekend = by_code["DEVWEEKEND21"]  # 25 Oct 00:00 to 27 Oct 00:00 IST
    assert weekend.phase == "RUNNING" and weekend.durationSeconds == 2 * 86400
    assert weekend.startTime == datetime(2025, 10, 24, 18, 30, tzinfo=UTC)
    assert by_code["START210"].phase == "UPCOMING" and by_code["START210"].startTime == datetime(
        2025, 10, 29, 14, 30, tzinfo=UTC
    )
    assert by_code["DSAMONDAY08"].startTime == datetime(2025, 10, 20, 12, 30, 31, tzinfo=UTC)
    assert by_code["START209"].rawPhase == "past" and by_code["START209"].durationSeconds == 7200
    assert "basic-python" not in by_code


def test_codechef_multi_day_contest_takes_end_minus_start_not_its_duration_field():
    # As CodeChef listed "Placement Prep Weekends - 02" (seen in a public tracker's recording):
    # 08 Aug 00:00 to 10 Aug 02:59 IST, with contest_duration "180".
    item = {
        "contest_code": "PLACEPREP02",
        "contest_name": "Placement Prep Weekends - 02",
        "contest_start_date_iso": "2026-08-08T00:00:00+05:30",
        "contest_end_date_iso": "2026-08-10T02:59:00+05:30",
        "contest_duration": "180",
        "distinct_users": 1093,
    }
    contest = codechef.parse_contest(item, "UPCOMING", "future")
    assert contest.durationSeconds == 2 * 86400 + 2 * 3600 + 59 * 60
    assert contest.endTime - contest.startTime == timedelta(seconds=contest.durationSeconds)


def _older(n: int, first: int) -> list[dict]:
    """Past contests in the recording's format, numbered down from START<first>."""
    template = real("codechef_all_contests_2025.json")["past_contests"][0]
    return [
        {**template, "contest_code": f"START{first - k}", "contest_name": f"Starters {first - k}"} for k in range(n)
    ]


class PagedCodeChef:
    def __init__(self, older: list[dict]):
        self.all = real("codechef_all_contests_2025.json")
        self.older = older  # what /past lists after /all's 20 newest
        self.offsets: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/all"):
            return httpx.Response(200, json=self.all)
        assert request.url.params["mode"] == "all" and request.url.params["sorting_order"] == "desc"
        offset = int(request.url.params["offset"])
        self.offsets.append(offset)
        past = self.all["past_contests"] + self.older
        return httpx.Response(
            200, json={"status": "success", "message": "Past contests list", "contests": past[offset : offset + 20]}
        )


def test_codechef_first_sync_pages_older_contests_up_to_its_bound():
    service = PagedCodeChef(_older(100, 202))
    settings = FAST.replace(codechef_max_past_pages=3)
    result = codechef.parse(codechef.fetch(client_for(service, settings), settings))
    assert service.offsets == [20, 40, 60]
    codes = {c.platformId for c in result.records}
    assert len(codes) == 23 + 60 and "START202" in codes and "START143" in codes and "START142" not in codes


def test_codechef_paging_stops_at_a_page_holding_only_stored_contests():
    service = PagedCodeChef(_older(100, 202))
    stored = {c["contest_code"] for c in _older(100, 202)[20:40]}  # the second /past page
    codechef.fetch(client_for(service), FAST, known=stored)
    assert service.offsets == [20, 40]


def test_codechef_no_paging_when_the_newest_past_contests_are_all_stored():
    service = PagedCodeChef(_older(100, 202))
    stored = {c["contest_code"] for c in real("codechef_all_contests_2025.json")["past_contests"]}
    codechef.fetch(client_for(service), FAST, known=stored)
    assert service.offsets == []


def test_codechef_paging_ends_at_a_short_page_and_a_failed_page_is_counted_not_fatal():
    service = PagedCodeChef(_older(25, 202))
    codechef.fetch(client_for(service), FAST)
    assert service.offsets == [20, 40]  # 20, then 5: the end

    def broken(request):
        if request.url.path.endswith("/past") and request.url.params["offset"] == "40":
            return httpx.Response(500, text="oops")
        return service(request)

    result = codechef.parse(codechef.fetch(client_for(broken), FAST))
    assert len(result.records) == 23 + 20 and result.failed[0]["item"] == "past_contests"
    assert "offset 40" in result.failed[0]["error"] and "500" in result.failed[0]["error"]


# --- Codeforces -------------------------------------------------------------------------------


def test_codeforces_protocol_relative_photos_become_https():
    info = parse_user_info(real("codeforces_user_info_tourist_2021.json")["result"][0])
    assert info["avatar"] == "https://userpic.codeforces.com/422/avatar/2b5dbe87f0d859a2.jpg"
    assert info["titlePhoto"] == "https://userpic.codeforces.com/422/title/50a270ed4a722867.jpg"
    assert (info["currRating"], info["maxRating"], info["rank"]) == (3778, 3783, "legendary grandmaster")
    assert info["lastOnlineAt"] == datetime(2021, 1, 6, 5, 29, 54, tzinfo=UTC)


def challenge_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        403,
        text=real("cloudflare_just_a_moment.html"),
        headers={"Content-Type": "text/html; charset=UTF-8", "cf-mitigated": "challenge"},
    )


def test_cloudflare_challenge_is_retried_with_a_longer_pause_then_passes(own_sleeps):
    answers = [challenge_page, lambda request: httpx.Response(200, json={"status": "OK", "result": []})]
    settings = FAST.replace(http_backoff_max=60.0)
    assert codeforces.fetch(client_for(lambda request: answers.pop(0)(request), settings), settings) == []
    assert own_sleeps == [codeforces.CHALLENGE_PAUSE]


def test_cloudflare_challenge_without_its_header_is_still_recognised():
    page = real("cloudflare_just_a_moment.html")
    response = httpx.Response(
        403,
        text=page,
        headers={"Content-Type": "text/html"},
        request=httpx.Request("GET", "https://codeforces.com/api/contest.list"),
    )
    assert codeforces.is_challenge(response)
    plain = httpx.Response(403, text="<html>Forbidden</html>", request=response.request)
    assert not codeforces.is_challenge(plain)
    with pytest.raises(PermanentError, match="refused \\(HTTP 403\\)"):
        codeforces.read_envelope(plain)


def test_cloudflare_challenge_every_time_fails_with_a_clear_message():
    calls = []

    def handler(request):
        calls.append(request)
        return challenge_page(request)

    with pytest.raises(TransientError) as failure:
        codeforces.fetch(client_for(handler), FAST)
    assert len(calls) == FAST.http_retries + 1
    message = str(failure.value)
    assert "Cloudflare challenge" in message and "Just a moment" in message and "all 3 attempts" in message


# --- RAIDA ------------------------------------------------------------------------------------


def test_the_real_raida_list_gives_the_echo_targets():
    listed = raida.parse_raida_servers(real("raida_servers_2026.txt"))
    assert len(listed.records) == 25 and listed.failed == []
    assert listed.records[11] == {"index": 11, "host": "67.181.90.11", "port": 50011}
    targets, source = raida.echo_targets(listed, Settings())
    assert source == "raida_servers" and targets[0] == {"index": 0, "host": "78.46.170.45", "port": 50000}
    assert targets[24] == {"index": 24, "host": "209.205.66.24", "port": 50024}


def test_raida_list_lines_without_a_port_use_50000_plus_their_line():
    listed = raida.parse_raida_servers("78.46.170.45\n47.229.9.94:50001\n209.46.126.167\n[2001:db8::7]:50003\n")
    assert [r["port"] for r in listed.records] == [50000, 50001, 50002, 50003]
    targets, _ = raida.echo_targets(listed, Settings(raida_count=4))
    assert targets[3] == {"index": 3, "host": "2001:db8::7", "port": 50003}  # a socket takes no brackets


def test_echo_targets_missing_from_the_list_come_from_the_url_template():
    listed = raida.parse_raida_servers("10.0.0.1:61000\n")
    targets, source = raida.echo_targets(listed, Settings(raida_count=3))
    assert targets == [
        {"index": 0, "host": "10.0.0.1", "port": 61000},
        {"index": 1, "host": "raida1.cloudcoin.global", "port": 50001},
        {"index": 2, "host": "raida2.cloudcoin.global", "port": 50002},
    ]
    assert "2 from the URL template" in source
    assert raida.echo_targets(None, Settings(raida_count=1))[1] == "the URL template (no raida_servers)"


def test_users_csv_is_read_by_position_whatever_its_header():
    text = (
        "Serial Number,First Name,Last Name,Org,Fee,Kind,Beacon\n"  # a header variant: skipped
        "C23,Sean,Worthington,CloudCoin,,Giga,raida11\n"  # empty fee: 0
        "7K3M9QX,Ana,Lima,Acme,2.5,bit,raida1,extra\n"  # an 8th field is ignored
        "8PQRSTV,Odd,Class,Acme,1,Tera,raida2\n"  # unknown class: kept, flagged
        "9VWXYZ0,Too,Few,Fields\n"  # under 7 fields: skipped
        "CustomSerialNumber,First,Last,Description,InboxFee,Class,Beacon\n"  # a second header: skipped
        "ILOU123,Bad,Serial,Acme,1,bit,raida1\n"
    )  # not Base32: skipped
    result = raida.parse_users(text)
    users = {u["serialNumber"]: u for u in result.records}
    assert list(users) == ["C23", "7K3M9QX", "8PQRSTV"]
    assert users["C23"]["inboxFee"] == 0.0 and users["C23"]["class"] == "giga" and users["C23"]["classKnown"]
    assert users["C23"]["address"] == "sean.worthington@cloudcoin#C23.giga" and users["C23"]["beacon"] == "raida11"
    assert users["7K3M9QX"]["inboxFee"] == 2.5 and users["7K3M9QX"]["beacon"] == "raida1"
    assert users["8PQRSTV"]["class"] == "Tera" and users["8PQRSTV"]["classKnown"] is False
    assert [f["item"] for f in result.flagged] == ["row 4"]
    assert [f["item"] for f in result.failed] == ["row 5", "row 7"] and "4 fields" in result.failed[0]["error"]


def test_users_csv_without_a_header_row_parses():
    result = raida.parse_users("C23,Sean,Worthington,CloudCoin,1,giga,raida11\n")
    assert [u["serialNumber"] for u in result.records] == ["C23"]


def test_a_student_call_behind_the_challenge_fails_with_the_same_clear_message():
    calls = []

    async def handler(request):
        calls.append(request)
        return challenge_page(request)

    async def main():
        async with make_async_client(FAST, transport=httpx.MockTransport(handler)) as client:
            return await api_call_async(client, FAST, "user.info", {"handles": "tourist"})

    with pytest.raises(TransientError, match="Cloudflare challenge .* all 3 attempts"):
        asyncio.run(main())
    assert len(calls) == 3
