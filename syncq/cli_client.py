"""`syncq sync ...` and `syncq jobs ...`: trigger and watch jobs through the API.

`sync all | sync platform P | sync student HANDLE | sync raida` enqueue a job with
`Prefer: respond-async` (RFC 7240: answer 202 at once rather than wait for the result), poll
`GET /jobs/<id>` drawing a live progress bar until it ends, then print a result table, the failed
items and their reasons under it (`--json` prints the result body instead).
The API is `SYNCQ_API_URL` (or `--api`), the token `SYNCQ_TOKEN` (or `--token`).

Exit codes of `syncq sync`: 0 the sync ran and nothing failed; 3 it ran but some platform counted
failed items (the table says which); 1 the job failed, or the API refused or could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from core.settings import get_settings
from jobs import kinds

TERMINAL = ("SUCCESS", "FAILURE")
REFUSED = (400, 401, 403, 404, 405, 409, 413, 429, 503)
RESPOND_ASYNC = {"Prefer": "respond-async"}  # a trigger answers 202 with the job at once
POLL_WAIT = 1  # seconds each poll may wait on the server for the job to end
ERROR_WIDTH = 70  # a longer platform error is cut in the table and shown whole under it
EXIT_PARTIAL = 3  # the sync ran, but some platform counted failed items


class ClientError(Exception):
    """The API could not be reached or refused the call; the message says which."""


class Api:
    """A small client for syncq's API."""

    def __init__(self, base: str, token: str, timeout: float = 75.0):
        if not token:
            raise ClientError("no token: set SYNCQ_TOKEN or pass --token (see `syncq token`)")
        self.http = httpx.Client(
            base_url=base, timeout=timeout, headers={"Authorization": f"Bearer {token}", "X-Syncq-Trigger": "cli"}
        )

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach the API at {self.http.base_url}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        # These are the API refusing the call itself; a failed job's own status (500, 502)
        # comes back to the caller with its body.
        if response.status_code in REFUSED:
            message = body.get("message", body) if isinstance(body, dict) else body
            raise ClientError(f"{response.status_code}: {message}")
        return response.status_code, body


def progress_line(job: dict[str, Any], width: int = 30) -> str:
    """`[#######.......] 2/4 leetcode  PROGRESS` for a job envelope."""
    progress = job.get("progress") or {}
    done, total = progress.get("done") or 0, progress.get("total") or 0
    filled = int(width * done / total) if total else (width if job.get("state") in TERMINAL else 0)
    bar = "#" * filled + "." * (width - filled)
    count = f"{done}/{total}" if total else ""
    return f"[{bar}] {count} {progress.get('current') or ''}  {job.get('state')}".replace("  ", " ")


def follow(api: Api, job_id: str, quiet: bool = False) -> tuple[int, Any]:
    """Poll `GET /jobs/<id>` until the job ends, drawing a progress bar; returns its final
    (status, body): the result body once finished (`?wait=` lets the server answer it then)."""
    tty = sys.stderr.isatty()
    last = None
    while True:
        status, body = api.call("GET", f"/jobs/{job_id}", params={"wait": POLL_WAIT})
        if status != 202:
            if not quiet and tty:
                sys.stderr.write("\r" + " " * 70 + "\r")
            return status, body
        line = progress_line(body)
        if not quiet and line != last:
            sys.stderr.write(("\r" + line) if tty else (line + "\n"))
            sys.stderr.flush()
            last = line


def render_table(rows: list[list[str]]) -> str:
    """Rows as aligned columns, the first row a header."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def platform_error(name: str, result: dict[str, Any]) -> str:
    """A platform's error without its leading `name: ` (the table and the list name it already)."""
    error = result.get("error") or ""
    return error.removeprefix(f"{name}: ")


def platforms_table(results: dict[str, dict[str, Any]]) -> str:
    """The per-platform table of a contest sync, then each platform's failed items and why;
    `unchanged` is a column when a result counts it."""
    unchanged = any("unchanged" in r for r in results.values())
    # After `failed`: scripts that read the first three counts by position keep reading them.
    rows = [["platform", "synced", "updated", "failed", *(["unchanged"] if unchanged else []), "error"]]
    for name, r in results.items():
        error = platform_error(name, r)
        rows.append(
            [
                name,
                r.get("synced", 0),
                r.get("updated", 0),
                r.get("failed", 0),
                *([r.get("unchanged", "-")] if unchanged else []),
                error if len(error) <= ERROR_WIDTH else error[: ERROR_WIDTH - 15] + "... (see below)",
            ]
        )
    long = [
        f"  {name}: {platform_error(name, r)}"
        for name, r in results.items()
        if len(platform_error(name, r)) > ERROR_WIDTH
    ]
    return render_table(rows) + ("\n\nerrors:\n" + "\n".join(long) if long else "") + failures_text(results)


def failures_text(results: dict[str, dict[str, Any]]) -> str:
    """`failed items:` and, per platform, each kept failure (`platformId: reason`); the count
    is exact even when the result kept only the first ones."""
    lines = []
    for name, r in results.items():
        failures = r.get("failures") or []
        if not failures:
            continue
        lines.append(f"  {name}:")
        lines += [f"    {f.get('platformId') or '(no id)'}: {f.get('reason') or 'no reason given'}" for f in failures]
        more = int(r.get("failed") or 0) - len(failures)
        if more > 0:
            lines.append(f"    ... and {more} more (a result keeps the first {len(failures)})")
    return "\n\nfailed items:\n" + "\n".join(lines) if lines else ""


