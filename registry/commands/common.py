"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse
import re

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


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Text for a terminal: control characters in the data (BEL, ESC, C1) shown as \\xNN escapes, never
    sent raw; newlines and tabs stay."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
