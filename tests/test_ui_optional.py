"""The UI's pages for features not on every server (statistics, events, calendar feed, schedules,
webhooks) in a real browser. Where this server lacks a route, a small stand-in with the shape of
the route being built answers instead (and is listed in /openapi.json, as the real one would be);
where the server has the route, the real one answers. Either way each page shows what the API
gives and logs no console error. (Their absence is covered by test_ui_browser.py: hidden menu
items, "not available".)
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from flask import Blueprint, Response, jsonify, request
from playwright.sync_api import expect

from tests.ui_browser import (  # noqa: F401  (fixtures)
    PASSWORD,
    api,
    browser,
    live,
    login,
    page,
    shot,
    wait_job,
)

pytestmark = pytest.mark.slow


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _standins() -> tuple[Blueprint, dict[str, dict]]:
    """A blueprint answering like the routes being built, and their OpenAPI paths."""
    from api.errors import ApiError
    from api.jobs import trigger

    now = datetime.now(UTC)
    bp = Blueprint("ui_standins", __name__)
    schedules = {
        "sync-all-contests": {
            "name": "sync-all-contests",
            "task": "syncq.contests.sync_all",
            "kind": "contests.sync_all",
            "cron": "0 */6 * * *",
            "timezone": "UTC",
            "interval": None,
            "enabled": True,
            "lastRunAt": None,
            "runCount": 0,
            "nextRunAt": _iso(now + timedelta(hours=2)),
        },
        "sync-raida": {
            "name": "sync-raida",
            "task": "syncq.raida.sync",
            "kind": "raida.sync",
            "cron": None,
            "timezone": None,
            "interval": 3600,
            "enabled": True,
            "lastRunAt": _iso(now - timedelta(minutes=20)),
            "runCount": 5,
            "nextRunAt": _iso(now + timedelta(minutes=40)),
        },
    }
    hooks: dict[str, dict] = {}
    deliveries: dict[str, list] = {}
    ids = itertools.count(1)
    ok = {"200": {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}}

    @bp.get("/api/schedules")
    def list_schedules():
        return jsonify({"schedules": list(schedules.values()), "count": len(schedules)})

    @bp.patch("/api/schedules/<name>")
    def change_schedule(name):
        body = request.get_json()
        if "cron" in body and len(str(body["cron"]).split()) != 5:
            raise ApiError(400, "'cron' must be five fields: minute hour day-of-month month day-of-week")
        schedules[name].update(body)
        return jsonify(schedules[name])

    @bp.post("/api/schedules/<name>/run")
    def run_schedule(name):
        return trigger("ping")

    @bp.get("/events")
    def events():
        items = [
            {
                "id": "e1",
                "type": "source.health_changed",
                "at": _iso(now),
                "data": {"source": "leetcode", "old": "ok", "new": "failing", "reason": "3 failed syncs in a row"},
            }
        ]
        return jsonify({"events": items, "count": 1, "next_cursor": None})

    @bp.get("/api/students/<handle>/stats")
    def stats(handle):
        days = int(request.args.get("days", 30))
        return jsonify(
            {
                "handle": handle,
                "days": days,
                "solved": days // 3,
                "averageRating": 1733.3,
                "hardest": {"problemKey": "1000A", "name": "A", "rating": 2400},
                "problemsPerDay": 0.333,
                "submissions": days,
                "accepted": days // 2,
                "ratingDelta": -12,
                "heatmap": [],
                "solvedByRating": [],
            }
        )

    @bp.get("/contests.ics")
    def calendar():
        return Response(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//syncq//EN\r\nEND:VCALENDAR\r\n", mimetype="text/calendar"
        )

    @bp.get("/api/webhooks")
    def list_hooks():
        return jsonify(
            {"webhooks": list(hooks.values()), "count": len(hooks), "events": ["contest.created", "job.failed"]}
        )

    @bp.post("/api/webhooks")
    def add_hook():
        body = request.get_json()
        hook = {
            "id": f"ep_{next(ids)}",
            "url": body["url"],
            "events": body["events"],
            "enabled": True,
            "disabledReason": None,
            "failingSince": None,
            "lastError": None,
            "secret": "whsec_c3RhbmQtaW4=",
        }
        hooks[hook["id"]] = hook
        return jsonify(hook), 201

    @bp.post("/api/webhooks/<hook_id>/test")
    def test_hook(hook_id):
        deliveries.setdefault(hook_id, []).append(
            {
                "id": f"dlv_{next(ids)}",
                "type": "webhook.test",
                "status": "delivered",
                "statusCode": 200,
                "attempts": 1,
                "latencyMs": 12.5,
                "lastError": None,
                "createdAt": _iso(datetime.now(UTC)),
            }
        )
        return jsonify(deliveries[hook_id][-1]), 202

    @bp.get("/api/webhooks/<hook_id>/deliveries")
    def hook_deliveries(hook_id):
        return jsonify({"deliveries": deliveries.get(hook_id, []), "count": len(deliveries.get(hook_id, []))})

    @bp.patch("/api/webhooks/<hook_id>")
    def change_hook(hook_id):
        hooks[hook_id].update(request.get_json())
        return jsonify(hooks[hook_id])

    @bp.delete("/api/webhooks/<hook_id>")
    def delete_hook(hook_id):
        hooks.pop(hook_id)
        return jsonify({"message": f"Deleted webhook endpoint {hook_id}"})

    paths = {
        path: {"get": {"responses": ok}}
        for path in ("/api/schedules", "/events", "/api/students/{handle}/stats", "/contests.ics", "/api/webhooks")
    }
    return bp, paths


@pytest.fixture()
def ui_app(simulator, store_db, worker, monkeypatch):
    """The API app, with stand-ins for the optional routes it lacks."""
    import store.users as users
    from api import create_app, openapi
    from core.settings import reload_settings

    monkeypatch.setenv("SYNCQ_LOGIN_MAX_ATTEMPTS", "1000")
    monkeypatch.setenv("SYNCQ_WEBHOOK_ALLOW_PRIVATE", "true")  # a real webhooks route takes a local target
    app = create_app(reload_settings())
    users.create("admin", PASSWORD, "admin")
    served = {rule.rule for rule in app.url_map.iter_rules()}
    blueprint, paths = _standins()
    if "/api/schedules" not in served:  # this server has none of the routes being built
        app.register_blueprint(blueprint)
        for path, item in paths.items():
            if path not in openapi.PATHS:
                monkeypatch.setitem(openapi.PATHS, path, item)
    return app


def test_optional_pages_show_what_the_api_gives(page, live, simulator):
    login(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Schedules")).to_be_visible()
    expect(nav.get_by_role("link", name="Webhooks")).to_be_visible()

    # Overview: the newest events.
    _, events = api(page, "/events?limit=10")
    expect(page.locator("ul.events li")).to_have_count(min(10, events["count"]))

    # Student page: the figures come from the statistics API.
    status, created = api(
        page,
        "/api/students",
        "POST",
        {"name": "Ada Lovelace", "email": "ada@example.org", "codeforcesHandle": "student_0001"},
    )
    wait_job(page, created["job"]["job_id"])
    page.goto("/ui/#/students/student_0001")
    _, stats = api(page, "/api/students/student_0001/stats?days=90")
    page.get_by_role("button", name="90 days").click()
    expect(page.locator("#stats")).to_have_attribute("data-days", "90")
    expect(page.locator("#stats-title").locator("xpath=../..")).to_contain_text("from the statistics API")
    expect(page.locator("#stats div", has_text="Solved problems").locator("dd")).to_have_text(str(stats["solved"]))

    # Contests: the calendar feed's link follows the filters.
    page.goto("/ui/#/contests")
    page.get_by_label("Platform").select_option("codeforces")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#calendar-link")).to_have_attribute(
        "href", "webcal://" + live.split("://")[1] + "/contests.ics?platform=codeforces&phase=UPCOMING"
    )

    # Schedules: every entry; disable one; run one now.
    page.goto("/ui/#/schedules")
    _, schedules = api(page, "/api/schedules")
    rows = page.locator("#schedules tbody tr")
    expect(rows).to_have_count(schedules["count"])
    first = schedules["schedules"][0]["name"]
    row = page.locator(f"tr[data-schedule='{first}']")
    row.get_by_role("button", name=f"Disable {first}").click()
    expect(row).to_contain_text("off")
    assert api(page, "/api/schedules")[1]["schedules"][0]["enabled"] is False
    row = page.locator(f"tr[data-schedule='{first}']")
    row.get_by_role("button", name=f"Change {first}").click()
    page.get_by_role("dialog").get_by_label("Cron").fill("not a cron")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("cron")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    shot(page, "schedules", full_page=False)

    # Webhooks: add an endpoint, send a test event, see its delivery.
    page.goto("/ui/#/webhooks")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#webhooks tbody tr[data-webhook]")).to_have_count(1)
    expect(page.get_by_text("whsec_")).to_be_visible()
    page.get_by_role("button", name="Send test http://127.0.0.1:9/hook").click()
    expect(page.locator("#deliveries tbody tr")).to_have_count(1)
    shot(page, "webhooks", full_page=False)
    # The one error the browser logs is the refused cron's 400, asked for above.
    assert [e for e in page.console.errors if "status of 400" not in e] == []
    assert len(page.console.errors) == 1
