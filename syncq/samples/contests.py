"""Contest payloads of Codeforces, LeetCode, CodeChef, kenkoooo and AtCoder.

Everything is seeded: the same `now` gives the same bytes.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

IST = timezone(timedelta(hours=5, minutes=30))
JST = timezone(timedelta(hours=9))
FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


# --- Codeforces contests --------------------------------------------------------------------


def codeforces_contests(now: datetime = FIXED_NOW, count: int = 2000) -> list[dict[str, Any]]:
    """`contest.list?gym=false` result: newest first, a few upcoming, one running, ~2,000 in all."""
    rng = random.Random(1)
    contests = []
    start = now + timedelta(days=12)
    div_round, edu_round = 1000, 180
    for i in range(count):
        cid = 2100 - i
        kind = rng.random()
        if kind < 0.55:
            div = rng.choice([1, 2, 2, 3, 4])
            name = f"Codeforces Round {div_round - i // 2} (Div. {div})"
            ctype, duration = "CF", rng.choice([7200, 8100, 9000])
        elif kind < 0.8:
            name = f"Educational Codeforces Round {edu_round - i // 8} (Rated for Div. 2)"
            ctype, duration = "ICPC", 7200
        elif kind < 0.9:
            name = f"Codeforces Global Round {40 - i // 50}"
            ctype, duration = "CF", 10800
        else:
            name = f"Kotlin Heroes: Episode {14 - i // 150}" if i % 3 else f"VK Cup {2026 - i // 200} Final (Mirror)"
            ctype, duration = rng.choice(["ICPC", "IOI"]), rng.choice([9000, 10800, 18000])
        item: dict[str, Any] = {
            "id": cid,
            "name": name,
            "type": ctype,
            "phase": "FINISHED",
            "frozen": False,
            "durationSeconds": duration,
        }
        begins = start - timedelta(days=i * 1.7 + rng.random())
        begins = begins.replace(minute=35 if rng.random() < 0.8 else 5, second=0, microsecond=0)
        if begins > now:
            item["phase"] = "BEFORE"
        elif begins + timedelta(seconds=duration) > now:
            item["phase"] = "CODING"
        elif begins + timedelta(seconds=duration) > now - timedelta(hours=3):
            item["phase"] = "PENDING_SYSTEM_TEST"
        if i in (1, 4):  # announced without a date, as real upcoming rounds sometimes are
            item["phase"] = "BEFORE"
        else:
            item["startTimeSeconds"] = _epoch(begins)
            item["relativeTimeSeconds"] = _epoch(now) - _epoch(begins)
        contests.append(item)
    return contests


def codeforces_gym_contests(now: datetime = FIXED_NOW, count: int = 60) -> list[dict[str, Any]]:
    """`contest.list?gym=true` result: training mirrors with the gym's extra fields, newest first."""
    rng = random.Random(7)
    regions = [
        ("Northern Eurasia", "Russia", "Saint Petersburg"),
        ("Asia Pacific", "Japan", "Yokohama"),
        ("Europe", "Poland", "Warsaw"),
        ("North America", "United States", "Orlando"),
    ]
    items = []
    for i in range(count):
        region, country, city = rng.choice(regions)
        year = 2026 - i // 12
        begins = now - timedelta(days=3 + i * 6, hours=rng.randrange(12))
        item: dict[str, Any] = {
            "id": 106000 - i,
            "name": f"{year - 1}-{year} ICPC, {region} Regional Contest (mirror)",
            "type": "ICPC",
            "phase": "FINISHED",
            "frozen": False,
            "durationSeconds": 18000,
            "preparedBy": rng.choice(["tourist", "MikeMirzayanov", "Um_nik", "jury"]),
            "difficulty": rng.randint(1, 5),
            "kind": "Official ICPC Contest",
            "icpcRegion": region,
            "country": country,
            "city": city,
            "season": f"{year - 1}-{year}",
        }
        if i % 7:  # some gym contests carry no start time at all
            item["startTimeSeconds"] = _epoch(begins)
            item["relativeTimeSeconds"] = _epoch(now) - _epoch(begins)
        items.append(item)
    return items


# --- LeetCode -----------------------------------------------------------------------------------


