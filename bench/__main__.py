"""`python -m bench` (`make bench`): run every case and write docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import traceback
from importlib.metadata import version
from pathlib import Path

from bench import cases, reads, students
from bench.http import throughput
from bench.overhead import task_overhead
from bench.stack import ROOT, Stack

# The job-overhead cases go first, on a store not yet holding the data-heavy cases' documents:
# SecantusDB's CPU per call grows several-fold once it does (docs/benchmarks-notes.md).
CASES = [
    task_overhead,
    throughput,
    cases.sync_all,
    cases.seed_default_sync_all,
    cases.student,
    cases.raida,
    cases.unchanged_contests,
    cases.bulk_vs_single,
    cases.heavy_student,
    cases.rate_limited_fan_out,
    *students.CASES,
    *reads.CASES,
]


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def write(rows: list[dict], seconds: float, done: bool, out: Path | None = None) -> str:
    """docs/benchmarks.md (or `out`) from the rows so far (written after every case, so a stopped
    run keeps them)."""
    redis_version = (
        subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
        .stdout.split()[2]
        .removeprefix("v=")
    )
    lines = [
        "# Benchmarks",
        "",
        "Every figure is a ratio measured within one run (median of 5 repetitions), so it holds on a noisy",
        "machine. Each case runs against the platform simulator with injected latency, on the real worker",
        "path (API under gunicorn -> Redis -> a prefork Celery worker -> the store).",
        "",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        f"- store: SecantusDB {version('secantusdb')} (MongoDB wire protocol, own process); Redis {redis_version}",
        f"- reproduce: `make bench` (this run took {seconds:.0f} s{'' if done else '; it was stopped before the end'})",
        "",
        "| case | figure | value | goal | met | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['figure']} | {fmt(r['value'])} | {r['goal']} | "
            f"{'yes' if r['met'] else '**no**'} | {r['note']} |"
        )
    missed = [r for r in rows if not r["met"]]
    if missed:
        lines += [
            "",
            "## Why the goals marked **no** are missed",
            "",
            "Written by the run from its own measurements (the rows above).",
            "",
        ]
        lines += [
            f"- **{r['case']}** ({r['figure']}: {fmt(r['value'])}, goal {r['goal']}): "
            f"{r.get('why') or 'no explanation measured in this run.'}"
            for r in missed
        ]
    out = out or ROOT / "docs" / "benchmarks.md"
    if (ROOT / "docs" / "benchmarks-notes.md").exists():
        lines += [
            "",
            "How each cause was found (profiles, experiments, what was fixed on the way): `docs/benchmarks-notes.md`.",
        ]
    out.write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> int:
    only = set(sys.argv[1:])
    # Some cases only: their table goes beside the full run's, which it would otherwise replace.
    out = ROOT / "docs" / "benchmarks-subset.md" if only else None
    started = time.monotonic()
    stack = Stack()
    rows: list[dict] = []
    try:
        stack.start_worker()
        for case in CASES:
            if only and case.__name__ not in only:
                continue
            print(f"bench: {case.__name__} ...", flush=True)
            case_started = time.monotonic()
            try:
                stack.purge()
                rows += case(stack)
            except Exception as exc:  # one broken case must not hide the others' figures
                traceback.print_exc()
                rows.append(cases.row(case.__name__, "error", 0.0, "-", False, f"{type(exc).__name__}: {exc}"))
            print(f"bench: {case.__name__} took {time.monotonic() - case_started:.0f} s", flush=True)
            write(rows, time.monotonic() - started, done=False, out=out)
    finally:
        stack.close()
    print(write(rows, time.monotonic() - started, done=True, out=out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
