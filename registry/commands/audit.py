"""`registry audit [--department D] [--resident R] [--since YYYY-MM-DD] [--json]`: who read what."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from registry.commands.common import add_home, iso_date


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--department", metavar="D", help="only reads by this department")
    parser.add_argument("--officer", metavar="NAME", help="only reads by this officer")
    parser.add_argument("--resident", metavar="RESIDENT_ID",
                        help="only reads of this resident (and whole-view exports, which hold every resident)")
    parser.add_argument("--since", type=iso_date, metavar="YYYY-MM-DD", help="from this date on (local time)")
    parser.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="before this date (local time)")
    parser.add_argument("--limit", type=int, help="at most this many rows")
    parser.add_argument("--json", action="store_true", help="one JSON object per read, one per line")
    parser.add_argument("--verify", action="store_true",
                        help="check that no line was edited, removed or reordered (the hash chain)")


def run(args: argparse.Namespace) -> int:
    from registry.access import audit
    from registry.home import Home

    home = Home.at(args.home)
    if args.verify:
        n, problem = audit.verify(home)
        if problem:
            print(f"registry audit: {problem} ({n} lines verified before it)", file=sys.stderr)
            return 1
        print(f"audit intact: {n} lines, each following the one before it")
        return 0
    rows = audit.query(home, department=args.department, resident=args.resident,
                       who=f"officer:{args.officer}" if args.officer else None,
                       since=args.since, until=args.until, limit=args.limit)
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print("no reads recorded" + (" that match" if any((args.department, args.resident, args.since, args.officer))
                                     else ""))
        return 0
    for r in rows:
        at = dt.datetime.fromisoformat(r["at"].replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        who = r["who"] + (f" ({r['credential']})" if r.get("credential") else "")
        ids = "every resident (export)" if r["scope"] == "export" else ", ".join((r["resident_ids"] or [])[:5]) + (
            f" … +{len(r['resident_ids']) - 5}" if r["resident_ids"] and len(r["resident_ids"]) > 5 else "")
        purpose = f"  purpose: {r['purpose']}" if r.get("purpose") else ""
        print(f"{at}  {who:<36} {r['endpoint']:<42} {r['status'] or '':>3}  {r['residents'] or 0:>6} resident(s) "
              f"{ids}{purpose}")
    print(f"{len(rows)} read(s)")
    return 0
