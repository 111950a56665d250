"""Random small registries that change from night to night, for incremental == full tests of the queue.

A World holds records (with their resident) and scored links; `next_night` changes it the way the
upstream stages do (records changed, removed, added; residents merged and split; links touching changed
records rescored, the others standing) and `load` writes the run tables review reads, with the contract
tables of an incremental night: record_changes, residents_recomputed, resident_events.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from registry.contracts import DEPARTMENT_SPECS

from .factory import create_record_tables

DEPARTMENTS = {d.name: d.key_prefix for d in DEPARTMENT_SPECS.values()}
PROBABILITIES = (0.999, 0.99, 0.97, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.2)
STREETS = (("福田街道", "岗厦社区"), ("沙头街道", "新洲社区"), ("华富街道", "莲花社区"), (None, None))
WATERFALL = json.dumps([{"comparison": "name", "level": "same pinyin", "match_weight": 4.2}], ensure_ascii=False)


@dataclass
class World:
    rng: random.Random
    records: dict[str, dict] = field(default_factory=dict)       # record_uid -> fields + resident
    links: dict[tuple[str, str], float] = field(default_factory=dict)
    next_key: int = 0
    next_resident: int = 0
    events: list[tuple[str, str, str | None]] = field(default_factory=list)  # tonight's (event, resident, other)

    def new_resident(self) -> str:
        self.next_resident += 1
        return f"R{self.next_resident:05d}"

    def new_record(self, resident: str, department: str | None = None) -> str:
        self.next_key += 1
        dept = department or self.rng.choice(list(DEPARTMENTS))
        uid = f"{dept}:{DEPARTMENTS[dept]}{self.next_key:08d}"
        self.records[uid] = {"resident": resident}
        self._values(uid)
        return uid

    def _values(self, uid: str) -> None:
        rng, rec = self.rng, self.records[uid]
        person = int(rec["resident"][1:])
        street, community = rng.choice(STREETS)
        rec.update(
            name=rng.choice(["张伟", "张玮", "李娜", "王芳", "陈静", "陈晶"]),
            # mostly the person's own number; sometimes another's (shared), a second one, or none
            id_number=rng.choice([f"ID{person:06d}"] * 5 + [f"ID{rng.randrange(1, 40):06d}", f"IX{person:06d}", None]),
            birth_date=rng.choice(["1980-01-02", "1980-02-01", None]),
            current_street=street, current_community=community,
            record_hash=f"h{rng.randrange(10**9)}")

    def link(self, a: str, b: str, p: float | None = None) -> None:
        l, r = min(a, b), max(a, b)
        if l != r:
            self.links[(l, r)] = p if p is not None else self.rng.choice(PROBABILITIES)

    def members(self, resident: str) -> list[str]:
        return sorted(u for u, r in self.records.items() if r["resident"] == resident)

    def residents(self) -> list[str]:
        return sorted({r["resident"] for r in self.records.values()})

    def link_around(self, uid: str) -> None:
        """Score a (new or changed) record against its resident's records and a few others."""
        for other in self.members(self.records[uid]["resident"]):
            if other != uid and self.rng.random() < 0.8:
                self.link(uid, other)
        for other in self.rng.sample(sorted(self.records), min(2, len(self.records))):
            if self.rng.random() < 0.3:
                self.link(uid, other, self.rng.choice(PROBABILITIES))  # strong ones too: overruled links


def first_night(seed: int, people: int = 400) -> World:
    w = World(random.Random(seed))
    for _ in range(people):
        resident = w.new_resident()
        for _ in range(w.rng.choice([1, 1, 2, 3, 4, 5])):
            w.new_record(resident)
    for uid in sorted(w.records):
        w.link_around(uid)
    return w


