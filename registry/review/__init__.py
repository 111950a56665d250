"""Quality officers' review: the nightly queue, their decisions, and the pages and commands they use.

- queue.build_review_queue: builds `review_queue` in the run database; one module per kind of item in
  items/, their inputs in inputs.py, the incremental scope in affected.py.
- decisions.record_decision / read_decisions / load_decisions: HOME/review/decisions.jsonl.
- published: the published queue as officers see it (decisions since the last run applied).
- evidence.render_item: an item's evidence as text.
"""

from __future__ import annotations

from registry.review.items import BY_NAME, ITEM_KINDS

# The kinds of item (registry/review/items/, one module each), most urgent first.
KINDS: tuple[str, ...] = tuple(k.name for k in ITEM_KINDS)
DECISIONS: tuple[str, ...] = ("same", "different", "value", "dismiss")

# Which decisions make sense for which kind of item.
ALLOWED_DECISIONS: dict[str, tuple[str, ...]] = {k.name: k.decisions for k in ITEM_KINDS}

# Kinds whose subject holds a record pair (record_l, record_r): same/different become link constraints.
PAIR_KINDS: tuple[str, ...] = tuple(k.name for k in ITEM_KINDS if k.pair)

ITEM_PREFIX: dict[str, str] = {k.name: k.prefix for k in ITEM_KINDS}


class ReviewError(Exception):
    """A review request that cannot be carried out; the message says why, for the officer."""


class UnknownItem(ReviewError):
    """The published review queue holds no item with this id."""


def item_id_for(kind: str, subject_key: str) -> str:
    """Stable item id: the same kind and subject give the same id every night (ItemKind.item_id_sql)."""
    return BY_NAME[kind].item_id(subject_key)
