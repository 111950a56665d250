"""One night's health: figures measured, judged against recent nights, kept in `linkage_health`."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from registry import contracts
from registry.health import figures
from registry.health.linkability import update_linkability
from registry.health.thresholds import Thresholds, assess
from registry.linkage.model import MATCH_THRESHOLD
from registry.linkage.training import TrainedModel
from registry.night import NightPlan
from registry.sql import table_exists

HEALTH = contracts.LINKAGE_HEALTH



@dataclass
class HealthSummary:
    figures: int = 0
    warnings: list[str] = field(default_factory=list)
    records_scored_for_linkability: int = 0
    model_version: str = ""

    def as_dict(self) -> dict:
        return {"figures": self.figures, "warnings": self.warnings, "warning_count": len(self.warnings),
                "records_scored_for_linkability": self.records_scored_for_linkability,
                "model_version": self.model_version}


def measure_night(con: duckdb.DuckDBPyConnection, night: NightPlan, model: TrainedModel,
                  thresholds: Thresholds | None = None, threshold: float = MATCH_THRESHOLD) -> HealthSummary:
    """Measure tonight's figures over the run's tables, judge them, and replace tonight's rows of
    `linkage_health` (a rerun of the night replaces them; earlier nights stay as the baseline)."""
    thresholds = thresholds or Thresholds.load()
    run_id, extract_date = night.run_id, night.extract_date
    con.execute(HEALTH.ddl())
    scored = update_linkability(con, model, night)
    sql = figures.night_figures_sql(extract_date, threshold, with_linkability=True,
                                    with_queue=table_exists(con, contracts.REVIEW_QUEUE.name))
    con.execute(f"CREATE OR REPLACE TEMP TABLE health_tonight AS {sql}")
    model_rows = figures.model_weight_distribution(model.parameters(), model.prior_match_weight())
    con.register("health_model_rows", model_rows)
    con.execute("INSERT INTO health_tonight SELECT figure, department, other, value, numerator, denominator "
                "FROM health_model_rows")
    con.unregister("health_model_rows")
    rows = pd.DataFrame(assess(con, "health_tonight", HEALTH.name, extract_date, thresholds))
    rows.insert(0, "extract_date", pd.Timestamp(extract_date).date())
    rows.insert(0, "run_id", run_id)
    con.register("health_rows", rows)
    con.execute(f"DELETE FROM {HEALTH.name} WHERE extract_date = DATE '{extract_date}'")
    con.execute(f"""INSERT INTO {HEALTH.name}
        SELECT run_id, extract_date::DATE, figure, department, other, value, numerator::BIGINT, denominator::BIGINT,
               baseline, threshold, status, message FROM health_rows""")
    con.unregister("health_rows")
    con.execute("DROP TABLE IF EXISTS health_tonight")
    warnings = [m for m in rows.loc[rows["status"] == "warn", "message"]]
    return HealthSummary(figures=len(rows), warnings=warnings, records_scored_for_linkability=scored,
                         model_version=model.version)
