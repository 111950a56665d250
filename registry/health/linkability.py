"""How linkable each record is: the model's score of the record against an exact copy of itself.

A record that cannot reach the match threshold even against itself has too little filled in to be
linked to anyone (Splink's "unlinkables"); a department whose export stops filling a field lowers
every one of its records' self-match weight by that field's weight. Kept in the working state as
`record_linkability` (registry.contracts.RECORD_LINKABILITY): on an incremental night only the night's
new and changed records are scored (registry.incremental); another model rescores every record.
"""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.incremental import Basis, digest
from registry.linkage import backend
from registry.linkage.engines import DuckDBEngine
from registry.linkage import term_frequencies
from registry.linkage.prediction import scoring_linker
from registry.linkage.training import TrainedModel, model_input
from registry.night import NightPlan

TABLE = contracts.RECORD_LINKABILITY
BASIS_META_KEY = "linkability_basis"
ALGORITHM_VERSION = "1"


def basis(model: TrainedModel) -> Basis:
    return Basis(BASIS_META_KEY, digest(ALGORITHM_VERSION, model.version), (TABLE.name,))


def _score(con: duckdb.DuckDBPyConnection, model: TrainedModel, source: str) -> None:
    """Insert the self-match scores of the records of the view `source` (model input columns)."""
    # One comparison per record, on DuckDB whatever the night's engine: the records are in `con` already.
    # A name's frequency is the whole night's, as the night's links were scored with.
    _db, linker = scoring_linker(DuckDBEngine(con), model, source, term_frequencies.compute(con))
    # Splink scores each record against itself (blocking on its own id) with the model's full SQL.
    scored = linker._self_link()
    con.execute(f"""INSERT INTO {TABLE.name}
        SELECT record_uid_l, split_part(record_uid_l, ':', 1), match_weight, match_probability
        FROM {scored.physical_name}""")
    scored.drop_table_from_database_and_remove_from_cache()


def update_linkability(con: duckdb.DuckDBPyConnection, model: TrainedModel, night: NightPlan) -> int:
    """Bring `record_linkability` up to tonight's `records`; returns the number of records scored."""
    backend.register_functions(con)
    standing = basis(model)
    if night.incremental and night.changes.exists(con) and standing.holds(con):
        changed = night.changes.uids_sql()
        con.execute(f"DELETE FROM {TABLE.name} WHERE record_uid IN ({changed})")
        con.execute(f"""CREATE OR REPLACE TEMP VIEW linkability_records AS
            SELECT * FROM records WHERE record_uid IN ({changed})""")
        source = "linkability_records"
    else:
        con.execute(TABLE.ddl(replace=True))
        source = "records"
    model_input(con, source=source, name="linkability_input")
    n = con.execute("SELECT count(*) FROM linkability_input").fetchall()[0][0]
    if n:
        _score(con, model, "linkability_input")
    standing.record(con)
    con.execute("DROP VIEW IF EXISTS linkability_input")
    con.execute("DROP VIEW IF EXISTS linkability_records")
    return n
