"""The `registry` command. One module per sub-command lives in registry/commands/."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# sub-command -> module in registry.commands; each module has add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "generate": "Write one night of the four departments' deliveries, with ground truth beside them.",
    "run": "Run the nightly merge for one extract date and publish the registry.",
    "rollback": "Take back the latest published night: the registry and working state before it return.",
    "evaluate": "Score the published crosswalk against ground truth.",
    "query": "Read the published registry: one SQL query, shown as a table, CSV or JSON lines.",
    "review": "The quality officers' review queue: list, show, decide, link, sample.",
    "quality": "The latest night's linkage health and the audit sample's precision and recall estimates.",
    "serve": "Serve the review pages and the department API.",
    "access": "Departments' credentials for the department API: grant, list, rotate, revoke.",
    "users": "Officers' and administrators' accounts: add, list, passwd, remove.",
    "audit": "Who read what: one row per read of personal data.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="registry", description="Resident Registry")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"registry.commands.{name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    return _dispatch(build_parser().parse_args(argv))


def console() -> None:
    """The `registry` command (the entry point; tests call main()). A command whose module says
    `ENDS_WITHOUT_TEARDOWN` ends the process once its output is flushed: after a nightly run Python's
    teardown of the heap the run leaves (Dagster, Great Expectations, Splink) costs seconds at exit,
    every night, with nothing left to do."""
    # What the registry writes holds personal data: its own user's alone unless a module says otherwise.
    os.umask(0o077)
    args = build_parser().parse_args()
    code = _dispatch(args)
    if getattr(args._module, "ENDS_WITHOUT_TEARDOWN", False):
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed (a broken pipe)
                pass
        os._exit(code)
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    console()
