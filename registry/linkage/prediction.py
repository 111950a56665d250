"""Scoring record pairs into `links`: a full rebuild, or incrementally for changed records only.

Term frequencies (how common a name is) are the night's own (term_frequencies.py), registered with
Splink in both modes; an incremental night also rescores the records whose name's frequency changed.
After the model, the household pass (households.py) weighs each pair's household context. So a full
rebuild and an incremental run over the same records give the same links.
"""

from __future__ import annotations

import logging

import duckdb
from splink import Linker

from registry import contracts
from registry.linkage import backend, households, term_frequencies
from registry.linkage.blocking import blocking_key, candidates_sql
from registry.linkage.engines import DuckDBEngine, LinkageEngine
from registry.linkage.model import LINK_FLOOR
from registry.linkage.training import TrainedModel, model_input
from registry.night import NightPlan

log = logging.getLogger(__name__)

LINKS_DDL = contracts.LINKS.ddl()


def _evidence_sql(model: TrainedModel) -> str:
    """SQL for the evidence JSON of a scored pair: per comparison its level and match weight, the
    term-frequency adjustments, then the prior — together they add up to the pair's match weight.

    Splink's predictions carry each comparison's match weight (mw_<comparison>), not its level, so
    the level is recovered from the weight (levels of one comparison have distinct weights)."""
    weights = model.level_weights()
    parts = []
    for comparison, levels in weights.groupby("comparison", sort=False):
        mw = f"p.mw_{comparison}"
        label = " ".join(f"WHEN abs({mw} - ({w:.12g})) < 1e-6 THEN '{lvl.replace(chr(39), chr(39) * 2)}'"
                         for w, lvl in zip(levels.match_weight, levels.level))
        parts.append(f"json_object('comparison', '{comparison}', 'level', CASE {label} ELSE 'unknown' END,"
                     f" 'match_weight', round({mw}, 3))")
    for column in model.term_frequency_comparisons():
        parts.append(f"json_object('comparison', '{column}', 'level', 'term frequency adjustment',"
                     f" 'match_weight', round(p.mw_tf_adj_{column}, 3))")
    parts.append(f"json_object('comparison', 'prior', 'level', 'two random records match', "
                 f"'match_weight', {model.prior_match_weight():.3f})")
    return "CAST(json_array(" + ", ".join(parts) + ") AS VARCHAR)"


# A pair's match weight is kept to 1e-9 bits and its probability computed from that here, in DuckDB:
# engines differ in the last bits of log2 and pow (Spark's term-frequency adjustments differ from
# DuckDB's by ~1e-15), and the registry must publish the same numbers whichever engine scored it.
WEIGHT_DECIMALS = 9


def _links_select(model: TrainedModel, predictions: str) -> str:
    weight = f"round(p.match_weight, {WEIGHT_DECIMALS})"
    return f"""SELECT record_uid_l, record_uid_r, match_weight, match_probability, evidence FROM (
                 SELECT least(p.record_uid_l, p.record_uid_r) AS record_uid_l,
                        greatest(p.record_uid_l, p.record_uid_r) AS record_uid_r,
                        {weight} AS match_weight,
                        CASE WHEN {weight} >= 0 THEN 1.0 / (1.0 + pow(2.0, -{weight}))
                             ELSE pow(2.0, {weight}) / (1.0 + pow(2.0, {weight})) END AS match_probability,
                        {_evidence_sql(model)} AS evidence
                 FROM {predictions} p)
               WHERE match_probability >= {LINK_FLOOR}"""


def _prediction_columns(model: TrainedModel) -> list[str]:
    """The columns of Splink's predictions that `links` is made of (the evidence reads the mw_ ones)."""
    weights = [f"mw_{c}" for c in model.level_weights()["comparison"].unique()]
    weights += [f"mw_tf_adj_{c}" for c in model.term_frequency_comparisons()]
    return ["record_uid_l", "record_uid_r", "match_weight", "match_probability", *weights]


def scoring_linker(engine: LinkageEngine, model: TrainedModel, input_table: str, tf_tables: dict[str, str]):
    """A Splink linker on `engine` that scores the records of `input_table` (model input columns) with the
    committed model and the frequencies of `tf_tables` (term_frequencies.compute); returns (db, linker)."""
    db = engine.api()
    sdf = engine.register(db, input_table)
    linker = Linker(sdf, model.splink_settings(for_evidence=True), log_level=logging.WARNING, validate_settings=False)
    term_frequencies.register(engine, db, linker, tf_tables)
    return db, linker


