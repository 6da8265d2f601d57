"""`python -m bench.reliability`: run the reliability tests and write their results into docs/reliability.md."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Issue 8's points and the tests that prove each.
POINTS = [
    (
        "1. worker killed mid-sync",
        [
            "tests/test_reliability_processes.py::test_worker_process_killed_between_platforms_is_redelivered",
            "tests/test_reliability_processes.py::test_whole_worker_killed_then_a_new_worker_finishes_after_the_visibility_timeout",
        ],
    ),
    (
        "2. Redis restarted",
        [
            "tests/test_reliability_processes.py::test_redis_restart_loses_no_queued_job_and_the_api_recovers",
            "tests/test_reliability_processes.py::test_redis_restart_during_a_run_the_worker_reconnects",
            "tests/test_errors_and_health.py",
        ],
    ),
    (
        "3. store down",
        [
            "tests/test_reliability_processes.py::test_store_outage_mid_sync_is_retried_with_backoff_and_the_api_answers_503",
            "tests/test_jobs_api.py::test_an_end_mongodb_was_down_for_is_written_by_the_worker_once_it_is_back",
            "tests/test_errors_and_health.py::test_store_down_is_503_for_reads",
        ],
    ),
    ("4. platform fault matrix", ["tests/test_fault_matrix.py", "tests/test_contest_sync_recorded.py"]),
    ("5. concurrency", ["tests/test_concurrency.py", "tests/test_ratelimit.py"]),
    ("6. auth attacks", ["tests/test_auth.py"]),
    (
        "7. bad input",
        [
            "tests/test_openapi.py",
            "tests/test_contest_sync.py::test_path_traversal_and_injection_in_platform_names_are_404",
            "tests/test_contest_sync.py::test_operator_and_traversal_ids_never_reach_a_query",
            "tests/test_students.py::test_malformed_handles_are_400",
            "tests/test_students.py::test_bad_student_bodies_are_400",
        ],
    ),
    (
        "8. Flower behind basic auth",
        [
            "tests/test_flower_and_beat.py::test_flower_requires_basic_auth",
            "tests/test_deploy_files.py::test_flower_command_is_a_syncq_subcommand_with_required_basic_auth",
            "tests/test_deploy_files.py::test_flower_refuses_to_start_without_basic_auth",
            "tests/test_flower_and_beat.py::test_flowers_command_line_holds_no_password",
            "tests/test_secrets.py",
        ],
    ),
    (
        "9. hardening",
        [
            "tests/test_login_throttle.py",
            "tests/test_auth_tokens.py",
            "tests/test_webhook_bounds.py",
            "tests/test_webhook_ssrf.py",
            "tests/test_raida_targets.py",
            "tests/test_students_midway.py",
        ],
    ),
]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        targets = sorted({t for _, tests in POINTS for t in tests})
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *targets], cwd=ROOT
        )
        cases = ET.parse(report).getroot().iter("testcase")
        outcome = {}
        for case in cases:
            name = f"{case.get('classname').replace('.', '/')}.py::{case.get('name')}"
            failed = case.find("failure") is not None or case.find("error") is not None
            outcome[name] = (
                "failed" if failed else "skipped" if case.find("skipped") is not None else "passed",
                float(case.get("time", 0)),
            )
    lines = ["| point | test | result | seconds |", "|---|---|---|---|"]
    for point, tests in POINTS:
        for target in tests:
            if "::" in target:  # one test (all its parameters)
                matched = {n: r for n, r in outcome.items() if n == target or n.startswith(target + "[")}
            else:  # a whole file
                matched = {n: r for n, r in outcome.items() if n.startswith(target + "::")}
            passed = sum(1 for r, _ in matched.values() if r == "passed")
            seconds = sum(t for _, t in matched.values())
            result = f"{passed}/{len(matched)} passed" if matched else "not run"
            lines.append(f"| {point} | `{target}` | {result} | {seconds:.1f} |")
    doc = ROOT / "docs" / "reliability.md"
    text = doc.read_text()
    marker = "## The tests, and their results from a real run"
    head = text.split(marker)[0]
    intro = (
        "Run with `make test` (everything) or `python -m bench.reliability` (these tests, and this table).\n"
        "Results below are from one real run on this project's machine (2 cores, Python 3.11, real Redis 7,\n"
        "SecantusDB 0.7.0b3; real worker, API, Redis and SecantusDB processes where a test says so).\n"
    )
    doc.write_text(head + marker + "\n\n" + intro + "\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r == "passed" for r, _ in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
