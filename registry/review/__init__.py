"""Quality officers' review: the nightly queue, their decisions, and the pages and commands they use.

- queue.build_review_queue: builds `review_queue` in the run database; one module per kind of item in
  items/, their inputs in inputs.py, the incremental scope in affected.py.
- decisions.record_decision / read_decisions / load_decisions: HOME/review/decisions.jsonl.
- published: the published queue as officers see it (decisions since the last run applied).
- evidence.render_item: an item's evidence as text.
"""

from __future__ import annotations

from registry.errors import RegistryError
from registry.review.items import BY_NAME, ITEM_KINDS

# The kinds of item (registry/review/items/, one module each), most urgent first.
KINDS: tuple[str, ...] = tuple(k.name for k in ITEM_KINDS)
DECISIONS: tuple[str, ...] = ("same", "different", "value", "dismiss")

# Which decisions make sense for which kind of item.
ALLOWED_DECISIONS: dict[str, tuple[str, ...]] = {k.name: k.decisions for k in ITEM_KINDS}

# Kinds whose subject holds a record pair (record_l, record_r): same/different become link constraints.
PAIR_KINDS: tuple[str, ...] = tuple(k.name for k in ITEM_KINDS if k.pair)

ITEM_PREFIX: dict[str, str] = {k.name: k.prefix for k in ITEM_KINDS}


class ReviewError(RegistryError):
    """A review request that cannot be carried out; the message says why, in the officer's words (the
    command line and the web page name their own flags and fields: see `field`)."""

    field: str | None = None


class UnknownItem(ReviewError):
    """The published review queue holds no item with this id."""


class MissingDecisionField(ReviewError):
    """A decision lacks something it needs: `field` (decided_by, reason, value) and why it is needed."""

    LABELS = {"decided_by": "the officer deciding", "reason": "the reason", "value": "the value"}

    def __init__(self, field: str, why: str):
        super().__init__(f"{self.LABELS.get(field, field)} is required: {why}")
        self.field, self.why = field, why


class DecisionNotAllowed(ReviewError):
    """A decision that makes no sense for what is decided (`allowed` are those that do)."""

    def __init__(self, what: str, allowed: tuple[str, ...], decision: str):
        super().__init__(f"{what} takes {' / '.join(allowed)}, not {decision}")
        self.field, self.what, self.allowed, self.decision = "decision", what, allowed, decision


def item_id_for(kind: str, subject_key: str) -> str:
    """Stable item id: the same kind and subject give the same id every night (ItemKind.item_id_sql)."""
    return BY_NAME[kind].item_id(subject_key)
