"""The linkage on Spark gives what it gives on DuckDB: the same functions' answers, links, weights, clusters.

Spark runs in local mode (tests/conftest.py: spark_session); records are built directly, as in the
other linkage tests. The whole nightly merge on both engines is compared in tests/pipelines/test_spark_engine.py.
"""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import expressions as exp

from registry.linkage import cluster_records, predict_links
from registry.linkage.engines import DuckDBEngine, EngineConfigError, EngineSettings, open_engine
from registry.linkage.functions import BY_NAME, FUNCTIONS
from registry.linkage.model import settings as model_settings
from registry.night import full_night, incremental_night

from .records_factory import load_records
from .synthetic import make_records

pytestmark = pytest.mark.spark

# Pairs of strings on which the engines' string functions are known to part ways: hanzi (3 bytes each
# in UTF-8), strings of equal bytes but not equal characters, empty and missing values, identity numbers.
STRING_PAIRS = [
    ("张伟", "张玮"), ("张伟明", "张玮明"), ("欧阳娜娜", "欧阳娜"), ("王小明", "王晓明"), ("李", "李"), ("张伟", "伟张"),
    ("张三李", "张李三"), ("热依拉·买买提", "热依拉买买提"), ("Zhang Wei", "Zhang Wie"), ("aé", "abc"), ("éè", "èé"),
    ("", ""), ("", "张"), (None, "张"), ("张", None), (None, None), ("ab", "ba"), ("a", "b"),
    ("440306197812170514", "440306197821170514"), ("440306197812170514", "440306197812170541"),
    ("440306197812170514", "440306197812170599"), ("44030619781217051X", "44030619781217051x"),
    ("440306781217051", "440306197812170514"), ("𠀀𠀁", "𠀁𠀀"),
    # pinyin, syllables separated by spaces, '?' for an unknown reading
    ("li ming hua", "li min hua"), ("zhao ?", "zhao ji"), ("zhao ?", "zhao ji hua"), ("? ?", "ou yang"),
    ("li  ming", "li ? ming"), ("li ", "li ?"), ("lv xiao", "lv xiao"), ("zhang wei", "wei zhang"),
]
NUMBER_PAIRS = [(1990, 1), (2026, 12), (None, 5), (1990, None), (0, 0)]


def _both(spark_session, function, pairs):
    """The function's answers on DuckDB and on Spark, one query per engine over a table of the pairs."""
    con = duckdb.connect()
    con.execute(function.duckdb_sql())
    spark_session.sql(function.spark_sql())

    def table(kind):
        def literal(v):
            if v is None:
                return f"CAST(NULL AS {kind})"
            return "'" + v.replace("'", "''") + "'" if isinstance(v, str) else f"CAST({v} AS {kind})"
        rows = ", ".join(f"({i}, {literal(a)}, {literal(b)})" for i, (a, b) in enumerate(pairs))
        return f"SELECT {function.name}(a, b) FROM (VALUES {rows}) AS t(i, a, b) ORDER BY i"

    strings = "STRING" in function.params
    on_duckdb = [r[0] for r in con.execute(table("VARCHAR" if strings else "BIGINT")).fetchall()]
    on_spark = [r[0] for r in spark_session.sql(table("STRING" if strings else "BIGINT")).collect()]
    return on_duckdb, on_spark


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_each_linkage_function_answers_alike_on_both_engines(spark_session, function):
    pairs = STRING_PAIRS if "STRING" in function.params else NUMBER_PAIRS
    on_duckdb, on_spark = _both(spark_session, function, pairs)
    assert on_duckdb == on_spark, [(p, d, s) for p, d, s in zip(pairs, on_duckdb, on_spark) if d != s]


def test_pinyin_functions_let_an_unknown_reading_match_any_syllable_on_both_engines(spark_session):
    pairs = [("li ming hua", "li min hua"), ("zhao ?", "zhao ji"), ("zhao ?", "zhao ji hua"), ("zhang wei", "wei zhang")]
    assert _both(spark_session, BY_NAME["reg_syllable_mismatches"], pairs) == ([1, 0, None, 2],) * 2
    assert _both(spark_session, BY_NAME["reg_pinyin_equal"], pairs) == ([False, True, False, False],) * 2


def test_character_functions_count_hanzi_as_one_character_on_both_engines(spark_session):
    on_duckdb, on_spark = _both(spark_session, BY_NAME["reg_char_mismatches"],
                                [("张伟明", "张玮明"), ("欧阳娜娜", "欧阳娜"), ("张三李", "张李三")])
    # DuckDB 2.0.0's own hamming would count 3 (bytes) for one changed hanzi
    assert on_duckdb == on_spark == [1, None, 2]


def _functions_called(sql: str, dialect: str) -> set[str]:
    return {f.name.lower() for f in sqlglot.parse_one(sql, read=dialect).find_all(exp.Anonymous)}


def test_comparisons_call_only_built_ins_and_the_declared_linkage_functions():
    """A function the comparisons call that sqlglot does not know is one of ours, declared for both engines
    (a DuckDB-only function would fail on Spark only at night)."""
    conditions = [level["sql_condition"] for comparison in model_settings().create_settings_dict("duckdb")["comparisons"]
                  for level in comparison["comparison_levels"] if level["sql_condition"] != "ELSE"]
    for dialect in ("duckdb", "spark"):
        called = set().union(*(_functions_called(sql, dialect) for sql in conditions))
        assert called <= set(BY_NAME), called - set(BY_NAME)
    assert {"reg_char_mismatches", "reg_ascii_mismatches", "reg_adjacent_swap", "reg_birth_months",
            "reg_syllable_mismatches", "reg_pinyin_equal"} <= set(BY_NAME)


