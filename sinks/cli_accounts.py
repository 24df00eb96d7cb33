"""``python -m sinks accounts``: manage the officer accounts of the dashboard.

::

    python -m sinks accounts add USER --role officer [--name NAME] [--password-stdin]
    python -m sinks accounts passwd USER [--password-stdin]
    python -m sinks accounts role USER officer|admin
    python -m sinks accounts remove USER
    python -m sinks accounts list

Every subcommand takes ``--file PATH`` (default ``$SINKS_ACCOUNTS``, else
``~/.config/jiangbei-sinks/accounts.json``; see :mod:`sinks.accounts`). Passwords are asked twice
with ``getpass`` unless ``--password-stdin`` is given, which reads one line from standard input
(for scripts: ``printf '%s\\n' "$PW" | python -m sinks accounts add ...``). Handlers let
``DataError`` propagate: ``sinks.cli.main`` prints file, problem and fix and exits 1.

Register with ``add_parsers(sub)`` on the ``add_subparsers`` object of ``sinks.cli``.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sinks.accounts import ROLES, AccountStore, normalize_username


def _store(args) -> AccountStore:
    return AccountStore(args.file)


def _read_password(args, username: str) -> str | None:
    """The new password, or ``None`` (message printed) when the two prompts differ."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"New password for {username}: ")
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        print("error: the two passwords differ; nothing was changed", file=sys.stderr)
        return None
    return first


def _cmd_add(args) -> int:
    store = _store(args)
    password = _read_password(args, args.username)
    if password is None:
        return 1
    a = store.add(args.username, password, role=args.role, display_name=args.name)
    print(f"added {a.username} ({a.role}, {a.display_name}) to {store.path}")
    return 0


def _cmd_passwd(args) -> int:
    store = _store(args)
    store.require(args.username)  # an unknown user fails before the password is asked
    password = _read_password(args, args.username)
    if password is None:
        return 1
    a = store.set_password(args.username, password)
    print(f"changed the password of {a.username} in {store.path} (their open sessions end)")
    return 0


def _cmd_role(args) -> int:
    store = _store(args)
    a = store.set_role(args.username, args.role)
    print(f"{a.username} is now {a.role} in {store.path} (their open sessions end)")
    return 0


def _cmd_remove(args) -> int:
    store = _store(args)
    store.remove(args.username)
    print(f"removed {normalize_username(args.username)} from {store.path}")
    return 0


def _cmd_list(args) -> int:
    store = _store(args)
    accounts = store.list()
    if not accounts:
        state = "is empty" if store.exists() else "does not exist yet"
        print(f"{store.path} {state}; add a user with `python -m sinks accounts add USERNAME --role officer`")
        return 0
    rows = [("username", "role", "display name", "created (UTC)", "updated (UTC)")]
    rows += [(a.username, a.role, a.display_name, a.created_utc, a.updated_utc) for a in accounts]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print(f"{len(accounts)} account(s) in {store.path}")
    return 0


def add_parsers(sub) -> None:
    """Add ``accounts`` (with add, passwd, role, remove, list) to ``python -m sinks``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--file", type=Path, default=None,
                        help="credentials file (default: $SINKS_ACCOUNTS, else ~/.config/jiangbei-sinks/accounts.json)")
    acc = sub.add_parser("accounts", help="manage the officer accounts that may edit wetland red lines in the dashboard")
    asub = acc.add_subparsers(dest="accounts_command", required=True)

    a = asub.add_parser("add", parents=[common], help="create an account (asks for the password twice)")
    a.add_argument("username", help="3-32 letters, digits, '.', '_' or '-' (case-insensitive)")
    a.add_argument("--role", choices=ROLES, default="officer", help="officer (edit red lines) or admin (default: officer)")
    a.add_argument("--name", help="display name shown in the dashboard (default: the username)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from one line of standard input")
    a.set_defaults(func=_cmd_add)

    p = asub.add_parser("passwd", parents=[common], help="set a new password (ends the user's open sessions)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of standard input")
    p.set_defaults(func=_cmd_passwd)

    ro = asub.add_parser("role", parents=[common], help="change a user's role (the last admin stays admin)")
    ro.add_argument("username")
    ro.add_argument("role", choices=ROLES)
    ro.set_defaults(func=_cmd_role)

    r = asub.add_parser("remove", parents=[common], help="delete an account (not the last admin)")
    r.add_argument("username")
    r.set_defaults(func=_cmd_remove)

    ls = asub.add_parser("list", parents=[common], help="list the accounts (never the password hashes)")
    ls.set_defaults(func=_cmd_list)
