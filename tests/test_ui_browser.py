"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a live stack:
the API served on a local port, a real worker, the store and the platform simulator.

Screenshots of every page are written to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("SYNCQ_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"  # the conftest's admin user
TIMEOUT = 30_000  # ms; a sync on a loaded machine may take a while, every wait is for a condition


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is needed at {CHROMIUM} (apt-get install chromium); .ci/run installs it")
    expect.set_options(timeout=TIMEOUT)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture()
def live(simulator, store_db, worker, monkeypatch):
    """The API with its UI on a local port, a worker and the simulator; the admin user exists.
    Login throttling is raised: each run logs in wrongly once, from the same address, on purpose."""
    import store.users as users
    from api import create_app
    from core.settings import reload_settings

    monkeypatch.setenv("SYNCQ_LOGIN_MAX_ATTEMPTS", "1000")
    app = create_app(reload_settings())
    users.create("admin", PASSWORD, "admin")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ui-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class Console:
    """Console errors and uncaught exceptions of a page (each test asserts there are none)."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


@pytest.fixture()
def page(browser, live):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.console = Console(page)
    yield page
    context.close()


def login(page, password=PASSWORD):
    page.goto("/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('announcer').textContent = ''")  # a passing toast hides cards
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def api(page, path: str, method: str = "GET", body=None):
    """Call the API from the test with the admin token the page holds."""
    token = page.evaluate("sessionStorage.getItem('syncq.token')")
    response = page.request.fetch(path, method=method, data=body,
                                  headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async"})
    return response.status, response.json()


def wait_job(page, job_id: str) -> dict:
    status, job = api(page, f"/jobs/{job_id}?wait=30")
    assert status == 200, job
    return job


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
    assert page.evaluate("sessionStorage.getItem('syncq.token')") is None
    shot(page, "login")
    # The failed login's 401 is the only error the browser logs.
    assert all("401" in e for e in page.console.errors), page.console.errors

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    assert page.get_by_role("navigation", name="Main").is_visible()


def test_sync_all_fills_the_table_with_the_api_counts_and_shows_a_failed_platform_s_error(page, live, simulator):
    simulator.set_fault("leetcode", "html")
    simulator.set_latency("atcoder", 1500)  # long enough to see the run live
    login(page)
    button = page.locator("#sync-all")
    button.click()
    expect(button).to_be_disabled()
    expect(page.locator("#sync-live [data-step='atcoder']")).to_contain_text("syncing")
    expect(page.locator("#sync-live progress")).to_be_visible()
    table = page.locator("#sync-result")
    expect(table).to_be_visible()
    expect(button).to_be_enabled()

    status, listing = api(page, "/jobs?kind=contests.sync_all&limit=1")
    results = listing["jobs"][0]["result"]["results"]
    assert set(results) == {"codeforces", "leetcode", "codechef", "atcoder"}
    for platform, counts in results.items():
        row = table.locator(f"tr[data-platform='{platform}']")
        for field in ("synced", "updated", "failed"):
            expect(row.locator(f"[data-field='{field}']")).to_have_text(str(counts[field]))
        expect(row.locator("[data-field='summary']")).to_contain_text(
            f"{counts['synced']} new, {counts['updated']} updated ({counts['failed']} failed)")
    assert results["leetcode"]["error"] and results["codeforces"]["synced"] > 0
    expect(table.locator("tr[data-platform='leetcode'] [data-field='error']")).to_have_text(results["leetcode"]["error"])
    # The cards show each source after the run; the failed one says so, with its error.
    expect(page.locator("[data-source='leetcode']")).to_contain_text("failed")
    expect(page.locator("[data-source='codeforces']")).to_contain_text(f"{results['codeforces']['synced']} new")
    shot(page, "overview")
    assert page.console.errors == []
