"""What a state or a badge alone does not say, in a real browser against the live stack:
- a sync job that ran (SUCCESS) but whose result reports a failed platform is shown as a warning
  ("success · 1 failed") with its error, on the Jobs page and on the Overview's cards;
- a source whose last sync failed, but not yet often enough to turn its health `failing`, says so
  on its card, with how many failures in a row there were and how many make it `failing`;
- a student's Activity says it is loading the submissions while they load, and why they failed.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.ui_browser import (  # noqa: F401  (fixtures)
    TIMEOUT,
    api,
    browser,
    ended,
    live,
    login,
    page,
    ui_app,
    wait_job,
)

pytestmark = pytest.mark.slow


def run(page, path: str) -> dict:
    status, job = api(page, path, "POST")
    assert status == 202, job
    return ended(page, job["job_id"])


def test_a_sync_whose_result_reports_a_failed_platform_is_shown_as_a_warning(page, live, simulator):
    simulator.set_fault("leetcode", "html")
    login(page)
    one = run(page, "/contests/sync/leetcode")
    every = run(page, "/contests/sync/all")
    # The API is unchanged: both ran, so both are SUCCESS; their results say what failed.
    assert one["state"] == "SUCCESS" and one["result"]["failed"] == 1 and one["result"]["error"], one
    assert every["state"] == "SUCCESS" and every["result"]["results"]["leetcode"]["error"], every

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    for job, error in ((one, one["result"]["error"]), (every, every["result"]["results"]["leetcode"]["error"])):
        results = job["result"].get("results") or {"": job["result"]}
        failed = sum(r.get("failed", 0) for r in results.values())  # items (a failed platform counts one)
        row = page.locator(f"tr[data-job='{job['job_id']}']")
        state = row.locator("td .badge")
        expect(state).to_have_text(f"success · {failed} failed")
        expect(state).to_have_class("badge badge-warn")
        expect(row).to_have_attribute("data-outcome", "partial")
        expect(row.locator("[data-field='error']")).to_contain_text(error)
        row.get_by_label(f"Details of job {job['job_id']}").click()
        expect(row.locator(".job-errors.error")).to_contain_text(error)
        for r in results.values():  # items that failed to parse are listed in the details too
            for failure in r.get("failures", [])[:1]:
                expect(row.locator("details")).to_contain_text(failure.get("reason") or failure["error"])
    # A sync that failed nothing stays a plain success.
    simulator.set_fault("leetcode", None)
    clean = run(page, "/contests/sync/codeforces")
    assert clean["state"] == "SUCCESS" and not clean["result"]["failed"]
    page.get_by_role("button", name="Refresh").click()
    row = page.locator(f"tr[data-job='{clean['job_id']}']")
    expect(row.locator("[data-field='state'] .badge")).to_have_text("success")
    expect(row.locator("[data-field='state'] .badge")).to_have_class("badge badge-ok")
    expect(row).not_to_have_attribute("data-outcome", "partial")
    assert page.console.errors == []


def test_a_card_whose_last_sync_failed_under_the_threshold_says_so_next_to_its_health(page, live, simulator):
    login(page)
    assert run(page, "/api/admin/sync")["state"] == "SUCCESS"
    assert "error" not in run(page, "/contests/sync/leetcode")["result"]
    simulator.set_raida_down(range(25))
    simulator.set_fault("leetcode", "html")
    failed = run(page, "/api/admin/sync")
    assert failed["state"] == "FAILURE" and failed["error"], failed
    leetcode = run(page, "/contests/sync/leetcode")["result"]
    assert leetcode["error"]
    # The rule is intentional: one failure leaves the health as it was.
    health = page.request.get("/health").json()["sources"]
    assert health["raida"]["health"] == "ok" and health["leetcode"]["health"] == "ok", health

    page.reload()
    for source, error in (("raida", failed["error"]), ("leetcode", leetcode["error"])):
        card = page.locator(f"[data-source='{source}']")
        expect(card.locator(".card-head")).to_contain_text("ok")
        expect(card.locator(".card-head")).to_contain_text("last sync failed")
        expect(card.locator("[data-field='last-failure']")).to_contain_text(error)
        expect(card.locator("[data-field='health-hint']")).to_have_text(
            "Health stays ok until 3 failed syncs in a row (1 so far)."
        )
    expect(page.locator("[data-source='raida'] [data-field='state']")).to_have_text("failure")

    run(page, "/api/admin/sync")  # a second failure: still ok, and the count follows
    page.reload()
    expect(page.locator("[data-source='raida'] [data-field='health-hint']")).to_have_text(
        "Health stays ok until 3 failed syncs in a row (2 so far)."
    )
    run(page, "/api/admin/sync")  # the third: failing, said by the health's reason; no hint
    page.reload()
    card = page.locator("[data-source='raida']")
    expect(card.locator(".card-head")).to_contain_text("failing")
    expect(card.locator("[data-field='last-failure']")).to_have_count(0)
    expect(card).to_contain_text("only 0 of 25")
    expect(card.locator(".card-head")).not_to_contain_text("last sync failed")
    # A good sync clears it.
    simulator.set_fault("leetcode", None)
    run(page, "/contests/sync/leetcode")
    page.reload()
    expect(page.locator("[data-source='leetcode'] .card-head")).to_contain_text("ok")
    expect(page.locator("[data-source='leetcode'] [data-field='last-failure']")).to_have_count(0)
    assert page.console.errors == []


def test_the_activity_says_it_is_loading_the_submissions_and_why_they_failed(page, live, simulator):
    login(page)
    status, created = api(
        page,
        "/api/students",
        "POST",
        {"name": "Ada Lovelace", "email": "ada@example.org", "codeforcesHandle": "student_0001"},
    )
    assert status == 201, created
    wait_job(page, created["job"]["job_id"])
    pattern = "**/api/students/student_0001/submissions?*"

    # The submissions answer only when the test lets them: until then the page says it is loading.
    held = []
    page.route(pattern, lambda route: route.continue_() if held else held.append(route))  # holds the first
    with page.expect_request(lambda r: "/submissions?" in r.url):
        page.goto("/ui/#/students/student_0001")
    expect(page.get_by_role("heading", name="Ada Lovelace (student_0001)")).to_be_visible()
    loading = page.locator("#activity-status")
    expect(loading).to_contain_text("Loading submissions…")
    expect(loading.get_by_role("status")).to_be_visible()
    deadline = time.monotonic() + TIMEOUT / 1000
    while not held:  # the request is waiting in the route (usually at once)
        assert time.monotonic() < deadline
        page.wait_for_timeout(20)
    expect(page.locator("#stats")).to_have_count(0)
    expect(loading).to_contain_text("Loading submissions…")  # still, while the answer is held
    held[0].continue_()
    expect(page.locator("#stats")).to_be_visible()
    expect(page.locator("#recent tbody tr").first).to_be_visible()
    expect(loading).to_be_empty()
    page.unroute(pattern)

    # A failed fetch says why, and can be tried again.
    refusal = json.dumps({"statusCode": 503, "message": "store unavailable"})
    page.route(pattern, lambda route: route.fulfill(status=503, content_type="application/json", body=refusal))
    page.reload()
    alert = loading.get_by_role("alert")
    expect(alert).to_have_text("Submissions could not be loaded: store unavailable")
    page.unroute(pattern)
    loading.get_by_role("button", name="Try again").click()
    expect(page.locator("#stats")).to_be_visible()
    expect(loading).to_be_empty()
    # The refused fetch's 503 is the only error the browser logs.
    assert page.console.errors and all("503" in e for e in page.console.errors), page.console.errors
