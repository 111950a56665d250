"""What defines a kind of review item: its name, its id prefix, what an officer may decide on it, and
the SQL that builds its items (one module per kind in this package, registered in __init__.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemKind:
    """`build(con, inputs, lo, hi)` creates a temp table of the kind's items (ITEM_COLUMNS of
    registry.review.inputs) from the inputs (whole tables, or tonight's slice) and returns its name;
    (lo, hi) is the uncertain band of match probabilities."""

    name: str
    prefix: str                        # item ids: <prefix>-<16 hex digits>
    decisions: tuple[str, ...]         # what an officer may decide on such an item
    build: Callable[..., str]
    pair: bool = False                 # its subject holds a record pair: same/different become link constraints
    # Its items come from outside tonight's data (audit samples): every night builds them all, whatever
    # the incremental scope, instead of only those of tonight's affected residents.
    every_night: bool = False
    # Its items only add pairs of residents the other kinds miss: one is left out where an item of another
    # kind already names both of its residents (the queue's rule across kinds: one item per resident pair).
    defers: bool = False

    def item_id_sql(self, key_sql: str) -> str:
        """SQL of the stable item id: the same kind and subject key give the same id every night."""
        return f"'{self.prefix}-' || substr(md5('{self.name}|' || {key_sql}), 1, 16)"

    def item_id(self, subject_key: str) -> str:
        """item_id_sql in Python."""
        return f"{self.prefix}-{hashlib.md5(f'{self.name}|{subject_key}'.encode('utf-8')).hexdigest()[:16]}"


