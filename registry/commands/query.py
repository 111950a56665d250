"""`registry query SQL`: read the published registry from a terminal, without a DuckDB command-line
client (none is installed, and the one on PyPI cannot open DuckDB 2.0 files)."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from registry.commands.common import add_home, terminal_safe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("sql", metavar="SQL", help="one query over the published tables, e.g. "
                                                  "\"SELECT * FROM crosswalk WHERE department = 'labour' LIMIT 5\"")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV with a header line instead of a table")
    out.add_argument("--json", action="store_true", help="one JSON object per row instead of a table")
    parser.add_argument("--max-rows", type=int, default=40, metavar="N", help="rows shown in a table (default 40)")


def run(args: argparse.Namespace) -> int:
    import duckdb

    from registry.home import Home

    home = Home.at(args.home)
    if not home.published_db.exists():
        print(f"registry query: nothing is published at {home.published_db}", file=sys.stderr)
        return 1
    # Read-only, and no file but the registry: a query cannot write, nor read or write other files.
    con = duckdb.connect(str(home.published_db), read_only=True, config={"enable_external_access": False})
    try:
        if args.csv or args.json:
            cursor = con.execute(args.sql)
            if cursor.description is None:
                print("registry query: not a query (nothing to show)", file=sys.stderr)
                return 1
            columns = [c[0] for c in cursor.description]
            writer = csv.writer(sys.stdout, lineterminator="\n") if args.csv else None
            if writer:
                writer.writerow(columns)
            while rows := cursor.fetchmany(10_000):
                for row in rows:
                    if writer:
                        writer.writerow(row)
                    else:
                        print(json.dumps(dict(zip(columns, row)), ensure_ascii=False, default=str))
        else:
            relation = con.sql(args.sql)
            if relation is None:
                print("registry query: not a query (nothing to show)", file=sys.stderr)
                return 1
            sys.stdout.write(terminal_safe(str(relation.limit(args.max_rows)).rstrip("\n") + "\n"))
    except duckdb.Error as exc:
        print(f"registry query: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0
