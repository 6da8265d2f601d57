"""The `syncq` command: accounts, tokens, and sync/jobs through a live API."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

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


def test_users_create_update_sets_the_password_and_says_the_role_it_keeps(store_db, monkeypatch, capsys):
    users.create("carol", "the-old-password", "admin")
    monkeypatch.setattr("sys.stdin", io.StringIO("the-new-password\n"))
    assert main(["users", "create", "carol", "--password-stdin", "--update"]) == 0
    assert capsys.readouterr().out.strip() == "user carol ready (admin)"
    assert users.authenticate("carol", "the-new-password")["role"] == "admin"


def test_users_create_update_admin_makes_an_existing_user_admin(store_db, monkeypatch, capsys):
    users.create("dave", "the-old-password", "user")
    monkeypatch.setattr("sys.stdin", io.StringIO("the-new-password\n"))
    assert main(["users", "create", "dave", "--admin", "--password-stdin", "--update"]) == 0
    assert capsys.readouterr().out.strip() == "user dave ready (admin)"
    assert users.authenticate("dave", "the-new-password")["role"] == "admin"


def test_users_role_changes_a_role_and_names_an_unknown_user(store_db, capsys):
    users.create("erin", "a-good-password", "admin")
    assert main(["users", "role", "erin", "user"]) == 0
    assert "erin now has role user" in capsys.readouterr().out and users.get("erin")["role"] == "user"
    assert main(["users", "role", "nobody", "admin"]) == 1
    assert "no user nobody" in capsys.readouterr().err


@pytest.mark.parametrize("lifetime", ["0", "-5"])
def test_token_refuses_a_lifetime_that_is_not_positive(lifetime, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["token", "--sub", "ops", "--no-check", "--expires", lifetime])
    assert exited.value.code == 2
    assert "--expires: must be a positive number of seconds" in capsys.readouterr().err
    from syncq.cli import make_token

    with pytest.raises(ValueError, match="positive"):
        make_token("ops", "admin", int(lifetime))


def test_token_with_a_lifetime_expires_then(capsys):
    assert main(["token", "--sub", "ops", "--no-check", "--expires", "90"]) == 0
    claims = pyjwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 90


def test_a_mongodb_that_refuses_a_command_is_named_in_one_line_without_the_uri_password():
    from pymongo.errors import OperationFailure

    from syncq.cli import store_error_line

    exc = OperationFailure("Authentication failed.", 18, {"ok": 0, "errmsg": "Authentication failed.", "code": 18})
    assert (
        store_error_line(exc, "mongodb://ops:s3cret@db.internal:27017/syncq", unreachable=False)
        == "MongoDB at mongodb://ops:***@db.internal:27017/syncq failed: Authentication failed.; "
        "check SYNCQ_MONGODB_URI"
    )


@pytest.mark.parametrize(
    "command", [["token", "--sub", "admin"], ["users", "create", "alice", "--admin", "--password-stdin"]]
)
def test_account_commands_with_mongodb_down_say_so_in_one_line(command):
    # A process of its own, as a user runs it: the traceback would reach its stderr.
    env = {**os.environ, "SYNCQ_MONGODB_URI": "mongodb://ops:s3cret@127.0.0.1:1/syncq", "SYNCQ_STORE_TIMEOUT_MS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "syncq.cli", *command],
        input="a-long-password\n",
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("syncq: MongoDB is unreachable at mongodb://ops:***@127.0.0.1:1/syncq: ")
    assert run.stderr.count("\n") == 1 and "set SYNCQ_MONGODB_URI" in run.stderr
    assert "s3cret" not in run.stderr and "Topology" not in run.stderr


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
    assert code == 3  # leetcode failed: the table is printed, and the exit says so
    assert "Sync completed for all platforms" in out and "codechef" in out and "HTML page" in out
    assert "leetcode: leetcode:" not in out
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


def test_jobs_list_refuses_a_kind_that_does_not_exist(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["jobs", "list", "--kind", "bogus", "--api", "http://127.0.0.1:9", "--token", "x"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "contests.sync_all" in err


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
    result = {
        "message": "Sync completed for codeforces",
        "platform": "codeforces",
        "synced": 1975,
        "updated": 0,
        "failed": 25,
        "failures": failures,
    }
    with respx.mock(base_url=base, assert_all_called=True) as api:
        trigger = api.post("/contests/sync/codeforces").respond(202, json=envelope)
        polls = api.get("/jobs/j1")
        polls.side_effect = [
            httpx.Response(
                202, json={**envelope, "state": "PROGRESS", "progress": {"done": 1, "total": 2, "current": "parse"}}
            ),
            httpx.Response(200, json=result),
        ]
        code = main(["sync", "platform", "codeforces", "--api", base, "--token", "t"])
    assert code == 3  # 25 items failed
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
    body = {
        "message": "Sync completed for all platforms",
        "results": {
            "codechef": {
                "synced": 66,
                "updated": 0,
                "failed": 1,
                "failures": [{"platformId": None, "reason": "bad contest_code None"}],
            }
        },
    }
    with respx.mock(base_url=base, assert_all_called=True) as api:
        api.post("/contests/sync/all").respond(200, json=body)
        assert main(["sync", "all", "--api", base, "--token", "t"]) == 3
    out = capsys.readouterr().out
    assert "codechef  66" in out and "(no id): bad contest_code None" in out


def test_a_long_platform_error_is_cut_in_the_table_and_shown_whole_under_it():
    from syncq.cli_client import platforms_table

    error = "codechef: unreachable: ConnectError: [Errno 111] Connection refused while fetching the contest list"
    text = platforms_table(
        {
            "codechef": {"synced": 0, "updated": 0, "failed": 1, "error": error},
            "atcoder": {"synced": 5, "updated": 0, "failed": 0},
        }
    )
    table, _, below = text.partition("errors:")
    assert "... (see below)" in table and error not in table
    assert f"  {error}" in below and "failed items:" not in text  # the platform named once
    assert "codechef: codechef" not in text


def test_a_re_sync_shows_what_stayed_unchanged():
    from syncq.cli_client import platforms_table

    lines = platforms_table(
        {
            "atcoder": {"synced": 0, "updated": 0, "failed": 0, "unchanged": 1805},
            "leetcode": {"synced": 0, "updated": 0, "failed": 1, "error": "leetcode: LeetCode answered an HTML page"},
        }
    ).splitlines()
    assert lines[0].split() == ["platform", "synced", "updated", "failed", "unchanged", "error"]
    assert lines[2].split() == ["atcoder", "0", "0", "0", "1805"]
    assert lines[3].split()[:6] == ["leetcode", "0", "0", "1", "-", "LeetCode"]


@pytest.mark.parametrize(
    "path,command,body,code",
    [
        (
            "/contests/sync/atcoder",
            ["platform", "atcoder"],
            {"message": "Sync completed for atcoder", "platform": "atcoder", "synced": 5, "updated": 0, "failed": 0},
            0,
        ),
        (
            "/contests/sync/atcoder",
            ["platform", "atcoder"],
            {"message": "Sync completed for atcoder", "platform": "atcoder", "synced": 4, "updated": 0, "failed": 1},
            3,
        ),
        (
            "/contests/sync/all",
            ["all"],
            {
                "message": "Sync completed for all platforms",
                "results": {
                    "atcoder": {"synced": 5, "updated": 0, "failed": 0},
                    "leetcode": {"synced": 0, "updated": 0, "failed": 1, "error": "leetcode: down"},
                },
            },
            3,
        ),
    ],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_sync_whose_platform_failed_exits_3_and_still_prints_its_result(path, command, body, code, json_flag, capsys):
    import respx

    base = "http://api.test"
    with respx.mock(base_url=base, assert_all_called=True) as api:
        api.post(path).respond(200, json=body)
        assert main(["sync", *command, *json_flag, "--api", base, "--token", "t"]) == code
    out = capsys.readouterr().out
    assert "atcoder" in out


def test_a_failed_student_sync_says_why_in_one_line(capsys):
    import respx

    base = "http://api.test"
    envelope = {"job_id": "j1", "kind": "students.sync", "state": "PENDING", "status_url": f"{base}/jobs/j1"}
    failed = {"statusCode": 500, "message": "Sync failed: Codeforces answered\n'handle: User not found'"}
    with respx.mock(base_url=base, assert_all_called=True) as api:
        api.post("/api/codeforces/sync/nobody").respond(202, json=envelope)
        api.get("/jobs/j1").respond(500, json=failed)
        assert main(["sync", "student", "nobody", "--api", base, "--token", "t"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "syncq: Sync failed: Codeforces answered 'handle: User not found'\n"
