"""Training the linkage model (EM with fixed seeds) and the committed, versioned model file.

Nightly runs use the committed model (`load_model()`); retraining is an explicit act
(`train_model(con).save()`), reviewed and committed like code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlglot
from splink import Linker, SettingsCreator, block_on

from registry.linkage import backend
from registry.linkage.engines import DuckDBEngine, LinkageEngine
from registry.linkage.model import DERIVED_COLUMNS, MODEL_COLUMNS, MODEL_PATH, settings

log = logging.getLogger(__name__)

# The pairs EM learns from. Each rule leaves the comparisons it blocks on untrained, so the
# sessions complement each other: every comparison is estimated by at least one of them.
_EM_RULES = (
    block_on("id_number"),
    block_on("name_pinyin", "birth_year"),
    block_on("phone", "birth_year"),
)
# Deterministic rules (near-certain matches) to estimate the prior, with their assumed recall.
_PRIOR_RULES = ("l.id_number = r.id_number AND l.name_plain = r.name_plain",
                "l.id_number = r.id_number AND l.birth_date = r.birth_date")
_PRIOR_RECALL = 0.8

# No level is believed to be (almost) impossible for the same person: departments' data has errors
# at a rate EM cannot see in a clean night (a changed phone, a moved address). Without a floor EM
# can give a single disagreement a weight of -100, which no other evidence can outweigh.
M_FLOOR = 1e-3


# Levels that say more the more they agree: a more specific agreement never weighs less than a looser one
# (comparison -> labels, most specific first). EM on one generator's nights can leave a looser level
# heavier (if that generator's addresses never disagree within a street, say); on another district's
# data that order would be wrong, so it is enforced.
MONOTONE: dict[str, tuple[str, ...]] = {
    "address": ("same address", "same building and room (unit or community left out)", "same community",
                "same street", "same district"),
    "birth_date": ("exact", "same year and month (one side month only)", "within a year"),
    "name": ("exact", "same pinyin (homophone or pinyin-written)", "one character or one syllable different"),
}


def _levels_with_m(comparison: dict) -> list[dict]:
    return [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]


def _floor_m_probabilities(model: dict[str, Any]) -> dict[str, Any]:
    for comparison in model["comparisons"]:
        levels = _levels_with_m(comparison)
        for lvl in levels:       # a level EM never saw keeps Splink's default; give it the floor instead
            if not isinstance(lvl.get("m_probability"), (int, float)):
                lvl["m_probability"] = M_FLOOR
        _monotone(comparison)
        fixed = sum(lvl["m_probability"] for lvl in levels if lvl.get("fix_m_probability"))
        free = [lvl for lvl in levels if not lvl.get("fix_m_probability")]  # fixed: domain knowledge
        floored = [max(lvl["m_probability"], M_FLOOR) for lvl in free]
        total = sum(floored)
        for lvl, m in zip(free, floored):
            lvl["m_probability"] = m / total * (1 - fixed)
    return _rounded(model)


def _in_duckdb_dialect(model: dict[str, Any]) -> dict[str, Any]:
    """The model's blocking rules written as DuckDB writes them: the committed model has one form,
    whichever engine trained it (Splink transpiles the rules for the engine that predicts)."""
    for rule in model["blocking_rules_to_generate_predictions"]:
        if isinstance(rule, dict) and rule.get("sql_dialect", "duckdb") != "duckdb":
            rule["blocking_rule"] = sqlglot.transpile(rule["blocking_rule"], read=rule["sql_dialect"],
                                                      write="duckdb")[0]
            rule["sql_dialect"] = "duckdb"
    model["sql_dialect"] = "duckdb"
    return model


def _monotone(comparison: dict) -> None:
    """Raise m of a more specific level until its Bayes factor is at least the next looser level's
    (the caller renormalises: that scales every factor alike, the order stays)."""
    chain = MONOTONE.get(comparison["output_column_name"])
    if not chain:
        return
    by_label = {lvl["label_for_charts"]: lvl for lvl in _levels_with_m(comparison)}
    levels = [by_label[label] for label in chain if label in by_label]
    for specific, looser in zip(reversed(levels[:-1]), reversed(levels[1:])):
        if specific.get("fix_m_probability") or not specific.get("u_probability") or not looser.get("u_probability"):
            continue
        bf_looser = max(looser["m_probability"], M_FLOOR) / looser["u_probability"]
        specific["m_probability"] = max(specific["m_probability"], bf_looser * specific["u_probability"])


def _rounded(model: dict[str, Any], digits: int = 12) -> dict[str, Any]:
    """Round m and u to 12 significant digits: DuckDB's multi-threaded sums differ in the last bits from run
    to run, and a retrain on the same data with the same seed must give the same model (and version)."""
    for comparison in model["comparisons"]:
        for lvl in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                v = lvl.get(key)
                if isinstance(v, float) and v != 0.0:
                    lvl[key] = float(f"{v:.{digits}g}")
    return model


def _model_version(model: dict[str, Any]) -> str:
    """A short hash of the model's content (its parameters, settings and household model, not the metadata)."""
    body = {k: v for k, v in model.items() if k not in ("linker_uid", "registry_model")}
    body["household"] = model.get("registry_model", {}).get("household")
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


