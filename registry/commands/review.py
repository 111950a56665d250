"""`registry review list | show | decide | link`: the quality officers' queue in a terminal."""

from __future__ import annotations

import argparse
import json
import sys

from registry.commands.common import add_home, terminal_safe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="review_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", help="the open review items, most urgent first")
    add_home(p)
    p.add_argument("--kind", help="only this kind (uncertain_link, overruled_link, conflict, birth_date_conflict, "
                                  "identity_conflict, orphan, weak_cluster, audit_sample)")
    p.add_argument("--street", help="only items of residents living in this street (街道)")
    p.add_argument("--community", help="only items of residents living in this community (社区)")
    p.add_argument("--all", action="store_true", help="decided items too")
    p.add_argument("--limit", type=int, help="at most this many items")
    p.add_argument("--json", action="store_true", help="a JSON array instead of a table")

    p = sub.add_parser("show", help="one item with its evidence")
    add_home(p)
    p.add_argument("item_id", metavar="ITEM_ID")
    p.add_argument("--json", action="store_true", help="the item as JSON")

    p = sub.add_parser("decide", help="decide a queued item")
    add_home(p)
    p.add_argument("item_id", metavar="ITEM_ID")
    _add_decision(p, with_value=True)

    p = sub.add_parser("link", help="decide whether two records (department:source_record_id) are one person")
    add_home(p)
    p.add_argument("records", nargs=2, metavar="RECORD")
    _add_decision(p, with_value=False)

    p = sub.add_parser("sample", help="add a random audit sample of scored record pairs to the queue (audit_sample)")
    add_home(p)
    p.add_argument("--size", type=int, required=True, metavar="N", help="how many pairs to draw")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="random seed (default: a fresh one, recorded)")
    p.add_argument("--json", action="store_true", help="what was drawn, as JSON")


def _add_decision(p: argparse.ArgumentParser, *, with_value: bool) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--same", dest="decision", action="store_const", const="same", help="one and the same person")
    g.add_argument("--different", dest="decision", action="store_const", const="different", help="different people")
    if with_value:
        g.add_argument("--value", metavar="VALUE", help="the value the golden record should hold (conflict items)")
        g.add_argument("--dismiss", dest="decision", action="store_const", const="dismiss", help="nothing to do")
    # Checked by the decisions module (not argparse) so that empty values get the same clear message.
    p.add_argument("--by", metavar="NAME", help="who decides (required)")
    p.add_argument("--reason", metavar="TEXT", help="why (required; kept with the decision)")


def run(args: argparse.Namespace) -> int:
    from registry.home import Home
    from registry.review import ReviewError

    home = Home.at(args.home)
    try:
        if args.review_command in ("list", "show"):
            from registry.review.published import decision_file_problems

            for problem in decision_file_problems(home):
                print(f"registry review: warning: {problem}", file=sys.stderr)
        return {"list": _list, "show": _show, "decide": _decide, "link": _link,
                "sample": _sample}[args.review_command](home, args)
    except ReviewError as e:
        print(f"registry review: {cli_message(e)}", file=sys.stderr)
        return 2


# The library's decision fields as this command's flags.
FLAGS = {"decided_by": "--by NAME", "reason": "--reason TEXT", "value": "--value VALUE"}


def cli_message(e) -> str:
    """A review error in this command's words: its flags for the library's fields."""
    from registry.review import DecisionNotAllowed, MissingDecisionField

    if isinstance(e, MissingDecisionField):
        return f"{FLAGS.get(e.field, e.field)} is required: {e.why}"
    if isinstance(e, DecisionNotAllowed):
        return f"{e.what} takes {' / '.join('--' + d for d in e.allowed)}, not --{e.decision}"
    return str(e)


def _list(home, args) -> int:
    from registry.review import published

    items = published.list_items(home, kind=args.kind, street=args.street, community=args.community,
                                 status=None if args.all else "open", limit=args.limit)
    if args.json:
        print(items.to_json(orient="records", force_ascii=False, date_format="iso"))
        return 0
    if items.empty:
        print("no open review items" if not args.all else "no review items")
        return 0
    for row in items.itertuples(index=False):  # a page of items for a terminal, not a data path
        place = "/".join(x for x in (row.street, row.community) if isinstance(x, str)) or "—"
        print(terminal_safe(f"{row.item_id}  {row.kind:<17} p{row.priority}  {row.status:<7}  {place}  {row.summary}"))
    print(f"{len(items)} item(s)")
    return 0


def _show(home, args) -> int:
    from registry.review import evidence, published

    item = published.get_item(home, args.item_id)
    if args.json:
        print(json.dumps(item, ensure_ascii=False, default=str, indent=2))
    else:
        sys.stdout.write(terminal_safe(evidence.render_item(item)))
    return 0


def _decide(home, args) -> int:
    from registry.review.decisions import record_decision

    decision = "value" if args.value is not None else args.decision
    row = record_decision(home, item_id=args.item_id, decision=decision, value=args.value,
                          decided_by=args.by, reason=args.reason)
    print(f"decided {args.item_id}: {_describe(row)} by {row['decided_by']} (decision {row['decision_id']}); "
          "it applies from the next run")
    return 0


def _link(home, args) -> int:
    from registry.review.decisions import record_decision

    row = record_decision(home, decision=args.decision, record_l=args.records[0], record_r=args.records[1],
                          decided_by=args.by, reason=args.reason)
    print(f"linked {row['record_l']} and {row['record_r']}: {row['decision']} by {row['decided_by']} "
          f"(decision {row['decision_id']}); it applies from the next run")
    return 0


def _describe(row: dict) -> str:
    return f"value {row['attribute']} = {row['value']}" if row["decision"] == "value" else row["decision"]


def _sample(home, args) -> int:
    from registry.accuracy.sampling import draw_sample

    result = draw_sample(home, args.size, args.seed)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"drew {result.drawn} pairs of {result.extract_date} (run {result.run_id}) into the review queue as "
          f"audit_sample items: {result.sample_size} in this night's sample, from {result.frame_pairs:,} pairs "
          f"in {result.strata} strata (seed {result.seed})")
    print("decide them with `registry review decide ITEM --same|--different`; `registry quality` estimates "
          "precision and recall from them")
    return 0
