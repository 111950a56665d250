"""The nightly merge with the Spark engine publishes the registry the DuckDB engine publishes.

Spark runs `registry run` as a data engineer starts it (its own process, its own local-mode session,
stopped when the run ends), chosen by `--engine spark` or by HOME/registry.yaml; DuckDB runs the same
night in another home. Every
published table that describes residents must be equal: same clusters, same resident IDs, same
match probabilities, same golden values and review items.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from registry.cli import main
from tests.independent.writer import write_night

pytestmark = [pytest.mark.slow, pytest.mark.spark]

DATE = "2026-11-20"
NIGHT1, NIGHT2 = "2026-11-19", "2026-11-20"
# The tables of the published registry that hold what was decided about residents (runs and
# deliveries describe the run itself: ids and times differ between any two runs).
RESIDENT_TABLES = ("crosswalk", "residents", "review_queue", "lineage", "conflicts", "resident_events",
                   "resident_history")
RUN_COLUMNS = ("run_id", "first_raised_date", "decided_at")


@pytest.fixture(scope="module", autouse=True)
def _java_and_dagster(tmp_path_factory):
    from registry.linkage.engines.on_spark import SparkUnavailable, check_spark

    try:
        check_spark()
    except SparkUnavailable as exc:
        pytest.skip(str(exc))
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster")))
    yield
    mp.undo()


def _registry_run(*args: str) -> subprocess.CompletedProcess:
    """`registry run` in its own process, as a data engineer starts it."""
    out = subprocess.run([str(Path(sys.executable).parent / "registry"), "run", *args], capture_output=True,
                         text=True, timeout=600, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _differences(a: Path, b: Path) -> dict[str, int]:
    """Rows of each resident table in one published registry and not in the other (both ways)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a / 'published' / 'registry.duckdb'}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b / 'published' / 'registry.duckdb'}' AS b (READ_ONLY)")
    found = {}
    for table in RESIDENT_TABLES:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall() if c not in RUN_COLUMNS]
        cols = ", ".join(f'"{c}"' for c in columns)
        found[table] = sum(con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{table} EXCEPT ALL "
                                       f"SELECT {cols} FROM {y}.{table})").fetchall()[0][0]
                           for x, y in (("a", "b"), ("b", "a")))
    assert con.execute("SELECT count(*) FROM a.crosswalk").fetchall()[0][0] > 1000
    con.close()
    return found


def _stage_stats(home: Path, stage: str) -> dict:
    con = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    try:
        stats = con.execute("SELECT stats FROM run_stages WHERE stage = ? ORDER BY recorded_at DESC LIMIT 1",
                            [stage]).fetchall()[0][0]
    finally:
        con.close()
    return json.loads(stats) if isinstance(stats, str) else stats


@pytest.fixture(scope="module")
def independent_night(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_independent")
    write_night(root / "landing", DATE, 1500, seed=41, truth_path=root / "truth.csv")
    duck, spark = root / "home_duckdb", root / "home_spark"
    assert main(["run", "--home", str(duck), "--landing", str(root / "landing"), "--date", DATE]) == 0
    _registry_run("--home", str(spark), "--landing", str(root / "landing"), "--date", DATE, "--engine", "spark")
    return duck, spark


def test_on_an_independent_night_spark_publishes_the_registry_duckdb_publishes(independent_night):
    duck, spark = independent_night
    assert _differences(duck, spark) == dict.fromkeys(RESIDENT_TABLES, 0)


def test_the_run_records_which_engine_linked_it(independent_night):
    duck, spark = independent_night
    for stage in ("record_links", "person_clusters"):
        assert _stage_stats(duck, stage)["engine"] == "duckdb"
        stats = _stage_stats(spark, stage)
        assert stats["engine"] == "spark" and stats["spark_master"].startswith("local[")
    # the run's scratch (Parquet passed between DuckDB and Spark) is gone with the run
    assert not list((spark / "state" / "runs").glob("*.work/linkage/*"))


def test_a_home_can_move_to_spark_between_nights_and_publishes_what_duckdb_publishes(tmp_path_factory):
    """Night 1 on DuckDB; night 2, incremental, on Spark because HOME/registry.yaml now says so: the working
    state is the engines' common ground, and the night equals DuckDB's own night 2."""
    root = tmp_path_factory.mktemp("spark_nights")
    landing = root / "landing"
    for date, extra in ((NIGHT1, []), (NIGHT2, ["--previous", str(landing / NIGHT1)])):
        assert main(["generate", "--people", "1000", "--date", date, "--out", str(landing), "--seed", "17",
                     "--truth", str(root / "truth" / f"{date}.csv"), *extra]) == 0
    duck, spark = root / "home_duckdb", root / "home_spark"
    assert main(["run", "--home", str(duck), "--landing", str(landing), "--date", NIGHT1]) == 0
    shutil.copytree(duck, spark)
    assert main(["run", "--home", str(duck), "--landing", str(landing), "--date", NIGHT2]) == 0
    (spark / "registry.yaml").write_text("linkage:\n  engine: spark\n  spark:\n    config:\n"
                                         "      spark.sql.shuffle.partitions: 4\n", encoding="utf-8")
    _registry_run("--home", str(spark), "--landing", str(landing), "--date", NIGHT2)
    assert _stage_stats(spark, "record_links")["engine"] == "spark"
    con = duckdb.connect(str(spark / "published" / "registry.duckdb"), read_only=True)
    assert [m for (m,) in con.execute("SELECT mode FROM runs ORDER BY extract_date").fetchall()] == ["full",
                                                                                                   "incremental"]
    con.close()
    assert _differences(duck, spark) == dict.fromkeys(RESIDENT_TABLES, 0)


def test_a_model_trained_on_spark_weighs_like_one_trained_on_duckdb(independent_night, spark_session, tmp_path):
    """Training on Spark: the same comparisons, Spark's own samples; saved in the one committed form."""
    from registry.linkage import predict_links, train_model
    from registry.linkage.blocking import blocking_key
    from registry.linkage.engines import EngineSettings, open_engine
    from registry.night import full_night

    duck, _ = independent_night
    state = duckdb.connect(str(duck / "state" / "registry_state.duckdb"), read_only=True)
    records = state.execute("SELECT * FROM records").df()
    state.close()
    on_duckdb, on_spark = duckdb.connect(), duckdb.connect()
    for con in (on_duckdb, on_spark):
        con.register("frame", records)
        con.execute("CREATE TABLE records AS SELECT * FROM frame")
    engine = open_engine(on_spark, EngineSettings(engine="spark"), tmp_path, spark_session=spark_session)
    try:
        trained = train_model(on_spark, max_u_pairs=2e5, max_em_pairs=2e5, engine=engine)
    finally:
        engine.close()
    reference = train_model(on_duckdb, max_u_pairs=2e5, max_em_pairs=2e5)
    assert trained.model["sql_dialect"] == "duckdb"  # an incremental night reads its rules as keys
    assert [blocking_key(r) for r in trained.blocking_rules()] == [blocking_key(r) for r in reference.blocking_rules()]
    on_spark_w = trained.parameters().set_index(["comparison", "level"]).match_weight
    on_duckdb_w = reference.parameters().set_index(["comparison", "level"]).match_weight
    for key in [("id_number", "exact, valid"), ("name", "exact"), ("birth_date", "exact"), ("phone", "same")]:
        assert on_spark_w[key] > 3 and abs(on_spark_w[key] - on_duckdb_w[key]) < 2, key
    assert predict_links(on_duckdb, trained, full_night()) > 1000