def predict_links(con: duckdb.DuckDBPyConnection, model: TrainedModel, night: NightPlan,
                  engine: LinkageEngine | None = None) -> int:
    """Score blocked pairs of `records` into `links`, then weigh household context; returns the number
    of links scored or changed.

    A full night replaces `links`. An incremental night deletes the links touching any record of the
    night's change set (and of records whose name's frequency changed tonight), then scores only pairs
    involving those records (changed x unchanged, changed x changed). It marks `links_recomputed`:
    every record whose links changed tonight, for clustering and the review queue. engine: where Splink
    scores the pairs (default: DuckDB, on `con`); `links` is written to `con` either way, and the
    household pass runs there.
    """
    engine = engine or DuckDBEngine(con)
    backend.register_functions(con)
    model_input(con)
    columns = _prediction_columns(model)
    tf_tables = term_frequencies.compute(con)
    retune = term_frequencies.changed_records_sql(con) if night.incremental else None
    if not night.incremental or retune is None:
        _db, linker = scoring_linker(engine, model, "linkage_input", tf_tables)
        predictions = linker.inference.predict(threshold_match_probability=LINK_FLOOR, warning_mode="never")
        con.execute("DROP TABLE IF EXISTS links")
        con.execute(f"CREATE TABLE links AS {_links_select(model, engine.fetch(predictions, columns))}"
                    " ORDER BY record_uid_l, record_uid_r")
        engine.release(predictions)
        term_frequencies.store(con)
        scored = con.execute("SELECT count(*) FROM links").fetchall()[0][0]
        # no frequencies to compare with on an incremental night: everything was rescored
        households.apply_household_evidence(con, model.household_parameters(),
                                            "SELECT record_uid FROM records" if night.incremental else None)
        return scored

    con.execute(LINKS_DDL)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE linkage_touched AS
        SELECT DISTINCT record_uid FROM ({night.changes.uids_sql()}) UNION {retune}""")
    con.execute("""DELETE FROM links WHERE record_uid_l IN (SELECT record_uid FROM linkage_touched)
                                        OR record_uid_r IN (SELECT record_uid FROM linkage_touched)""")
    con.execute("""CREATE OR REPLACE VIEW linkage_input_changed AS
        SELECT * FROM linkage_input WHERE record_uid IN (SELECT record_uid FROM linkage_touched)""")
    n_changed = con.execute("SELECT count(*) FROM linkage_input_changed").fetchall()[0][0]
    scored = 0
    if n_changed:
        # Only unchanged records sharing a blocking key with a changed one can pair with it: the same
        # pairs as against every unchanged record, from a table the size of tonight's changes.
        con.execute("CREATE OR REPLACE TEMP TABLE linkage_changed_keys AS SELECT * FROM linkage_input_changed")
        keys = [blocking_key(rule) for rule in model.blocking_rules()]
        con.execute(f"""CREATE OR REPLACE TEMP TABLE linkage_input_unchanged AS
            SELECT * FROM linkage_input WHERE record_uid IN ({candidates_sql(keys, "linkage_changed_keys", "linkage_input")})
              AND record_uid NOT IN (SELECT record_uid FROM linkage_touched)""")
        # predict_between/predict_within read only the tables they are given: the linker's own input is
        # tonight's changed records, never the whole population (which the Spark engine would have to copy)
        db, linker = scoring_linker(engine, model, "linkage_changed_keys", tf_tables)
        changed = engine.register(db, "linkage_input_changed")
        unchanged = engine.register(db, "linkage_input_unchanged")
        before = con.execute("SELECT count(*) FROM links").fetchall()[0][0]
        for predictions in (
            linker.inference.predict_between(changed, unchanged, threshold_match_probability=LINK_FLOOR,
                                             warning_mode="never"),
            linker.inference.predict_within(changed, threshold_match_probability=LINK_FLOOR, warning_mode="never"),
        ):
            con.execute(f"INSERT INTO links {_links_select(model, engine.fetch(predictions, columns))}")
            engine.release(predictions)
        for t in ("linkage_changed_keys", "linkage_input_unchanged"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        scored = con.execute("SELECT count(*) FROM links").fetchall()[0][0] - before
    term_frequencies.store(con)
    return scored + households.apply_household_evidence(con, model.household_parameters(),
                                                        "SELECT record_uid FROM linkage_touched")
