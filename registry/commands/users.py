"""`registry users add | list | passwd | remove`: officers' and administrators' accounts for the review pages."""

from __future__ import annotations

import argparse
import getpass
import sys

from registry.commands.common import add_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = sub.add_parser("add", help="an account; the password is read from standard input when it is not a terminal")
    add_home(p)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=("officer", "admin"))
    p = sub.add_parser("list", help="accounts: name, role, created, removed")
    add_home(p)
    p = sub.add_parser("passwd", help="set a new password (standard input when it is not a terminal)")
    add_home(p)
    p.add_argument("name", metavar="NAME")
    p = sub.add_parser("remove", help="disable an account; its sessions end at once")
    add_home(p)
    p.add_argument("name", metavar="NAME")


def read_password() -> str:
    """From standard input when it is not a terminal (first line), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from registry.access import AccessError
    from registry.access import users
    from registry.home import Home

    home = Home.at(args.home).ensure()
    try:
        if args.users_command == "add":
            user = users.add_user(home, args.name, args.role, read_password())
            print(f"user {user.name} ({user.role}) added")
        elif args.users_command == "passwd":
            users.set_password(home, args.name, read_password())
            print(f"password of {args.name} changed; their sessions have ended")
        elif args.users_command == "remove":
            users.remove_user(home, args.name)
            print(f"user {args.name} removed; their sessions have ended")
        else:
            rows = users.list_users(home)
            if not rows:
                print("no accounts: `registry users add NAME --role officer` makes one")
            for u in rows:
                print(f"{u.name:<20} {u.role:<8} created {u.created_at}"
                      + (f"  removed {u.disabled_at}" if u.disabled_at else ""))
    except (AccessError, ValueError) as exc:
        print(f"registry users: {exc}", file=sys.stderr)
        return 2
    return 0
