"""`registry generate`: one night of the four departments' deliveries, with ground truth beside them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from registry.commands.common import add_home, iso_date
from registry.home import Home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, required=True, metavar="N",
                        help="people registered with public security (ignored with --previous: the population carries over)")
    parser.add_argument("--date", type=iso_date, required=True, metavar="YYYY-MM-DD", help="extract date of the night")
    parser.add_argument("--out", default=None, metavar="LANDING", help="landing zone (default: HOME/landing)")
    add_home(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files")
    parser.add_argument("--truth", default=None, metavar="FILE",
                        help="ground truth CSV (default: LANDING's parent/truth/<date>.csv; never inside LANDING)")
    parser.add_argument("--previous", default=None, metavar="LANDING/DATE",
                        help="an earlier night written by this command: write the night that follows it")


def run(args: argparse.Namespace) -> int:
    from registry.generate import generate_night

    landing = Path(args.out) if args.out else Home.at(args.home).landing
    if args.people <= 0:
        print("registry generate: --people must be positive", file=sys.stderr)
        return 2
    try:
        s = generate_night(landing, args.date, args.people, args.seed, args.truth, args.previous)
    except (ValueError, FileNotFoundError) as e:
        print(f"registry generate: {e}", file=sys.stderr)
        return 2
    print(f"wrote {s.extract_date} to {s.landing / s.extract_date}")
    for d, rows in s.rows.items():
        print(f"  {d:16} {rows:>9} rows  {s.files[d].name}{'' if s.manifests[d] else '  (no manifest)'}")
    if s.changes:
        print("  changes: " + ", ".join(f"{k} {v}" for k, v in s.changes.items()))
    print(f"truth: {s.truth_path}")
    return 0


if __name__ == "__main__":      # python -m registry.commands.generate ... (without the other sub-commands)
    _parser = argparse.ArgumentParser(prog="registry generate")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
