"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a live stack:
the API served on a local port, a real worker, the store and the platform simulator.

Screenshots of every page are written to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.ui_browser import (  # noqa: F401  (fixtures)
    PASSWORD,
    TIMEOUT,
    Console,
    api,
    browser,
    live,
    login,
    page,
    shot,
    ui_app,
    wait_job,
)

pytestmark = pytest.mark.slow


def test_the_ui_is_served_with_a_strict_policy_and_a_wrong_password_shows_a_message(page, live):
    response = page.goto("/")
    assert response.url.endswith("/ui/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["cache-control"] == "no-cache"
    vendor = page.request.get("/ui/vendor/uplot-1.6.32/uPlot.esm.js")
    assert vendor.ok and "immutable" in vendor.headers["cache-control"]

    login(page, "not the password")
    expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('syncq.token')") is None
    shot(page, "login")
    # The failed login's 401 is the only error the browser logs.
    assert all("401" in e for e in page.console.errors), page.console.errors

    # By keyboard alone: the skip link comes first, Enter in the password field logs in.
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="syncq overview")).to_be_focused()
    # Pages of features this server lacks are not offered; those it has are.
    paths = page.request.get("/openapi.json").json()["paths"]
    for name, path in (("Schedules", "/api/schedules"), ("Webhooks", "/api/webhooks")):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible() if path in paths else expect(link).to_be_hidden()


def test_logging_out_ends_the_token_on_the_server_too(page, live):
    login(page)
    token = page.evaluate("sessionStorage.getItem('syncq.token')")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('syncq.token')") is None
    # A copy of the token (a stolen one) is worth nothing now.
    assert page.request.get("/jobs", headers={"Authorization": f"Bearer {token}"}).status == 401
    login(page)  # and logging in again works


def test_sync_all_fills_the_table_with_the_api_counts_and_shows_a_failed_platform_s_error(page, live, simulator):
    simulator.set_fault("leetcode", "html")
    simulator.set_latency("atcoder", 1500)  # long enough to see the run live
    login(page)
    button = page.locator("#sync-all")
    button.click()
    expect(button).to_be_disabled()
    expect(page.locator("#sync-live [data-step='atcoder']")).to_contain_text("syncing")
    expect(page.locator("#sync-live progress")).to_be_visible()
    expect(page.locator("#sync-live [data-step='codeforces']")).to_contain_text("new")  # done, with its counts
    shot(page, "overview-syncing", full_page=False)
    table = page.locator("#sync-result")
    expect(table).to_be_visible()
    expect(button).to_be_enabled()

    status, listing = api(page, "/jobs?kind=contests.sync_all&limit=1")
    results = listing["jobs"][0]["result"]["results"]
    assert set(results) == {"codeforces", "leetcode", "codechef", "atcoder"}
    for platform, counts in results.items():
        row = table.locator(f"tr[data-platform='{platform}']")
        for field in ("synced", "updated", "failed", "unchanged"):
            expect(row.locator(f"[data-field='{field}']")).to_have_text(str(counts.get(field, 0)))
        expect(row.locator("[data-field='summary']")).to_contain_text(
            f"{counts['synced']} new, {counts['updated']} updated ({counts['failed']} failed)"
        )
    assert results["leetcode"]["error"] and results["codeforces"]["synced"] > 0
    expect(table.locator("tr[data-platform='leetcode'] [data-field='error']")).to_have_text(
        results["leetcode"]["error"]
    )
    # The cards show each source after the run; the failed one says so, with its error.
    expect(page.locator("[data-source='leetcode']")).to_contain_text("failed")
    expect(page.locator("[data-source='codeforces']")).to_contain_text(f"{results['codeforces']['synced']} new")
    shot(page, "overview")
    assert page.console.errors == []


def wait_synced(page, handle: str) -> dict:
    """The student once a sync has written it."""
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        status, student = api(page, f"/api/students/{handle}")
        if student.get("lastSyncedAt") or time.monotonic() > deadline:
            assert student.get("lastSyncedAt"), student
            return student
        time.sleep(0.2)