def leetcode_contests(now: datetime = FIXED_NOW, weekly: int = 480, biweekly: int = 170) -> dict[str, Any]:
    """The GraphQL answer to `allContests { title titleSlug startTime duration }`, newest first."""
    items = []
    # Weekly contests: Sundays 02:30 UTC; weekly 480 is the next one after FIXED_NOW.
    sunday = now + timedelta(days=(6 - now.weekday()) % 7 or 7)
    sunday = sunday.replace(hour=2, minute=30, second=0, microsecond=0)
    for k in range(weekly):
        items.append(
            {
                "title": f"Weekly Contest {weekly - k}",
                "titleSlug": f"weekly-contest-{weekly - k}",
                "startTime": _epoch(sunday - timedelta(weeks=k)),
                "duration": 5400,
            }
        )
    saturday = sunday - timedelta(days=1, hours=-12)  # Saturday 14:30 UTC
    for k in range(biweekly):
        items.append(
            {
                "title": f"Biweekly Contest {biweekly - k}",
                "titleSlug": f"biweekly-contest-{biweekly - k}",
                "startTime": _epoch(saturday - timedelta(weeks=2 * k)),
                "duration": 5400,
            }
        )
    items.sort(key=lambda c: -c["startTime"])
    return {"data": {"allContests": items}}


LEETCODE_CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title h1">leetcode.com</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2><noscript>
<div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>
<div id="challenge-body-text" class="core-msg spacer">leetcode.com needs to review the security of your connection before proceeding.</div>
</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "leetcode.com",cType: 'managed'};}());</script></body></html>
"""


# --- CodeChef -----------------------------------------------------------------------------------


def _codechef_item(
    code: str, name: str, start: datetime, minutes: int, users: int, duration_text: str | None = None
) -> dict[str, Any]:
    local, end = start.astimezone(IST), (start + timedelta(minutes=minutes)).astimezone(IST)
    return {
        "contest_code": code,
        "contest_name": name,
        "contest_start_date": local.strftime("%d %b %Y  %H:%M:%S"),
        "contest_end_date": end.strftime("%d %b %Y  %H:%M:%S"),
        "contest_start_date_iso": local.isoformat(),
        "contest_end_date_iso": end.isoformat(),
        "contest_duration": duration_text or str(minutes),
        "distinct_users": users,
    }


def codechef_contests(now: datetime = FIXED_NOW, past: int = 60) -> dict[str, Any]:
    """`/api/list/contests/all`: present, future and past lists, as the site answers."""
    rng = random.Random(3)
    wednesday = (now + timedelta(days=(2 - now.weekday()) % 7)).replace(hour=14, minute=30, second=0, microsecond=0)
    number = 215
    present = [
        _codechef_item("START214", "Starters 214 (Rated till 5 stars)", now - timedelta(minutes=40), 120, 18234),
        _codechef_item(
            "LTIME150", "Long Challenge 150", now - timedelta(days=2), 10 * 24 * 60, 9120, duration_text="240:00:00"
        ),
    ]
    future = [
        _codechef_item(f"START{number + k}", f"Starters {number + k}", wednesday + timedelta(weeks=k + 1), 120, 0)
        for k in range(3)
    ]
    future.append(
        _codechef_item(
            "COOK200", "CodeChef Cook-Off 200", wednesday + timedelta(days=10), 180, 0, duration_text="03:00:00"
        )
    )
    past_items = []
    for k in range(past):
        begins = wednesday - timedelta(weeks=k + 1)
        past_items.append(
            _codechef_item(f"START{213 - k}", f"Starters {213 - k}", begins, 120, rng.randint(12000, 30000))
        )
    past_items.insert(3, dict(present[0]))  # the site lists a just-started contest in two lists
    past_items.append(
        {
            "contest_name": "Practice (no code)",
            "contest_start_date_iso": "2026-01-01T00:00:00+05:30",
            "contest_end_date_iso": "2026-01-01T02:00:00+05:30",
            "contest_duration": "120",
        }
    )
    return {
        "status": "success",
        "message": "All contests list",
        "present_contests": present,
        "future_contests": future,
        "practice_contests": [],
        "past_contests": past_items,
        "skill_tests": [],
        "banners": [],
    }


# --- AtCoder ------------------------------------------------------------------------------------


def kenkoooo_contests(now: datetime = FIXED_NOW) -> list[dict[str, Any]]:
    """kenkoooo's `contests.json`: ~1,800 past contests (it lags on upcoming ones)."""
    rng = random.Random(4)
    items = []
    series = [
        ("abc", "AtCoder Beginner Contest", 430, 6000, " ~ 1999"),
        ("arc", "AtCoder Regular Contest", 205, 7200, " ~ 2799"),
        ("agc", "AtCoder Grand Contest", 73, 10800, "All"),
        ("ahc", "AtCoder Heuristic Contest", 56, 14400, "All"),
    ]
    for prefix, title, last, duration, rated in series:
        for n in range(1, last + 1):
            begins = now - timedelta(days=(last - n) * (7 if prefix == "abc" else 14) + 3)
            begins = begins.astimezone(JST).replace(hour=21, minute=0, second=0, microsecond=0)
            items.append(
                {
                    "id": f"{prefix}{n:03d}",
                    "start_epoch_second": _epoch(begins),
                    "duration_second": duration,
                    "title": f"{title} {n:03d}",
                    "rate_change": rated,
                }
            )
    for n in range(1, 1800 - len(items) + 1):
        begins = now - timedelta(days=n * 3 + rng.randint(0, 2))
        items.append(
            {
                "id": f"practice{n}",
                "start_epoch_second": _epoch(begins),
                "duration_second": rng.choice([7200, 10800, 18000]),
                "title": f"Sponsored Contest {n}",
                "rate_change": "-",
            }
        )
    return items