def result_table(kind: str, body: Any) -> str:
    """A human table for a finished job's result body."""
    if not isinstance(body, dict):
        return json.dumps(body, indent=2)
    if "results" in body:
        return body.get("message", "") + "\n" + platforms_table(body["results"])
    if "platform" in body and "synced" in body:
        return platforms_table({body["platform"]: body})
    if "users_synced" in body:
        keys = [
            "status",
            "users_synced",
            "servers_synced",
            "raida_servers_synced",
            "raida_ready",
            "timestamp",
            "message",
        ]
        return render_table([["field", "value"]] + [[k, body[k]] for k in keys if k in body])
    if "codeforcesHandle" in body:
        keys = ["codeforcesHandle", "name", "currRating", "maxRating", "rank", "lastActiveAt", "lastSyncedAt"]
        return render_table([["field", "value"]] + [[k, body.get(k)] for k in keys])
    return json.dumps(body, indent=2, default=str)


def platform_results(body: Any) -> dict[str, dict[str, Any]]:
    """A contest sync's per-platform results (a sync-all's, or one platform's); {} for others."""
    if not isinstance(body, dict):
        return {}
    if isinstance(body.get("results"), dict):
        return {name: r for name, r in body["results"].items() if isinstance(r, dict)}
    if "platform" in body and "synced" in body:
        return {body["platform"]: body}
    return {}


def exit_code(status: int, body: Any) -> int:
    """0 for a clean sync, EXIT_PARTIAL when a platform counted failed items, 1 for a failed job."""
    if status != 200:
        return 1
    failed = any(int(r.get("failed") or 0) > 0 for r in platform_results(body).values())
    return EXIT_PARTIAL if failed else 0


def _trigger(args: argparse.Namespace, path: str, kind: str) -> int:
    api = _api(args)
    # Wait here, with a progress bar, rather than on a server that holds the request open.
    status, body = api.call("POST", path, headers=RESPOND_ASYNC)
    if status == 202:
        status, body = follow(api, body["job_id"], quiet=args.json)
    if args.json:
        print(json.dumps(body, indent=2, default=str))
    elif status != 200 and isinstance(body, dict) and "statusCode" in body:
        # A failed job answered the API's error shape: said like every other error, not as JSON.
        message = " ".join(str(body.get("message") or f"the job failed ({status})").split())
        raise ClientError(message)
    else:
        print(result_table(kind, body))
    return exit_code(status, body)


def _api(args: argparse.Namespace) -> Api:
    settings = get_settings()
    return Api(args.api or settings.api_url, args.token or settings.api_token)


def cmd_sync(args: argparse.Namespace) -> int:
    target = args.target
    if target == "all":
        return _trigger(args, "/contests/sync/all", kinds.CONTESTS_SYNC_ALL)
    if target == "platform":
        return _trigger(args, f"/contests/sync/{args.name}", kinds.CONTESTS_PLATFORM)
    if target == "student":
        return _trigger(args, f"/api/codeforces/sync/{args.name}", kinds.STUDENTS_SYNC)
    return _trigger(args, "/api/admin/sync", kinds.RAIDA_SYNC)


def cmd_jobs(args: argparse.Namespace) -> int:
    api = _api(args)
    if args.jobs_command == "list":
        params = {"limit": args.limit, **({"kind": args.kind} if args.kind else {})}
        _, body = api.call("GET", "/jobs", params=params)
        if args.json:
            print(json.dumps(body, indent=2))
            return 0
        rows = [["job_id", "kind", "state", "trigger", "created_at", "error"]]
        for job in body["jobs"]:
            rows.append(
                [
                    job["job_id"],
                    job["kind"],
                    job["state"],
                    job["trigger"],
                    job["created_at"],
                    (job.get("error") or "")[:40],
                ]
            )
        print(render_table(rows))
        return 0
    _, body = api.call("GET", f"/jobs/{args.job_id}")
    print(json.dumps(body, indent=2))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api", help="API base URL (default SYNCQ_API_URL)")
    p.add_argument("--token", help="admin token (default SYNCQ_TOKEN)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def _guarded(func):
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ClientError as exc:
            print(f"syncq: {exc}", file=sys.stderr)
            return 1

    return run


def add_commands(sub) -> None:
    """Add `syncq sync` and `syncq jobs` to the CLI."""
    sync = sub.add_parser(
        "sync",
        help="trigger a sync through the API and follow it",
        epilog="exit status: 0 done, 3 done but some items or platforms failed, "
        "1 the job failed or the API refused or could not be reached",
    )
    targets = sync.add_subparsers(dest="target", required=True)
    for name, help_text in (("all", "every contest platform"), ("raida", "the RAIDA network")):
        _common(targets.add_parser(name, help=help_text))
    for name, help_text in (("platform", "one contest platform"), ("student", "one student by handle")):
        p = targets.add_parser(name, help=help_text)
        p.add_argument("name")
        _common(p)
    sync.set_defaults(func=_guarded(cmd_sync))

    jobs = sub.add_parser("jobs", help="list or show jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = jobs_sub.add_parser("list")
    listing.add_argument(
        "--kind",
        choices=sorted(kinds.KINDS),
        metavar="KIND",
        help=f"only jobs of this kind: {', '.join(sorted(kinds.KINDS))}",
    )
    listing.add_argument("--limit", type=int, default=20)
    _common(listing)
    show = jobs_sub.add_parser("show")
    show.add_argument("job_id")
    _common(show)
    jobs.set_defaults(func=_guarded(cmd_jobs))
