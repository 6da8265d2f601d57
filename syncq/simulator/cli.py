"""`syncq simulate [--port P] [--latency service=ms ...] [--fault service=mode ...]`."""

from __future__ import annotations

import argparse
import signal
import sys


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        if "=" not in value:
            raise SystemExit(f"syncq simulate: --{what} takes service=value, got {value!r}")
        pairs.append(tuple(value.split("=", 1)))
    return pairs


def cmd_simulate(args: argparse.Namespace) -> int:
    from syncq.simulator import Simulator

    sim = Simulator(args.host, args.port)
    for service, ms in _pairs(args.latency, "latency"):
        sim.set_latency(service, float(ms))
    for service, mode in _pairs(args.fault, "fault"):
        sim.set_fault(service, mode)
    sim.start()
    print(f"# syncq platform simulator at {sim.url} (controls: {sim.url}/_sim/state)")
    for name, value in sim.env().items():
        print(f"export {name}={value}")
    sys.stdout.flush()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            signal.pause() if hasattr(signal, "pause") else sim.thread.join(1)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def build(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("simulate", help="serve simulated Codeforces, LeetCode, CodeChef, AtCoder and RAIDA")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--latency", action="append", help="service=ms (repeatable)")
    p.add_argument("--fault", action="append", help="service=mode (repeatable)")
    p.set_defaults(func=cmd_simulate)
    return p


def add_commands(sub) -> None:
    """Add `syncq simulate` to the CLI."""
    build(sub)


def run_from_argv(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="syncq")
    sub = parser.add_subparsers(dest="command", required=True)
    build(sub)
    args = parser.parse_args(["simulate", *(argv or [])])
    return cmd_simulate(args)
