"""The `syncq` command: accounts, tokens, and sync/jobs through a live API."""

from __future__ import annotations

import io
import json
import threading

import jwt as pyjwt
import pytest
from werkzeug.serving import make_server

import store.users as users
from syncq.cli import main
from tests.contest_stubs import GARBAGE, install


def test_users_create_reads_the_password_from_stdin(store_db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "create", "ops", "--admin", "--password-stdin"]) == 0
    assert users.authenticate("ops", "a-long-password")["role"] == "admin"


def test_users_create_refuses_a_short_password(store_db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="8 characters"):
        main(["users", "create", "ops", "--password-stdin"])


def test_token_is_signed_with_the_configured_secret(store_db, capsys):
    users.create("ops", "a-long-password", "admin")
    assert main(["token", "--sub", "ops", "--role", "admin"]) == 0
    token = capsys.readouterr().out.strip()
    from core.settings import get_settings

    claims = pyjwt.decode(token, get_settings().jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == "ops" and claims["role"] == "admin"


def test_token_for_an_unknown_user_is_refused(store_db, capsys):
    assert main(["token", "--sub", "ghost"]) == 1
    assert "no user ghost" in capsys.readouterr().err


@pytest.fixture()
def live_api(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_sync_all_shows_a_table_and_records_trigger_cli(live_api, admin_token, worker, monkeypatch, capsys):
    stubs = install(monkeypatch)
    stubs["leetcode"].error = GARBAGE
    code = main(["sync", "all", "--api", live_api, "--token", admin_token])
    out = capsys.readouterr().out
    assert code == 0
    assert "Sync completed for all platforms" in out and "codechef" in out and "HTML page" in out
    import store.jobs as jobs_store

    assert jobs_store.recent("contests.sync_all", 1)[0]["trigger"] == "cli"


def test_sync_platform_json_output(live_api, admin_token, worker, monkeypatch, capsys):
    install(monkeypatch)
    assert main(["sync", "platform", "atcoder", "--json", "--api", live_api, "--token", admin_token]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["platform"] == "atcoder" and body["synced"] == 5


def test_sync_unknown_platform_says_why(live_api, admin_token, monkeypatch, capsys):
    install(monkeypatch)
    assert main(["sync", "platform", "topcoder", "--api", live_api, "--token", admin_token]) == 1
    assert "404" in capsys.readouterr().err


def test_jobs_list_and_show(live_api, admin_token, worker, monkeypatch, capsys):
    install(monkeypatch)
    main(["sync", "platform", "codechef", "--api", live_api, "--token", admin_token])
    capsys.readouterr()
    assert main(["jobs", "list", "--api", live_api, "--token", admin_token]) == 0
    listing = capsys.readouterr().out
    assert "contests.platform" in listing and "SUCCESS" in listing
    job_id = listing.splitlines()[2].split()[0]
    assert main(["jobs", "show", job_id, "--api", live_api, "--token", admin_token]) == 0
    assert json.loads(capsys.readouterr().out)["job_id"] == job_id


def test_cli_without_a_token_says_how_to_get_one(capsys, monkeypatch):
    monkeypatch.delenv("SYNCQ_TOKEN", raising=False)
    assert main(["jobs", "list", "--api", "http://127.0.0.1:9"]) == 1
    assert "SYNCQ_TOKEN" in capsys.readouterr().err


def test_cli_with_the_api_down_says_so(capsys):
    assert main(["jobs", "list", "--api", "http://127.0.0.1:9", "--token", "x"]) == 1
    assert "cannot reach the API" in capsys.readouterr().err


def test_a_trigger_asks_to_answer_at_once_and_the_cli_polls_the_job_with_a_bar(capsys):
    import httpx
    import respx

    base = "http://api.test"
    envelope = {"job_id": "j1", "kind": "contests.platform", "state": "PENDING", "status_url": f"{base}/jobs/j1"}
    failures = [{"platformId": str(100 + i), "reason": "unknown phase 'SOON'"} for i in range(20)]
    result = {"message": "Sync completed for codeforces", "platform": "codeforces", "synced": 1975,
              "updated": 0, "failed": 25, "failures": failures}
    with respx.mock(base_url=base, assert_all_called=True) as api:
        trigger = api.post("/contests/sync/codeforces").respond(202, json=envelope)
        polls = api.get("/jobs/j1")
        polls.side_effect = [
            httpx.Response(202, json={**envelope, "state": "PROGRESS",
                                      "progress": {"done": 1, "total": 2, "current": "parse"}}),
            httpx.Response(200, json=result),
        ]
        code = main(["sync", "platform", "codeforces", "--api", base, "--token", "t"])
    assert code == 0
    assert trigger.calls.last.request.headers["Prefer"] == "respond-async"
    assert all(call.request.url.params["wait"] == "1" for call in polls.calls) and polls.call_count == 2
    captured = capsys.readouterr()
    assert "1/2 parse" in captured.err  # the progress bar, drawn from GET /jobs/<id>
    table, _, below = captured.out.partition("failed items:")
    assert "codeforces  1975" in table and "25" in table
    assert "100: unknown phase 'SOON'" in below and "119: unknown phase 'SOON'" in below
    assert "... and 5 more" in below  # 25 failed, the result keeps the first 20


def test_a_server_that_answers_the_result_at_once_is_not_polled(capsys):
    import respx

    base = "http://api.test"
    body = {"message": "Sync completed for all platforms",
            "results": {"codechef": {"synced": 66, "updated": 0, "failed": 1,
                                     "failures": [{"platformId": None, "reason": "bad contest_code None"}]}}}
    with respx.mock(base_url=base, assert_all_called=True) as api:
        api.post("/contests/sync/all").respond(200, json=body)
        assert main(["sync", "all", "--api", base, "--token", "t"]) == 0
    out = capsys.readouterr().out
    assert "codechef  66" in out and "(no id): bad contest_code None" in out


def test_a_long_platform_error_is_cut_in_the_table_and_shown_whole_under_it():
    from syncq.cli_client import platforms_table

    error = "codechef: unreachable: ConnectError: [Errno 111] Connection refused while fetching the contest list"
    text = platforms_table({"codechef": {"synced": 0, "updated": 0, "failed": 1, "error": error},
                            "atcoder": {"synced": 5, "updated": 0, "failed": 0}})
    table, _, below = text.partition("errors:")
    assert "... (see below)" in table and error not in table
    assert f"  codechef: {error}" in below and "failed items:" not in text
