"""`registry evaluate [--home HOME] --truth FILE`: linkage accuracy of the published registry."""

from __future__ import annotations

import argparse
import sys

from registry.commands.common import add_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--truth", required=True, metavar="FILE",
                        help="ground truth CSV (department, source_record_id, person_id) from `registry generate`")


def run(args: argparse.Namespace) -> int:
    from registry.evaluate import evaluate_home, format_json, format_text

    try:
        result = evaluate_home(args.home, args.truth)
    except (FileNotFoundError, ValueError) as exc:
        print(f"registry evaluate: {exc}", file=sys.stderr)
        return 2
    print(format_text(result))
    print(format_json(result))
    return 0
