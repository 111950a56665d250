"""`registry quality [--home HOME] [--json]`: the latest night's linkage health and, once audit items are
decided, the estimated pairwise precision and recall with 95% intervals."""

from __future__ import annotations

import argparse
import json
import sys

from registry.commands.common import add_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    from registry.health.report import format_text, quality
    from registry.home import Home
    from registry.review import ReviewError

    try:
        result = quality(Home.at(args.home))
    except (ReviewError, FileNotFoundError, ValueError) as exc:
        print(f"registry quality: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, default=str) if args.json else format_text(result))
    return 0
