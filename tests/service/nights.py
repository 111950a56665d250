"""Two nights of the independent writer (tests/independent), merged by `registry run`, for the service tests.

Night 2 is night 1's population written again for the next date, with public security marking people
that civil affairs assists as 死亡 (and one 迁出): the status events civil affairs must learn that night.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from tests.independent.writer import write_night

DATE_1, DATE_2 = "2026-11-20", "2026-11-21"


def ca_held_active(published: Path, n: int) -> list[tuple[str, str]]:
    """(resident_id, public security key) of n active residents that civil affairs also holds records of."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute("""
            SELECT r.resident_id, min(p.source_record_id) FROM residents r
            JOIN crosswalk p ON p.resident_id = r.resident_id AND p.department = 'public_security'
            WHERE r.status = 'active' AND r.resident_id IN
                  (SELECT resident_id FROM crosswalk WHERE department = 'civil_affairs')
            GROUP BY r.resident_id ORDER BY r.resident_id LIMIT ?""", [n]).fetchall()
    finally:
        con.close()


def mark_status(landing: Path, date: str, statuses: dict[str, str]) -> None:
    """Rewrite public security's delivery of `date`: these record keys get 人员状态 (and 变动日期 = date)."""
    [path] = (landing / date / "public_security").glob("hukou_*.csv")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"))))
    header = rows[0]
    key, status, changed = header.index("人员编号"), header.index("人员状态"), header.index("变动日期")
    for row in rows[1:]:
        if row and row[key] in statuses:
            row[status], row[changed] = statuses[row[key]], date
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(r for r in rows if r)
    path.write_bytes(out.getvalue().encode("gb18030"))


def write_nights(landing: Path, people: int, seed: int):
    return write_night(landing, DATE_1, people, seed=seed), lambda: write_night(landing, DATE_2, people, seed=seed)