def next_night(world: World, changes: int = 6) -> tuple[World, dict[str, str]]:
    """Tonight's world and its record_changes (record_uid -> new | changed | removed)."""
    w = copy.deepcopy(world)
    w.events = []
    rng, changed = w.rng, {}
    for uid in rng.sample(sorted(w.records), changes):                       # changed values
        w._values(uid)
        changed[uid] = "changed"
    for uid in rng.sample(sorted(set(w.records) - set(changed)), changes // 2):  # removed
        del w.records[uid]
        changed[uid] = "removed"
    for _ in range(changes // 2):                                            # new, to someone or no one
        resident = rng.choice(w.residents()) if rng.random() < 0.6 else w.new_resident()
        changed[w.new_record(resident)] = "new"
    for _ in range(2):                                                       # merges
        a, b = rng.sample(w.residents(), 2)
        for uid in w.members(b):
            w.records[uid]["resident"] = a
        w.events.append(("merged", b, a))
    for _ in range(2):                                                       # splits
        big = [r for r in w.residents() if len(w.members(r)) >= 2]
        if big:
            a, b = rng.choice(big), w.new_resident()
            for uid in w.members(a)[1:]:
                if rng.random() < 0.6:
                    w.records[uid]["resident"] = b
            w.events.append(("split", a, b))
    # links touching changed records are rescored, all others stand
    w.links = {k: p for k, p in w.links.items() if not (set(k) & set(changed))}
    for uid, change in sorted(changed.items()):
        if change != "removed":
            w.link_around(uid)
    return w, changed


def recomputed_residents(before: World, after: World, changed: dict[str, str]) -> set[str]:
    """What survivorship lists in residents_recomputed: residents whose members or member records changed."""
    def basis(w: World) -> dict[str, frozenset]:
        out: dict[str, set] = {}
        for uid, rec in w.records.items():
            out.setdefault(rec["resident"], set()).add((uid, rec["record_hash"]))
        return {k: frozenset(v) for k, v in out.items()}

    b, a = basis(before), basis(after)
    touched = {r for r in set(a) | set(b) if a.get(r) != b.get(r)}
    for uid in changed:
        for w in (before, after):
            if uid in w.records:
                touched.add(w.records[uid]["resident"])
    return touched


def load(con: duckdb.DuckDBPyConnection, w: World, *, changed: dict[str, str] | None = None,
         recomputed: set[str] | None = None, run_id: str = "run") -> None:
    """The run tables review reads (ARCHITECTURE.md), as the upstream stages leave them tonight."""
    rec = pd.DataFrame([{"record_uid": uid, "department": uid.split(":")[0], "source_record_id": uid.split(":")[1],
                         "name_raw": r["name"], **{k: v for k, v in r.items() if k != "resident"},
                         "id_number_valid": r["id_number"] is not None, "resident_id": r["resident"]}
                        for uid, r in sorted(w.records.items())])
    create_record_tables(con, rec)
    rec["birth_date"] = pd.to_datetime(rec["birth_date"]).dt.date
    con.register("_world", rec)
    # departments disagree on a birth date or an identity number: conflicts, with the lineage behind them
    con.execute("""
        CREATE OR REPLACE TABLE lineage AS
        SELECT resident_id, attribute, value, department, source_record_id, 'trust' AS rule FROM (
            SELECT resident_id, 'birth_date' AS attribute, CAST(birth_date AS VARCHAR) AS value, department,
                   source_record_id FROM _world WHERE birth_date IS NOT NULL
            UNION ALL
            SELECT resident_id, 'id_number', id_number, department, source_record_id FROM _world
            WHERE id_number IS NOT NULL)""")
    con.execute("""
        CREATE OR REPLACE TABLE conflicts AS
        SELECT resident_id, attribute, to_json(map_from_entries(list((value, recs) ORDER BY value)))::VARCHAR AS "values"
        FROM (SELECT resident_id, attribute, value, list(department || ':' || source_record_id ORDER BY source_record_id) AS recs
              FROM lineage GROUP BY ALL)
        GROUP BY resident_id, attribute HAVING count(*) > 1""")
    con.unregister("_world")
    con.execute("CREATE OR REPLACE TABLE links (record_uid_l VARCHAR, record_uid_r VARCHAR, match_weight DOUBLE, "
                "match_probability DOUBLE, evidence VARCHAR)")
    _insert(con, "links", [(l, r, 1.5, p, WATERFALL) for (l, r), p in sorted(w.links.items())])
    if changed is None:  # a full night: no contract tables of an incremental one
        for t in ("record_changes", "residents_recomputed", "resident_events"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        return
    con.execute("CREATE OR REPLACE TABLE record_changes (record_uid VARCHAR, department VARCHAR, change VARCHAR)")
    _insert(con, "record_changes", [(u, u.split(":")[0], c) for u, c in sorted(changed.items())])
    con.execute("CREATE OR REPLACE TABLE residents_recomputed (resident_id VARCHAR)")
    _insert(con, "residents_recomputed", [(r,) for r in sorted(recomputed or ())])
    con.execute("CREATE TABLE IF NOT EXISTS resident_events (run_id VARCHAR, event VARCHAR, resident_id VARCHAR, "
                "other_resident_id VARCHAR)")
    _insert(con, "resident_events", [(run_id, *e) for e in w.events])


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        con.register("_rows", pd.DataFrame(rows))
        con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
        con.unregister("_rows")
