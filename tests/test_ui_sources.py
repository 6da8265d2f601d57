"""The web UI lists every platform `/platforms` has: clist.by's resources and a plugin's, with their sites."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from playwright.sync_api import expect

from adapters import registry
from core.settings import reload_settings
from syncq.simulator import clist_env
from tests.ui_browser import browser, live, login, page, shot, ui_app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "syncq-source-example"


@pytest.fixture()
def more_sources(simulator, monkeypatch):
    """clist.by on against the simulator and the example plugin installed (before the app is made)."""
    for name, value in clist_env(simulator.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SYNCQ_SOURCE_PLUGINS", "*")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    point = EntryPoint(name="judgeville", value="syncq_source_example.judgeville", group=registry.GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: [point])
    monkeypatch.setattr(registry, "_plugins", None)
    yield
    monkeypatch.undo()
    reload_settings()


def test_the_overview_and_the_contest_filter_show_every_added_platform_with_its_site(more_sources, page, live):
    login(page)
    for platform, host in (
        ("topcoder", "topcoder.com"),
        ("kattis", "open.kattis.com"),
        ("judgeville", "judgeville.example"),
    ):
        expect(page.locator(f"[data-source='{platform}']")).to_contain_text(host)
    expect(page.locator("[data-source='codeforces']")).to_contain_text("codeforces.com")
    shot(page, "overview-sources")
    page.goto("/ui/#/contests")
    options = page.locator("#f-platform option")
    expect(options.filter(has_text="kattis (open.kattis.com)")).to_have_count(1)
    expect(options.filter(has_text="judgeville (judgeville.example)")).to_have_count(1)
    assert options.count() == 1 + 4 + 10 + 1  # All, the built-ins, clist's resources, the plugin
    assert page.console.errors == []
