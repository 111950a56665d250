"""Quality officers' review: the nightly queue, their decisions, and the pages and commands they use.

- queue.build_review_queue: builds `review_queue` in the run database.
- decisions.record_decision / read_decisions / load_decisions: HOME/review/decisions.jsonl.
- published: the published queue as officers see it (decisions since the last run applied).
- evidence.render_item: an item's evidence as text.
"""

from __future__ import annotations

KINDS: tuple[str, ...] = ("identity_conflict", "weak_cluster", "conflict", "uncertain_link", "orphan")
DECISIONS: tuple[str, ...] = ("same", "different", "value", "dismiss")

# Which decisions make sense for which kind of item.
ALLOWED_DECISIONS: dict[str, tuple[str, ...]] = {
    "uncertain_link": ("same", "different", "dismiss"),
    "weak_cluster": ("same", "different", "dismiss"),
    "identity_conflict": ("same", "different", "dismiss"),
    "conflict": ("value", "dismiss"),
    "orphan": ("dismiss",),
}

# Kinds whose subject holds a record pair (record_l, record_r): same/different become link constraints.
PAIR_KINDS: tuple[str, ...] = ("uncertain_link", "weak_cluster", "identity_conflict")

ITEM_PREFIX: dict[str, str] = {
    "uncertain_link": "ul", "conflict": "cf", "identity_conflict": "ic", "orphan": "or", "weak_cluster": "wc",
}


class ReviewError(Exception):
    """A review request that cannot be carried out; the message says why, for the officer."""


class UnknownItem(ReviewError):
    """The published review queue holds no item with this id."""


def item_id_for(kind: str, subject_key: str) -> str:
    """Stable item id: the same kind and subject give the same id every night.

    Mirrors queue.py's SQL `prefix || '-' || substr(md5(kind || '|' || key), 1, 16)`.
    """
    import hashlib

    digest = hashlib.md5(f"{kind}|{subject_key}".encode("utf-8")).hexdigest()[:16]
    return f"{ITEM_PREFIX[kind]}-{digest}"
