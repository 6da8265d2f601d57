"""Browser-test helpers for the web UI: Debian's Chromium driven by Playwright, a live stack (the API
served on a local port, a real worker, the store and the platform simulator), logging in, screenshots.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.procs import wait_until

CHROMIUM = os.environ.get("SYNCQ_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"  # the conftest's admin user
TIMEOUT = 30_000  # ms; a sync on a loaded machine may take a while, every wait is for a condition


@pytest.fixture(scope="module")  # per module: Playwright's sync API runs one instance at a time
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is needed at {CHROMIUM} (apt-get install chromium); .ci/run installs it")
    expect.set_options(timeout=TIMEOUT)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture()
def ui_app(simulator, store_db, worker, monkeypatch):
    """The API app for the browser tests; the admin user exists. Login throttling is raised: each
    run logs in wrongly once, from the same address, on purpose."""
    import store.users as users
    from api import create_app
    from core.settings import reload_settings

    monkeypatch.setenv("SYNCQ_LOGIN_MAX_ATTEMPTS", "1000")
    monkeypatch.setenv("SYNCQ_FLOWER_URL", "http://127.0.0.1:5555")
    app = create_app(reload_settings())
    users.create("admin", PASSWORD, "admin")
    return app


@pytest.fixture()
def live(ui_app):
    """`ui_app` served on a local port (with the worker and the simulator behind it)."""
    server = make_server("127.0.0.1", 0, ui_app, threaded=True)
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
    if password == PASSWORD:
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('announcer').textContent = ''")  # a passing toast hides cards
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def api(page, path: str, method: str = "GET", body=None):
    """Call the API from the test with the admin token the page holds (a trigger answers at once)."""
    token = page.evaluate("sessionStorage.getItem('syncq.token')")
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":
        headers["Prefer"] = "respond-async"
    response = page.request.fetch(path, method=method, data=body, headers=headers)
    return response.status, response.json()


def ended(page, job_id: str, timeout: float = TIMEOUT / 1000) -> dict:
    """The job once it has ended, succeeded or failed (polled: how `?wait=` answers differs
    between API versions)."""

    def finished():
        status, job = api(page, f"/jobs/{job_id}")
        assert status == 200, job
        return job if job["state"] in ("SUCCESS", "FAILURE") else None

    return wait_until(finished, timeout, f"job {job_id} to end")


def wait_job(page, job_id: str, timeout: float = TIMEOUT / 1000) -> dict:
    """The job once it has ended, which must be a success."""
    job = ended(page, job_id, timeout)
    assert job["state"] == "SUCCESS", job
    return job
