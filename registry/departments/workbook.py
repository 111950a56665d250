"""Read a department's workbook (XLSX) into the staging tables of registry.departments.readers.

Cells are converted as the sheet shows them (cell_text); typed columns are converted as arrays. The
shared strings are checked strictly first (calamine reads a broken part leniently); a sheet calamine
cannot read is read again row by row (registry.departments.sheet_rows), its broken rows quarantined.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np
import pyarrow as pa

from registry.contracts import department as department_spec
from registry.departments import COLUMNS
from registry.departments.landing import DeliveryRejected
from registry.departments.sheet_rows import check_shared_strings, read_sheet_rows
from registry.departments.staging import Staged, check_columns
from registry.sql import quote_identifier as _q

_VALUE_CAP = 500  # a broken row's raw XML is kept to this many characters
_EXACT_FLOAT = 2 ** 53  # integers up to here survive a spreadsheet's number cell exactly (15-digit ids do)


def cell_text(v) -> str:
    """One cell as the sheet shows it: the rule for every kind of cell ('' stays '' for the NULL rule)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer() and abs(v) < _EXACT_FLOAT:
        return str(int(v))
    if isinstance(v, float):
        # An 18-digit identity number typed as a number cell kept only ~16 significant digits: show
        # the cell as Excel does (1.10101199003071e+17) rather than invent digits that look real.
        return repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return "" if v is None else str(v)


_KIND_OF = np.frompyfunc(type, 1, 1)


def _column_array(values: np.ndarray) -> pa.Array:
    """A column of cells as strings, by cell_text's rule: text columns go to Arrow whole; in a column
    with typed cells, the whole-number cells (phones, 15-digit ids, counts) and the date cells
    (registration dates) are converted as arrays, the rare other kinds cell by cell."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    kinds = _KIND_OF(values)
    out = np.empty(len(values), dtype=object)
    done = kinds == str
    out[done] = values[done]
    floats = kinds == float
    if floats.any():
        f = values[floats].astype(np.float64)
        whole = (f == np.floor(f)) & (np.abs(f) < _EXACT_FLOAT)
        where = np.flatnonzero(floats)
        out[where[whole]] = f[whole].astype(np.int64).astype(str).astype(object)
        done[where[whole]] = True  # fractions and overlong numbers are left to cell_text below
    dates = kinds == _dt.date
    if dates.any():
        out[dates] = np.asarray(pa.array(values[dates], type=pa.date32()).cast(pa.string()), dtype=object)
        done |= dates
    rest = np.flatnonzero(~done)
    if len(rest):
        out[rest] = [cell_text(v) for v in values[rest]]
    return pa.array(out, type=pa.string())


def read_xlsx_delivery(con, path: Path, department: str, stage: str, workdir: Path) -> Staged:
    from python_calamine import CalamineWorkbook

    sheet_name = department_spec(department).sheet
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several kinds for a file that is not a workbook
        raise DeliveryRejected(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    if sheet_name not in workbook.sheet_names:
        raise DeliveryRejected(f"{path.name}: sheet {sheet_name!r} missing "
                               f"(sheets: {', '.join(workbook.sheet_names) or 'none'})")
    broken: list = []
    try:
        check_shared_strings(path)
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except DeliveryRejected:
        raise
    except Exception:  # noqa: BLE001 - calamine fails the whole sheet on one broken row: judge each row
        sheet = read_sheet_rows(path, sheet_name)
        rows, broken = sheet.rows, sheet.broken
    finally:
        workbook.close()
    # The header is the first non-empty row; row numbers are the sheet's (1-based).
    header_idx = next((i for i, r in enumerate(rows) if any(v not in ("", None) for v in r)), None)
    if broken and (header_idx is None or broken[0].row <= header_idx + 1):
        raise DeliveryRejected(f"{path.name}: sheet {sheet_name!r} row {broken[0].row}: the row's XML is broken "
                               f"before any header row could be read ({broken[0].error})")
    if header_idx is None:
        raise DeliveryRejected(f"{path.name}: sheet {sheet_name!r} is empty (no header row, no data rows)")
    header = [str(v).strip() if v is not None else "" for v in rows[header_idx]]
    check_columns(header, department, path, f"sheet {sheet_name!r} row {header_idx + 1} (header)")
    body = rows[header_idx + 1:]
    del rows
    width = max([len(header), *{len(r) for r in body}])
    if any(len(r) < width for r in body):
        body = [r + [""] * (width - len(r)) for r in body]
    # A rectangular object array: its columns are slices, which Arrow converts far faster than tuples.
    grid = np.array(body, dtype=object).reshape(len(body), width)
    arrays = {c: _column_array(grid[:, header.index(c)]) for c in COLUMNS[department]}
    arrays["_source_line"] = pa.array(range(header_idx + 2, header_idx + 2 + len(body)), type=pa.int64())
    table = pa.table(arrays)
    del body, grid
    select = ", ".join(f"nullif({_q(c)}, '') AS {_q(c)}" for c in COLUMNS[department])
    nonblank = " OR ".join(f"{_q(c)} <> ''" for c in COLUMNS[department])
    con.register(f"{stage}_arrow", table)
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {stage} AS
                        SELECT {select}, _source_line FROM {stage}_arrow WHERE {nonblank}""")
    finally:
        con.unregister(f"{stage}_arrow")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {stage}_problems (line BIGINT, record_key VARCHAR,
                    field VARCHAR, value VARCHAR, reason VARCHAR)""")
    if broken:
        key_like = re.compile(r"\s*[A-Z]{2}[0-9]{10}\s*")
        con.executemany(f"INSERT INTO {stage}_problems VALUES (?, ?, NULL, left(?, {_VALUE_CAP}), ?)",
                        [(b.row, next((s.strip() for s in b.texts if key_like.fullmatch(s)), None), b.xml,
                          f"unparseable_row: sheet {sheet_name!r} row {b.row}: the row's XML is broken ({b.error})")
                         for b in broken])
    n = con.execute(f"SELECT count(*) FROM {stage}").fetchall()[0][0]
    if n == 0:
        raise DeliveryRejected(f"{path.name}: sheet {sheet_name!r} has a header but no data rows"
                               + (f" that could be read ({len(broken)} broken)" if broken else ""))
    return Staged(stage, f"{stage}_problems", int(n) + len(broken))