def _atcoder_row(cid: str, title: str, start: datetime, minutes: int, rated: str) -> str:
    local = start.astimezone(JST)
    iso = local.strftime("%Y%m%dT%H%M")
    return (
        f'<tr><td class="text-center"><a href="http://www.timeanddate.com/worldclock/fixedtime.html?iso={iso}&p1=248" '
        f"target=\"blank\"><time class='fixtime fixtime-full'>{local.strftime('%Y-%m-%d %H:%M:%S%z')}</time></a></td>"
        f"<td><span aria-hidden='true' data-toggle='tooltip' data-placement='top' title=\"Algorithm\">Ⓐ</span> "
        f'<span class="user-blue">◉</span> <a href="/contests/{cid}">{title}</a></td>'
        f'<td class="text-center">{minutes // 60:02d}:{minutes % 60:02d}</td><td class="text-center">{rated}</td></tr>'
    )


def _atcoder_table(table_id: str, heading: str, rows: list[str]) -> str:
    return (
        f'<div id="{table_id}"><h3>{heading}</h3><div class="panel panel-default"><div class="table-responsive">'
        '<table class="table table-default table-striped table-hover table-condensed table-bordered small">'
        '<thead><tr><th class="text-center" width="20%">Start Time</th><th class="text-center">Contest Name</th>'
        '<th class="text-center" width="10%">Duration</th>'
        '<th class="text-center" width="15%">Rated Range</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div></div>"
    )


def atcoder_page(now: datetime = FIXED_NOW) -> str:
    """The atcoder.jp `/contests/?lang=en` page with running, upcoming and recent tables."""
    base = now.astimezone(JST).replace(hour=21, minute=0, second=0, microsecond=0)
    running = [_atcoder_row("ahc057", "AtCoder Heuristic Contest 057", now - timedelta(hours=2), 240 * 60, "All")]
    upcoming = [
        _atcoder_row("abc431", "AtCoder Beginner Contest 431", base + timedelta(days=2), 100, " - 1999"),
        _atcoder_row("arc206", "AtCoder Regular Contest 206 (Div. 1)", base + timedelta(days=5), 120, "1600 - 2999"),
        _atcoder_row("abc432", "AtCoder Beginner Contest 432", base + timedelta(days=9), 100, " - 1999"),
        _atcoder_row("agc074", "AtCoder Grand Contest 074", base + timedelta(days=16), 180, "1200 - "),
    ]
    recent = [
        _atcoder_row(
            f"abc{430 - k}", f"AtCoder Beginner Contest {430 - k}", base - timedelta(days=7 * k + 3), 100, " - 1999"
        )
        for k in range(10)
    ]
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Contest - AtCoder</title></head><body>'
        '<div id="main-container" class="container"><div class="row"><div class="col-lg-9 col-md-8">'
        + _atcoder_table("contest-table-action", "Active Contests", running)
        + _atcoder_table("contest-table-upcoming", "Upcoming Contests", upcoming)
        + _atcoder_table("contest-table-recent", "Recent Contests", recent)
        + "</div></div></div></body></html>"
    )


def write_contest_fixtures(directory: Path, now: datetime = FIXED_NOW) -> list[Path]:
    """Write the recorded contest payloads the tests parse."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "codeforces_contest_list.json": {"status": "OK", "result": codeforces_contests(now)},
        "codeforces_failed_400.json": {"status": "FAILED", "comment": "gym: Field should contain boolean value"},
        "codeforces_call_limit.json": {"status": "FAILED", "comment": "Call limit exceeded"},
        "leetcode_all_contests.json": leetcode_contests(now),
        "codechef_contests.json": codechef_contests(now),
        "codechef_past_empty.json": {"status": "success", "message": "Past contests list", "contests": []},
        "kenkoooo_contests.json": kenkoooo_contests(now),
    }
    written = []
    for name, body in files.items():
        path = directory / name
        path.write_text(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
        written.append(path)
    for name, text in (
        ("leetcode_challenge.html", LEETCODE_CHALLENGE_HTML),
        ("atcoder_contests.html", atcoder_page(now)),
    ):
        (directory / name).write_text(text)
        written.append(directory / name)
    return written
