"""`syncq flower`: Flower on syncq's Celery app, never without basic auth.

The credentials reach Flower through its own environment variable `FLOWER_BASIC_AUTH`, never
its command line: a process's arguments are readable by every user of the host (`ps`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from core.settings import get_settings
from syncq.stackargv import celery_argv


def basic_auth() -> str:
    """`user:password` from FLOWER_USER / FLOWER_PASSWORD; SystemExit saying what is wrong."""
    settings = get_settings()
    if not settings.flower_user or not settings.flower_password:
        raise SystemExit("syncq flower: set FLOWER_USER and FLOWER_PASSWORD; Flower is never served without basic auth")
    if ":" in settings.flower_user or "," in settings.flower_user:
        raise SystemExit("syncq flower: FLOWER_USER must not contain ':' or ','")
    if "," in settings.flower_password:  # Flower splits its basic-auth list on commas
        raise SystemExit("syncq flower: FLOWER_PASSWORD must not contain ','")
    return f"{settings.flower_user}:{settings.flower_password}"


def flower_argv(port: int, address: str) -> list[str]:
    """The command that runs Flower (its basic auth comes from `flower_env`, not from here)."""
    basic_auth()  # refuse to build a command that would serve Flower without it
    return celery_argv("flower", f"--port={port}", f"--address={address}", "--persistent=False")


def flower_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with Flower's basic auth in `FLOWER_BASIC_AUTH`, which Flower reads at start."""
    return {**environ, "FLOWER_BASIC_AUTH": basic_auth()}


def cmd_flower(args: argparse.Namespace) -> int:
    argv = flower_argv(args.port, args.address)
    os.execvpe(argv[0], argv, flower_env(os.environ))
    return 0  # not reached


def add_commands(sub) -> None:
    """Add `syncq flower` to the CLI."""
    flower = sub.add_parser("flower", help="run Flower (basic auth from FLOWER_USER/FLOWER_PASSWORD)")
    flower.add_argument("--port", type=int, default=5555)
    flower.add_argument("--address", default="0.0.0.0")
    flower.set_defaults(func=cmd_flower)
