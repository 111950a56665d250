"""The blocking rules read as keys: which columns (or expressions) two records must share for the model
to compare them at all.

An incremental night scores the changed records against the unchanged ones. Only an unchanged record
that shares every key of at least one rule with some changed record can ever be paired with it, so
the others are left out of `predict_between` before Splink sees them: the same pairs, by construction,
from a far smaller table. That holds only for rules that are conjunctions of equalities between an
expression of `l` and one of `r`; any other rule is refused loudly rather than approximated.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import expressions as exp
from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator

DIALECT = "duckdb"


class BlockingRuleError(ValueError):
    """A blocking rule that cannot be read as a conjunction of l/r equalities."""


@dataclass(frozen=True)
class BlockingKey:
    """One rule as keys: `left[i]` over the l record must equal `right[i]` over the r record, for all i.
    Expressions are SQL over one record's columns (no table alias)."""

    rule: str
    left: tuple[str, ...]
    right: tuple[str, ...]

    @property
    def symmetric(self) -> bool:
        return self.left == self.right


def _side(node: exp.Expression, rule: str) -> str:
    tables = {c.table for c in node.find_all(exp.Column)}
    if tables not in ({"l"}, {"r"}):
        raise BlockingRuleError(f"blocking rule {rule!r}: {node.sql(DIALECT)!r} must read columns of exactly one "
                                "of l and r")
    return tables.pop()


def _unaliased(node: exp.Expression) -> str:
    bare = node.copy().transform(
        lambda n: exp.column(n.name, quoted=n.this.quoted) if isinstance(n, exp.Column) else n)
    return bare.sql(DIALECT)


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def blocking_key(rule) -> BlockingKey:
    """A blocking rule (a Splink creator such as block_on(...), or an SQL string) as keys."""
    sql = to_blocking_rule_creator(rule).get_blocking_rule(DIALECT).blocking_rule_sql
    left, right = [], []
    for term in _conjuncts(sqlglot.parse_one(sql, read=DIALECT)):
        if not isinstance(term, exp.EQ):
            raise BlockingRuleError(f"blocking rule {sql!r}: {term.sql(DIALECT)!r} is not an equality; only "
                                    "conjunctions of l/r equalities can restrict an incremental night's candidates")
        a, b = term.left, term.right
        sides = (_side(a, sql), _side(b, sql))
        if sides == ("r", "l"):
            a, b = b, a
        elif sides != ("l", "r"):
            raise BlockingRuleError(f"blocking rule {sql!r}: {term.sql(DIALECT)!r} must equate an l expression "
                                    "with an r expression")
        left.append(_unaliased(a))
        right.append(_unaliased(b))
    return BlockingKey(rule=sql, left=tuple(left), right=tuple(right))


def candidates_sql(keys: list[BlockingKey], changed: str, others: str) -> str:
    """SQL selecting the record_uid of every row of `others` that shares all keys of some rule with a
    row of `changed`, in either role (l or r): every record a blocked pair with `changed` can contain.
    SQL equality never matches NULL, as in the blocking rules themselves."""
    parts = []
    for key in keys:
        roles = [(key.left, key.right)] if key.symmetric else [(key.left, key.right), (key.right, key.left)]
        for mine, theirs in roles:
            select = ", ".join(f"{e} AS k{i}" for i, e in enumerate(mine))
            present = " AND ".join(f"k{i} IS NOT NULL" for i in range(len(mine)))
            on = " AND ".join(f"({e}) = c.k{i}" for i, e in enumerate(theirs))
            parts.append(f"SELECT record_uid FROM {others} SEMI JOIN "
                         f"(SELECT DISTINCT * FROM (SELECT {select} FROM {changed}) WHERE {present}) c ON {on}")
    return "\nUNION\n".join(parts)
