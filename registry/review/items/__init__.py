"""The kinds of review item, one module each; a new kind is one module and one line below.

Listed most urgent first (the order officers see them in); every night builds each kind's items from
the same inputs (registry.review.inputs) in this order.
"""

from __future__ import annotations

from registry.review.items import (audit_sample, birth_date_conflict, conflict, identity_conflict, orphan,
                                   overruled_link, uncertain_link, weak_cluster)
from registry.review.items.kind import ItemKind

ITEM_KINDS: tuple[ItemKind, ...] = (
    identity_conflict.KIND,
    weak_cluster.KIND,
    overruled_link.KIND,
    conflict.KIND,
    birth_date_conflict.KIND,
    uncertain_link.KIND,
    orphan.KIND,
    audit_sample.KIND,
)

BY_NAME: dict[str, ItemKind] = {k.name: k for k in ITEM_KINDS}
