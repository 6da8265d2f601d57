"""Source plugins found through the entry-point group `syncq.sources`: the example plugin syncs end to
end like a built-in platform, and a plugin that cannot load is named without stopping the others."""

from __future__ import annotations

import logging
import time
from importlib.metadata import EntryPoint
from pathlib import Path

import httpx
import pytest
import redis

import adapters.http
from adapters import registry
from adapters.http import send
from adapters.records import ParseResult
from adapters.source import Source
from core.settings import get_settings, reload_settings
from syncs.contests import sync_platform

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "syncq-source-example"
JUDGEVILLE = EntryPoint(name="judgeville", value="syncq_source_example.judgeville", group=registry.GROUP)


@pytest.fixture()
def plugins(monkeypatch):
    """Installs the given entry points as the only plugins (the example's package importable from
    its folder, installed or not); returns a function that takes the entry points."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.setattr(registry, "_plugins", None)
    monkeypatch.setattr(registry, "_plugin_errors", {})

    def install(*points: EntryPoint, chosen: str = "*") -> dict:
        monkeypatch.setattr(registry, "_entry_points", lambda: list(points))
        monkeypatch.setenv("SYNCQ_SOURCE_PLUGINS", chosen)
        reload_settings()
        return registry.load_plugins(reload=True)

    yield install
    monkeypatch.undo()
    reload_settings()


def test_a_plugin_that_fails_to_import_or_breaks_the_contract_is_named_and_the_others_load(plugins, client, caplog):
    missing = EntryPoint(name="ghost", value="syncq_no_such_package.source", group=registry.GROUP)
    broken = EntryPoint(name="notasource", value="json", group=registry.GROUP)  # no SOURCE, no fetch
    clash = EntryPoint(name="fakeforces", value="adapters.codeforces", group=registry.GROUP)  # name taken
    with caplog.at_level(logging.INFO, logger="adapters.registry"):
        loaded = plugins(missing, broken, JUDGEVILLE, clash)
        registry.report_at_start()
    assert list(loaded) == ["judgeville"]
    assert registry.names() == ["codeforces", "leetcode", "codechef", "atcoder", "judgeville"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    for name, why in (
        ("ghost", "ModuleNotFoundError"),
        ("notasource", "no SOURCE"),
        ("fakeforces", "'codeforces' is taken"),
    ):
        assert f"plugin {name}" in logged and why in logged
    body = client.get("/health").get_json()
    assert body["status"] == "ok"
    assert set(body["plugins"]) == {"ghost", "notasource", "fakeforces"}
    assert "ModuleNotFoundError" in body["plugins"]["ghost"]["error"]
    assert "judgeville" in body["sources"] and body["sources"]["judgeville"]["health"] == "unknown"


def test_the_plugin_setting_picks_which_installed_plugins_load(plugins):
    plugins(JUDGEVILLE, chosen="none")
    assert "judgeville" not in registry.names()
    plugins(JUDGEVILLE, chosen="judgeville")
    assert registry.names()[-1] == "judgeville"


def test_an_installed_plugin_syncs_end_to_end_like_a_builtin_platform(
    plugins, client, admin_headers, worker, simulator, monkeypatch
):
    monkeypatch.setenv("SYNCQ_PLATFORM_ORDER", "judgeville,codeforces")
    plugins(JUDGEVILLE)
    shown = {p["platform"]: p for p in client.get("/platforms").get_json()["platforms"]}
    assert shown["judgeville"]["host"] == "judgeville.example"
    assert shown["judgeville"]["source"]["timezone"] == "Europe/Berlin"

    r = client.post("/contests/sync/all?wait=60", headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    results = r.get_json()["results"]
    assert list(results)[:2] == ["judgeville", "codeforces"]  # SYNCQ_PLATFORM_ORDER may name it
    assert results["judgeville"]["synced"] == 8 and results["judgeville"]["failed"] == 0, results["judgeville"]

    listed = client.get("/contests?platform=judgeville&limit=50").get_json()
    items = listed.get("contests") or listed.get("items") or listed.get("data")
    assert len(items) == 8 and {c["platform"] for c in items} == {"judgeville"}
    one = client.get("/contests/judgeville/jv-cup-46-final").get_json()
    assert one["url"] == "https://judgeville.example/contests/jv-cup-46-final" and one["durationSeconds"] == 7200
    calendar = client.get("/contests.ics?platform=judgeville").get_data(as_text=True)
    assert calendar.count("BEGIN:VEVENT") == 8 and "Judgeville Cup #47" in calendar
    created = client.get("/events?type=contest.created&limit=100", headers=admin_headers).get_json()["events"]
    assert any(e["data"].get("platform") == "judgeville" for e in created)  # what webhooks deliver
    health = client.get("/health").get_json()["sources"]["judgeville"]
    assert health["health"] == "ok", health


class Rated:
    """A plugin that declares 600 calls a minute and makes four calls per fetch."""

    SOURCE = Source(name="rated", host="rated.example", rate_per_minute=600)

    def fetch(self, client, settings):
        return [send(client, "GET", f"https://rated.example/page/{n}", service="rated").json() for n in range(4)]

    def parse(self, payload, now=None):
        return ParseResult()


def test_a_plugins_declared_rate_limit_paces_its_calls(plugins, store_db, monkeypatch):
    sent = []
    monkeypatch.setattr(
        adapters.http,
        "default_transport",
        httpx.MockTransport(lambda request: sent.append(time.monotonic()) or httpx.Response(200, json={})),
    )
    monkeypatch.setattr(registry, "_entry_points", lambda: [])
    plugins()
    monkeypatch.setitem(registry._plugins, "rated", Rated())
    redis.Redis.from_url(get_settings().redis_url).delete("syncq:ratelimit:source:rated")
    assert sync_platform("rated")["failed"] == 0
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert len(sent) == 4 and min(gaps) >= 0.1 * 0.95, gaps  # 600 a minute: one call every 0.1 s at most
