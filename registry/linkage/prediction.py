"""Scoring record pairs into `links`: a full rebuild, or incrementally for changed records only.

Term frequencies (how common a name is) are frozen with the model (training.freeze_term_frequencies)
and registered with Splink in BOTH modes, so a full rebuild and an incremental run over the same
records give the same scores, and links kept from earlier nights never go stale.
"""

from __future__ import annotations

import logging

import duckdb
from splink import Linker

from registry import contracts
from registry.linkage import backend
from registry.linkage.blocking import blocking_key, candidates_sql
from registry.linkage.model import LINK_FLOOR
from registry.linkage.training import TF_COLUMNS, TrainedModel, model_input
from registry.night import NightPlan

log = logging.getLogger(__name__)

LINKS_DDL = contracts.LINKS.ddl()


def _register_term_frequencies(con, db, linker: Linker, model: TrainedModel) -> None:
    for col in TF_COLUMNS:
        table = f"linkage_tf_{col}"
        frozen = model.term_frequencies(col)
        if frozen is None:
            raise ValueError(f"linkage model {model.version} has no frozen term frequencies for {col!r}: retrain it")
        con.register("_tf_frame", frozen)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _tf_frame")
        con.unregister("_tf_frame")
        linker.table_management.register_term_frequency_lookup(
            db.register(table, dataset_display_name=f"{table}_sdf"), col)


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


def _links_select(model: TrainedModel, predictions: str) -> str:
    return f"""SELECT least(p.record_uid_l, p.record_uid_r) AS record_uid_l,
                      greatest(p.record_uid_l, p.record_uid_r) AS record_uid_r,
                      p.match_weight, p.match_probability, {_evidence_sql(model)} AS evidence
               FROM {predictions} p WHERE p.match_probability >= {LINK_FLOOR}"""


def _linker(con, model: TrainedModel, input_view: str) -> tuple[object, Linker]:
    db = backend.splink_api(con)
    sdf = db.register(input_view, dataset_display_name=input_view)
    linker = Linker(sdf, model.splink_settings(for_evidence=True), log_level=logging.WARNING, validate_settings=False)
    _register_term_frequencies(con, db, linker, model)
    return db, linker


def predict_links(con: duckdb.DuckDBPyConnection, model: TrainedModel, night: NightPlan) -> int:
    """Score blocked pairs of `records` into `links`; returns the number of links written.

    A full night replaces `links`. An incremental night deletes the links touching any record of the
    night's change set, then scores only pairs involving new/changed records (changed x unchanged,
    changed x changed).
    """
    backend.register_functions(con)
    model_input(con)
    if not night.incremental:
        _db, linker = _linker(con, model, "linkage_input")
        predictions = linker.inference.predict(threshold_match_probability=LINK_FLOOR, warning_mode="never")
        con.execute("DROP TABLE IF EXISTS links")
        con.execute(f"CREATE TABLE links AS {_links_select(model, predictions.physical_name)}"
                    " ORDER BY record_uid_l, record_uid_r")
        predictions.drop_table_from_database_and_remove_from_cache()
        return con.execute("SELECT count(*) FROM links").fetchall()[0][0]

    con.execute(LINKS_DDL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE linkage_touched AS SELECT DISTINCT record_uid FROM ({night.changes.uids_sql()})")
    con.execute("""DELETE FROM links WHERE record_uid_l IN (SELECT record_uid FROM linkage_touched)
                                        OR record_uid_r IN (SELECT record_uid FROM linkage_touched)""")
    con.execute("""CREATE OR REPLACE VIEW linkage_input_changed AS
        SELECT * FROM linkage_input WHERE record_uid IN (SELECT record_uid FROM linkage_touched)""")
    n_changed = con.execute("SELECT count(*) FROM linkage_input_changed").fetchall()[0][0]
    if n_changed == 0:
        return 0
    # Only unchanged records sharing a blocking key with a changed one can pair with it: the same
    # pairs as against every unchanged record, from a table the size of tonight's changes.
    con.execute("CREATE OR REPLACE TEMP TABLE linkage_changed_keys AS SELECT * FROM linkage_input_changed")
    keys = [blocking_key(rule) for rule in model.blocking_rules()]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE linkage_input_unchanged AS
        SELECT * FROM linkage_input WHERE record_uid IN ({candidates_sql(keys, "linkage_changed_keys", "linkage_input")})
          AND record_uid NOT IN (SELECT record_uid FROM linkage_touched)""")
    db, linker = _linker(con, model, "linkage_input")
    changed = db.register("linkage_input_changed", dataset_display_name="linkage_input_changed")
    unchanged = db.register("linkage_input_unchanged", dataset_display_name="linkage_input_unchanged")
    before = con.execute("SELECT count(*) FROM links").fetchall()[0][0]
    for predictions in (
        linker.inference.predict_between(changed, unchanged, threshold_match_probability=LINK_FLOOR,
                                         warning_mode="never"),
        linker.inference.predict_within(changed, threshold_match_probability=LINK_FLOOR, warning_mode="never"),
    ):
        con.execute(f"INSERT INTO links {_links_select(model, predictions.physical_name)}")
        predictions.drop_table_from_database_and_remove_from_cache()
    for t in ("linkage_changed_keys", "linkage_input_unchanged"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return con.execute("SELECT count(*) FROM links").fetchall()[0][0] - before
