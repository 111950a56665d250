"""Rerunning a night: the delivery already standing is not read again; a re-delivered file is."""

from __future__ import annotations

from deliveries import deliver, person

from registry.departments import load as load_module
from registry.departments.load import load_department

D1 = "2026-11-19"


def _rows(n):
    return [person("public_security", f"GA{i:010d}") for i in range(1, n + 1)]


def test_rerun_with_the_same_file_reads_nothing_and_reports_the_same_figures(tmp_path, con, monkeypatch):
    deliver(tmp_path, "public_security", D1, _rows(3) + [person("public_security", "GA0000000001")])
    first = load_department(con, tmp_path, "public_security", D1)
    assert (first.status, first.rows_delivered, first.rows_loaded, first.rows_quarantined) == ("loaded", 4, 3, 1)

    def no_read(*args, **kwargs):
        raise AssertionError("the standing delivery was read again")
    monkeypatch.setattr(load_module, "read_delivery", no_read)
    again = load_department(con, tmp_path, "public_security", D1)
    assert (again.status, again.delivery_date, again.file, again.rows_delivered, again.rows_loaded,
            again.rows_quarantined, again.sha256) == ("loaded", D1, first.file, 4, 3, 1, first.sha256)
    assert again.quarantined_by_reason == {"duplicate_record_key": 1}
    assert con.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1


def test_rerun_with_a_redelivered_file_loads_it(tmp_path, con):
    deliver(tmp_path, "public_security", D1, _rows(3))
    load_department(con, tmp_path, "public_security", D1)
    deliver(tmp_path, "public_security", D1, _rows(5))  # corrected delivery for the same night
    out = load_department(con, tmp_path, "public_security", D1)
    assert (out.status, out.rows_loaded) == ("loaded", 5)
    assert con.execute("SELECT count(*) FROM raw_public_security").fetchone()[0] == 5
