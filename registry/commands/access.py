"""`registry access grant | list | rotate | revoke`: departments' credentials for the department API."""

from __future__ import annotations

import argparse
import json
import sys

from registry.commands.common import add_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    p = sub.add_parser("grant", help="issue a credential for a department; printed once, alone on the last line")
    add_home(p)
    p.add_argument("department", metavar="DEPARTMENT")
    p.add_argument("--label", help="a name for it (default DEPARTMENT-N)")
    p = sub.add_parser("list", help="credentials: label, department, created, last used, revoked (never the secret)")
    add_home(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = sub.add_parser("rotate", help="a new secret under the same label; the old one stops working at once")
    add_home(p)
    p.add_argument("label", metavar="LABEL")
    p = sub.add_parser("revoke", help="the credential stops working at once")
    add_home(p)
    p.add_argument("label", metavar="LABEL")


def run(args: argparse.Namespace) -> int:
    from registry.access import AccessError
    from registry.home import Home

    home = Home.at(args.home).ensure()
    try:
        return {"grant": _grant, "list": _list, "rotate": _rotate, "revoke": _revoke}[args.access_command](home, args)
    except AccessError as exc:
        print(f"registry access: {exc}", file=sys.stderr)
        return 2


def _grant(home, args) -> int:
    from registry.access.credentials import grant

    cred, secret = grant(home, args.department, args.label)
    print(f"credential {cred.label} for {cred.department}; it is shown only now, keep it secret "
          "(send it as `Authorization: Bearer <credential>`):")
    print(secret)
    return 0


def _rotate(home, args) -> int:
    from registry.access.credentials import rotate

    cred, secret = rotate(home, args.label)
    print(f"credential {cred.label} for {cred.department} rotated: the previous secret no longer works; "
          "the new one is shown only now:")
    print(secret)
    return 0


def _revoke(home, args) -> int:
    from registry.access.credentials import revoke

    cred = revoke(home, args.label)
    print(f"credential {cred.label} for {cred.department} revoked at {cred.revoked_at}")
    return 0


def _list(home, args) -> int:
    from registry.access import audit
    from registry.access.credentials import list_credentials

    last_used: dict[str, str] = {}
    for row in audit.query(home):  # the audit knows when each credential was last used
        if row.get("credential"):
            last_used[row["credential"]] = row["at"]
    creds = list_credentials(home)
    rows = [{"label": c.label, "department": c.department, "created": c.created_at,
             "last_used": last_used.get(c.label) if c.active else None,
             "revoked": c.revoked_at, "revoked_why": c.revoked_why} for c in creds]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    if not rows:
        print("no credentials: `registry access grant DEPARTMENT` issues one")
        return 0
    print(f"{'label':<24} {'department':<16} {'created':<21} {'last used':<25} revoked")
    for r in rows:
        revoked = f"{r['revoked']} ({r['revoked_why']})" if r["revoked"] else "-"
        print(f"{r['label']:<24} {r['department']:<16} {r['created']:<21} {r['last_used'] or '-':<25} {revoked}")
    return 0