@pytest.fixture(scope="module")
def population():
    """Records with twins, borrowed and mistyped identity numbers, homophones, month-only births."""
    return make_records(800, seed=31).drop(columns=["person_id"]).to_dict("records")


def _con(rows):
    con = duckdb.connect()
    load_records(con, rows)
    return con


def _table(con, name):
    return con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()


def test_spark_scores_the_same_links_with_the_same_weights_and_evidence(spark_session, model, population, tmp_path):
    on_duckdb, on_spark = _con(population), _con(population)
    n = predict_links(on_duckdb, model, full_night())
    engine = open_engine(on_spark, EngineSettings(engine="spark"), tmp_path, spark_session=spark_session)
    try:
        assert predict_links(on_spark, model, full_night(), engine=engine) == n > 500
    finally:
        engine.close()
    assert _table(on_spark, "links") == _table(on_duckdb, "links")
    assert not list(tmp_path.iterdir()), "the engine leaves no scratch files behind"


def test_spark_clusters_like_duckdb_with_officers_constraints(spark_session, model, population, tmp_path):
    on_duckdb, on_spark = _con(population), _con(population)
    predict_links(on_duckdb, model, full_night())
    on_spark.register("links_frame", on_duckdb.execute("SELECT * FROM links").df())
    on_spark.execute("CREATE TABLE links AS SELECT * FROM links_frame")
    # an officer splits one linked pair and joins two records the model left apart
    linked = on_duckdb.execute("SELECT record_uid_l, record_uid_r FROM links WHERE match_probability > 0.99 "
                               "ORDER BY ALL LIMIT 1").fetchall()[0]
    apart = on_duckdb.execute("SELECT min(record_uid), max(record_uid) FROM records").fetchall()[0]
    for con in (on_duckdb, on_spark):
        con.execute("CREATE TABLE link_decisions (record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN,"
                    " decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)")
        con.execute("INSERT INTO link_decisions VALUES (?, ?, false, 'd1', 'officer', now()), "
                    "(?, ?, true, 'd2', 'officer', now())", [*linked, *apart])
    clusters = cluster_records(on_duckdb, full_night())
    engine = open_engine(on_spark, EngineSettings(engine="spark"), tmp_path, spark_session=spark_session)
    try:
        assert cluster_records(on_spark, full_night(), engine=engine) == clusters
    finally:
        engine.close()
    assert _table(on_spark, "clusters") == _table(on_duckdb, "clusters")
    assert _table(on_spark, "cluster_components") == _table(on_duckdb, "cluster_components")
    together = dict(on_spark.execute("SELECT record_uid, cluster_id FROM clusters").fetchall())
    assert together[linked[0]] != together[linked[1]] and together[apart[0]] == together[apart[1]]


def test_an_incremental_night_on_spark_equals_a_full_rebuild_on_duckdb(spark_session, model, population, tmp_path):
    night1 = population[:-30]
    night2 = [dict(r, phone="13000000000") if i < 10 else r for i, r in enumerate(population) if not 10 <= i < 15]
    con = _con(night1)
    engine = open_engine(con, EngineSettings(engine="spark"), tmp_path, spark_session=spark_session)
    try:
        predict_links(con, model, full_night(), engine=engine)
        cluster_records(con, full_night(), engine=engine)
        load_records(con, night2)
        changes = ([(r["record_uid"], "new") for r in population[-30:]] + [(r["record_uid"], "changed")
                   for r in population[:10]] + [(r["record_uid"], "removed") for r in population[10:15]])
        con.execute("CREATE TABLE record_changes (record_uid VARCHAR, department VARCHAR, change VARCHAR)")
        con.executemany("INSERT INTO record_changes VALUES (?, NULL, ?)", changes)
        predict_links(con, model, incremental_night(), engine=engine)
        cluster_records(con, incremental_night(), engine=engine)
    finally:
        engine.close()
    rebuilt = _con(night2)
    predict_links(rebuilt, model, full_night())
    cluster_records(rebuilt, full_night())
    assert _table(con, "links") == _table(rebuilt, "links")
    assert _table(con, "clusters") == _table(rebuilt, "clusters")


def test_the_registry_configuration_names_the_engine_and_master(tmp_path):
    from registry.home import Home

    home = Home.at(tmp_path)
    assert EngineSettings.load(home) == EngineSettings()  # no configuration: DuckDB
    (tmp_path / "registry.yaml").write_text(
        "linkage:\n  engine: spark\n  spark:\n    master: spark://10.1.2.3:7077\n"
        "    config: {spark.executor.memory: 16g}\n", encoding="utf-8")
    settings = EngineSettings.load(home)
    assert (settings.engine, settings.spark_master) == ("spark", "spark://10.1.2.3:7077")
    from registry.linkage.engines.on_spark import session_config

    conf = session_config(settings, tmp_path)
    assert conf["spark.master"] == "spark://10.1.2.3:7077" and conf["spark.executor.memory"] == "16g"
    assert "spark.driver.bindAddress" not in conf  # a cluster's driver must be reachable from its executors
    assert EngineSettings.load(home, engine="duckdb").engine == "duckdb"  # --engine wins
    local = session_config(EngineSettings(engine="spark"), tmp_path)
    assert local["spark.master"].startswith("local[") and local["spark.driver.bindAddress"] == "127.0.0.1"
    (tmp_path / "registry.yaml").write_text("linkage:\n  engine: sparkk\n", encoding="utf-8")
    with pytest.raises(EngineConfigError, match="registry.yaml.*sparkk"):
        EngineSettings.load(home)


def test_duckdb_is_the_engine_unless_configured(tmp_path):
    con = duckdb.connect()
    assert isinstance(open_engine(con, EngineSettings(), tmp_path), DuckDBEngine)
