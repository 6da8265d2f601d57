"""The `syncq` command: accounts, tokens, and (in submodules) the simulator and launcher."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Sequence

from core.settings import ConfigError, get_settings

MAX_TOKEN_SECONDS = 86400  # SYNCQ_JWT_EXPIRES's bound too


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise SystemExit("syncq: the passwords differ")
    if len(password) < 8:
        raise SystemExit("syncq: a password needs at least 8 characters")
    return password


def cmd_users_create(args: argparse.Namespace) -> int:
    import store.users as users

    role = "admin" if args.admin else "user"
    password = _read_password(args)
    try:
        users.create(args.name, password, role)
    except users.UserExists:
        if not args.update:
            print(f"syncq: user {args.name} exists (use --update to set its password)", file=sys.stderr)
            return 1
        users.set_password(args.name, password)
        if args.admin:
            users.set_role(args.name, "admin")
        role = (users.get(args.name) or {}).get("role", role)  # without --admin, the role it had
    print(f"user {args.name} ready ({role})")
    return 0


def cmd_users_role(args: argparse.Namespace) -> int:
    import store.users as users

    if not users.set_role(args.name, args.role):
        print(f"syncq: no user {args.name}", file=sys.stderr)
        return 1
    print(f"user {args.name} now has role {args.role} (the tokens issued before no longer work)")
    return 0


def cmd_users_delete(args: argparse.Namespace) -> int:
    import store.users as users

    if not users.delete(args.name):
        print(f"syncq: no user {args.name}", file=sys.stderr)
        return 1
    print(f"user {args.name} deleted")
    return 0


def make_token(sub: str, role: str, expires: int | None = None, version: int = 0) -> str:
    """A JWT for `sub` with claim `role`, signed with SYNCQ_JWT_SECRET like the API's; it lives
    `expires` seconds (a positive number, at most a day), or SYNCQ_JWT_EXPIRES when None; `version`
    is the user's token version (a token of an older one is refused)."""
    from datetime import timedelta

    if expires is not None and expires <= 0:
        # flask-jwt-extended reads a zero lifetime as "never expires".
        raise ValueError(f"a token's lifetime must be a positive number of seconds, not {expires}")

    if expires is not None and expires > MAX_TOKEN_SECONDS:
        raise ValueError(f"a token lives at most {MAX_TOKEN_SECONDS} seconds (a day), not {expires}")

    from api import create_app
    from api.auth import issue_token

    app = create_app()
    with app.app_context():
        lifetime = None if expires is None else timedelta(seconds=expires)
        return issue_token(sub, role, version=version, expires=lifetime)


def cmd_token(args: argparse.Namespace) -> int:
    import store.users as users

    user = None if args.no_check else users.get(args.sub)
    if not args.no_check and user is None:
        print(
            f"syncq: no user {args.sub}; the API rejects tokens of unknown users "
            f"(create it: syncq users create {args.sub} --admin)",
            file=sys.stderr,
        )
        return 1
    print(make_token(args.sub, args.role, args.expires, users.token_version(user) if user else 0))
    return 0


def _positive_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {value}")
    if value > MAX_TOKEN_SECONDS:
        raise argparse.ArgumentTypeError(f"a token lives at most {MAX_TOKEN_SECONDS} seconds (a day), not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every `syncq` subcommand."""
    parser = argparse.ArgumentParser(prog="syncq", description="syncq: sync workers for outside data")
    sub = parser.add_subparsers(dest="command", required=True)

    users_p = sub.add_parser("users", help="manage API accounts")
    users_sub = users_p.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create an account")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true", help="give it role admin")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument(
        "--update",
        action="store_true",
        help="set the password if the user exists (its role is kept, or made admin with --admin)",
    )
    create.set_defaults(func=cmd_users_create)
    role = users_sub.add_parser("role", help="change an account's role (its tokens follow at once)")
    role.add_argument("name")
    role.add_argument("role", choices=("admin", "user"))
    role.set_defaults(func=cmd_users_role)
    delete = users_sub.add_parser("delete", help="delete an account (its tokens stop working)")
    delete.add_argument("name")
    delete.set_defaults(func=cmd_users_delete)

    token = sub.add_parser("token", help="print a signed access token (operators)")
    token.add_argument("--sub", required=True, help="the user name the token is for")
    token.add_argument("--role", default="admin", choices=["admin", "user"])
    token.add_argument(
        "--expires",
        type=_positive_seconds,
        default=None,
        help="lifetime in seconds, more than 0 (default SYNCQ_JWT_EXPIRES)",
    )
    token.add_argument("--no-check", action="store_true", help="do not check that the user exists")
    token.set_defaults(func=cmd_token)

    for extension in _EXTENSIONS:
        extension(sub)
    return parser


# Subcommands defined in other modules add themselves here (simulate, standalone, sync, jobs).
_EXTENSIONS: list = []


def _load_extensions() -> None:
    import importlib

    for name in ("syncq.flower", "syncq.cli_client", "syncq.simulator.cli", "syncq.standalone"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only a missing optional module is skipped; a broken import inside one is not.
            if not exc.name or not name.startswith(exc.name):
                raise
            continue
        if hasattr(module, "add_commands") and module.add_commands not in _EXTENSIONS:
            _EXTENSIONS.append(module.add_commands)


def _redacted(uri: str) -> str:
    # A URI's password must not reach a terminal or a CI log.
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", uri)


def store_error_line(exc: Exception, uri: str, unreachable: bool) -> str:
    """One line for a MongoDB error: where, why (without pymongo's topology dump), what to set."""
    reason = re.split(r" \(configured timeouts|, Timeout: |, Topology Description|, full error: ", str(exc))[0]
    reason = " ".join(reason.split()) or type(exc).__name__
    if unreachable:
        return (
            f"MongoDB is unreachable at {_redacted(uri)}: {reason}; "
            "set SYNCQ_MONGODB_URI (syncq standalone --status prints it)"
        )
    return f"MongoDB at {_redacted(uri)} failed: {reason}; check SYNCQ_MONGODB_URI"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `syncq` console script."""
    _load_extensions()
    args = build_parser().parse_args(argv)
    import store  # its errors: a command that reads accounts says in one line why MongoDB failed

    try:
        get_settings()
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"syncq: {exc}", file=sys.stderr)
        return 2
    except store.PyMongoError as exc:
        unreachable = isinstance(exc, store.UNAVAILABLE)
        print(f"syncq: {store_error_line(exc, get_settings().mongodb_uri, unreachable)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
