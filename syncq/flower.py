"""`syncq flower`: Flower on syncq's Celery app, never without basic auth."""

from __future__ import annotations

import argparse
import os
import sys

from core.settings import get_settings


def flower_argv(port: int, address: str) -> list[str]:
    """The command that runs Flower with basic auth from FLOWER_USER / FLOWER_PASSWORD."""
    settings = get_settings()
    if not settings.flower_user or not settings.flower_password:
        raise SystemExit("syncq flower: set FLOWER_USER and FLOWER_PASSWORD; Flower is never served without basic auth")
    if ":" in settings.flower_user or "," in settings.flower_user:
        raise SystemExit("syncq flower: FLOWER_USER must not contain ':' or ','")
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "flower",
        f"--port={port}",
        f"--address={address}",
        f"--basic-auth={settings.flower_user}:{settings.flower_password}",
        "--persistent=False",
    ]


def cmd_flower(args: argparse.Namespace) -> int:
    argv = flower_argv(args.port, args.address)
    os.execvp(argv[0], argv)
    return 0  # not reached


def add_commands(sub) -> None:
    """Add `syncq flower` to the CLI."""
    flower = sub.add_parser("flower", help="run Flower (basic auth from FLOWER_USER/FLOWER_PASSWORD)")
    flower.add_argument("--port", type=int, default=5555)
    flower.add_argument("--address", default="0.0.0.0")
    flower.set_defaults(func=cmd_flower)