@dataclass
class TrainedModel:
    """A Splink model (settings dict with m/u per level) plus its version and provenance."""

    model: dict[str, Any]
    # Trained with officers' labels: the same training before the label session (not saved with the model).
    before_labels: "TrainedModel | None" = None

    @property
    def version(self) -> str:
        return self.model.get("registry_model", {}).get("version") or _model_version(self.model)

    def household_parameters(self) -> dict | None:
        """The household model (households.estimate_parameters), None for a model trained without it."""
        return self.model.get("registry_model", {}).get("household")

    def prior_match_weight(self) -> float:
        """log2 of the prior odds that two random records are the same person."""
        p = self.model["probability_two_random_records_match"]
        return math.log2(p / (1 - p))

    def splink_settings(self, for_evidence: bool = False) -> dict[str, Any]:
        """The Splink settings dict, without the registry's own metadata. for_evidence: keep the
        comparison vector (gamma_*) columns in predictions, to write each link's evidence."""
        settings = {k: v for k, v in copy.deepcopy(self.model).items() if k != "registry_model"}
        if for_evidence:
            settings["retain_intermediate_calculation_columns"] = True
        return settings

    def _settings_obj(self):
        return SettingsCreator.from_path_or_dict(self.splink_settings()).get_settings("duckdb")

    def parameters(self) -> pd.DataFrame:
        """One row per comparison level: m, u and match weight (for Dagster metadata and docs)."""
        rows = [{"comparison": r.comparison_name, "level": r.label_for_charts,
                 "m_probability": r.m_probability, "u_probability": r.u_probability,
                 "match_weight": r.log2_bayes_factor}
                for r in self._settings_obj()._parameters_as_detailed_records
                if not r.is_null_level and r.comparison_name != "probability_two_random_records_match"]
        return pd.DataFrame(rows)

    def level_weights(self) -> pd.DataFrame:
        """(comparison, comparison_vector_value, level, match_weight) for turning gammas into evidence."""
        rows = [{"comparison": r.comparison_name, "gamma": int(r.comparison_vector_value),
                 "level": r.label_for_charts, "match_weight": 0.0 if r.is_null_level else r.log2_bayes_factor}
                for r in self._settings_obj()._parameters_as_detailed_records
                if r.comparison_name != "probability_two_random_records_match"]
        return pd.DataFrame(rows)

    def blocking_rules(self) -> list[str]:
        """The SQL of the rules this model's predictions are blocked on (model.blocking_rules() when trained)."""
        return [r["blocking_rule"] if isinstance(r, dict) else r
                for r in self.model["blocking_rules_to_generate_predictions"]]

    def term_frequency_comparisons(self) -> list[str]:
        """Comparisons with a term-frequency adjustment on some level."""
        return [c["output_column_name"] for c in self.model["comparisons"]
                if any(lvl.get("tf_adjustment_column") for lvl in c["comparison_levels"])]

    def save_match_weights_chart(self, path: str | Path) -> Path:
        path = Path(path)
        self._settings_obj().match_weights_chart().save(str(path))
        return path

    def save(self, path: str | Path = MODEL_PATH) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def load_model(path: str | Path = MODEL_PATH) -> TrainedModel:
    """The committed model. Raises FileNotFoundError naming the file if it has not been trained."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no linkage model at {path}: train one with registry.linkage.training.train_model")
    return TrainedModel(json.loads(path.read_text(encoding="utf-8")))


def model_input(con: duckdb.DuckDBPyConnection, source: str = "records", name: str = "linkage_input") -> str:
    """A view of `source` with only the columns the model reads; returns its name."""
    backend.register_functions(con)
    cols = ", ".join([*MODEL_COLUMNS, *(f"{sql} AS {col}" for col, sql in DERIVED_COLUMNS.items())])
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} FROM {source}")
    return name


def train_model(con: duckdb.DuckDBPyConnection, seed: int = 20261120, max_u_pairs: float = 2e7,
                max_em_pairs: float = 5e6, engine: LinkageEngine | None = None,
                labels: str | None = None) -> TrainedModel:
    """Estimate the model on the current `records`: prior from deterministic rules, u by random
    sampling (seeded), m by EM over several blocking rules (deterministic hash sampling), the
    household model from the records' households (households.estimate_parameters).
    engine: where Splink trains (default: DuckDB, on `con`). The samples are the engine's own, so a
    model trained on Spark is close to, not equal to, one trained on DuckDB; it is saved in DuckDB's
    dialect either way, so every engine reads it.

    labels: a table of `con` (record_uid_l, record_uid_r) of pairs officers decided are one person:
    Splink estimates m from them as one more training session. The model trained without them is kept
    as `before_labels`."""
    from registry.linkage import households, term_frequencies

    engine = engine or DuckDBEngine(con)
    db = engine.api()
    sdf = engine.register(db, model_input(con))
    linker = Linker(sdf, settings(), log_level=logging.WARNING)
    term_frequencies.register(engine, db, linker, term_frequencies.compute(con))
    linker.training.estimate_probability_two_random_records_match(list(_PRIOR_RULES), recall=_PRIOR_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    for rule in _EM_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=max_em_pairs)
    n_records = con.execute("SELECT count(*) FROM records").fetchall()[0][0]
    meta = {"seed": seed, "trained_on_records": n_records, "max_u_pairs": max_u_pairs,
            "max_em_pairs": max_em_pairs, "household": households.estimate_parameters(con)}
    before = None
    if labels is not None:
        before = _trained(linker, meta)
        linker.training.estimate_m_from_pairwise_labels(engine.register(db, labels))
        meta["labelled_pairs"] = con.execute(f"SELECT count(*) FROM {labels}").fetchall()[0][0]
    trained = _trained(linker, meta)
    trained.before_labels = before
    return trained


def _trained(linker, meta: dict[str, Any]) -> TrainedModel:
    """The linker's current parameters as a model in DuckDB's dialect, with the registry's metadata and
    the version that names it."""
    model = _floor_m_probabilities(_in_duckdb_dialect(linker.misc.save_model_to_json()))
    model["registry_model"] = dict(meta)
    model["registry_model"]["version"] = _model_version(model)
    return TrainedModel(model)
