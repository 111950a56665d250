"""A night written by registry.generate loads without rejection, and its quarantine adds up."""

import duckdb
import pytest

from registry.departments import DEPARTMENTS

pytest.importorskip("registry.generate")


@pytest.mark.slow
def test_generated_night_loads_and_passes_its_suites(tmp_path):
    from registry.generate import generate_night
    from registry.departments.load import load_night
    from registry.quality.suites import validate_department

    generate_night(tmp_path / "landing", "2026-11-20", 3000, seed=3, truth_path=tmp_path / "truth.csv")
    con = duckdb.connect()
    outcomes = load_night(con, tmp_path / "landing", "2026-11-20")
    for department in DEPARTMENTS:
        o = outcomes[department]
        assert o.status == "loaded", o
        assert o.rows_delivered == o.rows_loaded + o.rows_quarantined
        n = con.execute(f"SELECT count(*) FROM raw_{department}").fetchall()[0][0]
        assert n == o.rows_loaded
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE department = ? AND reason NOT LIKE "
                                  "'record_key_format%'", [department]).fetchall()[0][0]
        assert quarantined == o.rows_quarantined
        assert validate_department(con, department).success
