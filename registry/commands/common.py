"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse

from registry.home import DEFAULT_HOME


def add_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", default=None, metavar="HOME",
                        help=f"registry home folder (default: $REGISTRY_HOME or ./{DEFAULT_HOME})")


def iso_date(text: str) -> str:
    """An argparse type: a date written YYYY-MM-DD (returned as written, checked)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None