def test_students_are_added_synced_from_their_row_edited_deleted_and_charted(page, live, simulator):
    login(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Students").click()
    page.get_by_role("button", name="Add student").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Ada Lovelace")
    dialog.get_by_label("Email").fill("ada@example.org")
    dialog.get_by_label("Codeforces handle").fill("student_0001")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog).to_be_hidden()
    wait_synced(page, "student_0001")  # its first sync, started by the API
    status, created = api(
        page,
        "/api/students",
        "POST",
        {"name": "Grace Hopper", "email": "student_0003@example.org", "codeforcesHandle": "student_0003"},
    )
    assert status == 201
    wait_job(page, created["job"]["job_id"])

    page.reload()
    row = page.locator("tr[data-handle='student_0001']")
    _, student_0001 = api(page, "/api/students/student_0001")
    expect(row.locator("[data-field='rating']")).to_have_text(str(student_0001["currRating"]))
    before = row.locator("[data-field='lastSynced'] time").get_attribute("datetime")

    simulator.add_submissions("student_0001", 7)  # the sync brings something new
    row.get_by_role("button", name="Sync Ada Lovelace").click()
    expect(row.locator("[data-field='lastSynced'] time")).not_to_have_attribute("datetime", before)
    _, synced = api(page, "/api/students/student_0001")
    assert synced["submissions"]["total"] == student_0001["submissions"]["total"] + 7
    synced_at = row.locator("[data-field='lastSynced'] time").get_attribute("datetime")
    assert synced_at[:19] == synced["lastSyncedAt"][:19]
    expect(row.locator("[data-field='rating']")).to_have_text(str(synced["currRating"]))

    page.get_by_label("Search").fill("grace")
    expect(page.locator("#students tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Edit Grace Hopper").click()
    page.get_by_role("dialog").get_by_label("Name").fill("Grace B. Hopper")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-handle='student_0003']")).to_contain_text("Grace B. Hopper")
    assert api(page, "/api/students/student_0003")[1]["name"] == "Grace B. Hopper"
    page.get_by_label("Search").fill("")
    expect(page.locator("#students tbody tr")).to_have_count(2)
    shot(page, "students")
    page.get_by_role("button", name="Delete Grace B. Hopper").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr[data-handle='student_0003']")).to_have_count(0)
    assert api(page, "/api/students/student_0003")[0] == 404

    # A sync that fails says why in its row.
    simulator.set_fault("codeforces", "500")
    row.get_by_role("button", name="Sync Ada Lovelace").click()
    expect(row.get_by_role("alert")).to_contain_text("Sync failed")
    expect(row.get_by_role("button", name="Sync Ada Lovelace")).to_be_enabled()
    simulator.set_fault("codeforces", None)

    # The student's page: charts with one point per contest, per rating bucket, per active day.
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace (student_0001)")).to_be_visible()
    _, body = api(page, "/api/students/student_0001/submissions?limit=1000")
    submissions = body["submissions"]
    assert len(submissions) == synced["submissions"]["total"] < 1000
    # The charts are the stats API's last 365 days (its aggregates), never every submission read again.
    _, year = api(page, "/api/students/student_0001/stats?days=365")
    rating = page.locator("#rating-chart")
    expect(rating).to_have_attribute("data-points", str(len(synced["contestData"])))
    expect(rating.locator("canvas")).to_have_count(1)
    expect(rating.locator("table tbody tr")).to_have_count(len(synced["contestData"]))
    buckets = {b["rating"]: b["count"] for b in year["solvedByRating"]}
    expect(page.locator("#bucket-chart")).to_have_attribute("data-points", str(len(buckets)))
    expect(page.locator("#bucket-chart table tbody tr")).to_have_count(len(buckets))
    days = page.locator("#heatmap rect").evaluate_all("rs => rs.map(r => r.dataset.day)")
    active = {d["date"] for d in year["heatmap"]} & set(days)
    expect(page.locator("#heatmap")).to_have_attribute("data-points", str(len(active)))
    assert page.locator("#heatmap rect:not(.heat-0)").count() == len(active)
    page.get_by_role("button", name="365 days").click()
    expect(page.locator("#stats")).to_have_attribute("data-days", "365")
    expect(page.locator("#recent tbody tr")).to_have_count(min(20, len(submissions)))
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#student-run")).to_contain_text("Synced.")
    expect(page.locator("#activity-status")).to_be_empty()  # the redrawn activity has loaded
    shot(page, "student")
    assert page.console.errors == []


def test_raida_sync_fills_the_grid_and_a_parity_server_is_chosen(page, live, simulator):
    simulator.set_raida_down([3, 17])
    login(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="RAIDA").click()
    expect(page.get_by_text("No RAIDA status yet")).to_be_visible()
    page.get_by_role("button", name="Sync RAIDA network").click()
    result = page.locator("#raida-result")
    expect(result).to_be_visible()
    _, jobs = api(page, "/jobs?kind=raida.sync&limit=1")
    body = jobs["jobs"][0]["result"]
    expect(result).to_contain_text(f"Users synced{body['users_synced']}")
    expect(result).to_contain_text(f"{body['raida_ready']} of {body['raida_servers_synced']}")
    grid = page.locator("#raida-grid li")
    expect(grid).to_have_count(25)
    expect(page.locator("#raida-grid li.down")).to_have_count(2)
    expect(page.locator("#raida-grid li[data-index='17']")).to_have_class("down")

    _, parity = api(page, "/api/admin/servers/parity")
    current = parity["parity_server"]["server_id"]
    _, servers = api(page, "/api/data/servers?include_unavailable=true")
    other = next(s["server_id"] for s in servers["servers"] if s["is_available"] and s["server_id"] != current)
    expect(page.locator("#parity-status")).to_contain_text(current)
    page.get_by_label(f"Use {other} for parity").check()
    page.get_by_role("button", name="Use for parity").click()
    expect(page.locator("#parity-status")).to_contain_text(other)
    assert api(page, "/api/admin/servers/parity")[1]["parity_server"]["server_id"] == other

    _, users = api(page, "/api/data/users?limit=1")
    first = users["users"][0]["first"]
    page.get_by_label("Search users").fill(first)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#users tbody tr").first).to_contain_text(first)
    shot(page, "raida")
    assert page.console.errors == []


