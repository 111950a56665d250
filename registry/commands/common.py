"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse

from registry.home import DEFAULT_HOME


def add_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", default=None, metavar="HOME",
                        help=f"registry home folder (default: $REGISTRY_HOME or ./{DEFAULT_HOME})")
