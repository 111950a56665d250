"""`registry rollback`: take back the latest published night (registry.rollback)."""

from __future__ import annotations

import argparse
import sys

from registry.commands.common import add_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)


def run(args: argparse.Namespace) -> int:
    from registry.home import Home
    from registry.errors import RollbackRefused
    from registry.rollback import rollback

    home = Home.at(args.home)
    if not home.root.is_dir():
        print(f"registry rollback: no registry home at {home.root}", file=sys.stderr)
        return 1
    try:
        done = rollback(home)
    except RollbackRefused as exc:
        print(f"registry rollback: refused, nothing changed: {exc}", file=sys.stderr)
        return 1
    print(f"Took back the night of {done.extract_date} (run {done.run_id}).\n"
          f"  published again: the registry of {done.restored_date} (run {done.restored_run_id}), "
          f"with its working state\n"
          f"  resident_ids that night issued, never to be issued again: {done.withdrawn}\n"
          f"  officers' decisions: untouched ({home.decisions})\n"
          f"  to merge {done.extract_date} again: registry run --home {home.root} --date {done.extract_date}")
    return 0