def test_contests_are_filtered_and_jobs_are_listed_and_retried(page, live, simulator, store_db):
    login(page)
    status, job = api(page, "/contests/sync/codeforces", "POST")
    assert status == 202, job
    wait_job(page, job["job_id"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contests").click()
    page.get_by_label("Platform").select_option("codeforces")
    page.get_by_label("Phase").select_option("UPCOMING")
    page.get_by_role("button", name="Show").click()
    _, upcoming = api(page, "/contests?platform=codeforces&phase=UPCOMING&limit=100")
    rows = page.locator("#contests tbody tr")
    expect(rows).to_have_count(upcoming["count"])
    assert upcoming["next_cursor"] is None
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    first = upcoming["contests"][0]
    link = rows.first.get_by_role("link", name=first["name"])
    expect(link).to_have_attribute("href", first["url"])
    # A start time is shown in the viewer's zone, with UTC on hover.
    page.get_by_label("Phase").select_option("FINISHED")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#contests-status")).to_contain_text("contests shown")
    _, finished = api(page, "/contests?platform=codeforces&phase=FINISHED&limit=100")
    expect(rows.first).to_contain_text(finished["contests"][0]["name"])
    stamp = rows.first.locator("time")
    expect(stamp).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    expect(page.locator("#calendar")).to_contain_text("not available" if not _has_feed(page) else "Subscribe")

    # A cancelled contest is kept and marked; the date filter starts at the viewer's midnight.
    dated = next(c for c in upcoming["contests"] if c["startTime"])
    store_db.contests.update_one(
        {"platform": "codeforces", "platformId": dated["platformId"]}, {"$set": {"phase": "CANCELLED"}}
    )
    day = page.evaluate(
        "iso => { const d = new Date(iso); return `${d.getFullYear()}-${String(d.getMonth() + 1)"
        ".padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; }",
        dated["startTime"],
    )
    page.get_by_label("Phase").select_option("")
    page.get_by_label("Starting from").fill(day)
    page.get_by_role("button", name="Show").click()
    cancelled = page.locator(f"tr[data-contest='codeforces/{dated['platformId']}']")
    expect(cancelled).to_have_class("cancelled")
    expect(cancelled).to_contain_text("cancelled")
    first_start = rows.first.locator("time").get_attribute("datetime")
    assert first_start >= page.evaluate("d => new Date(`${d}T00:00`).toISOString()", day)
    shot(page, "contests", full_page=False)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    flower = page.get_by_role("link", name=f"Job {job['job_id']} in Flower")
    expect(flower).to_have_attribute("href", f"http://127.0.0.1:5555/task/{job['job_id']}")
    row = page.locator(f"tr[data-job='{job['job_id']}']")
    expect(row).to_contain_text("contests.platform")
    expect(row).to_contain_text("success")
    row.get_by_role("button", name=f"Retry job {job['job_id']}").click()
    retried = page.locator("#jobs tbody tr", has_text=f"retry of {job['job_id'][:8]}")
    expect(retried).to_have_count(1)
    _, listing = api(page, "/jobs?limit=5")
    assert any(j["retry_of"] == job["job_id"] for j in listing["jobs"])
    expect(retried).to_contain_text("success")  # the page refreshes while a job runs
    shot(page, "jobs")
    assert page.console.errors == []


def test_pages_fit_a_phone_screen(browser, live, simulator):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.console = Console(page)
    try:
        login(page)
        status, job = api(page, "/contests/sync/codeforces", "POST")
        wait_job(page, job["job_id"])
        for route in ("#/overview", "#/contests", "#/students", "#/raida", "#/jobs"):
            page.goto(f"/ui/{route}")
            expect(page.locator(".page h1")).to_be_visible()
            page.wait_for_load_state("networkidle")
            # The page itself never scrolls sideways (wide tables scroll inside their own box).
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, route
        page.goto("/ui/#/overview")
        expect(page.locator("[data-source='codeforces']")).to_contain_text("new")
        shot(page, "overview-phone")
        assert page.console.errors == []
    finally:
        context.close()


def _has_feed(page) -> bool:
    return "/contests.ics" in page.request.get("/openapi.json").json()["paths"]
