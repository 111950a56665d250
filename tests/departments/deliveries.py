"""Write small department deliveries into a tmp landing zone, exactly in each department's format."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from registry.departments import COLUMNS, SHEET_NAME_FAMILY_PLANNING, data_file_name

ENCODINGS = {"public_security": "gb18030", "civil_affairs": "utf-8-sig"}


def person(department: str, key: str, **values) -> dict:
    """A row with every column filled with something plausible, key set, overrides applied."""
    cols = COLUMNS[department]
    row = {c: f"{c}值" for c in cols}
    row[cols[0]] = key
    row.update(values)
    return row


def csv_bytes(department: str, rows: list[dict], encoding: str | None = None, header=None) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    header = list(header or COLUMNS[department])
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(c, "") for c in header] if isinstance(r, dict) else r)
    return buf.getvalue().encode(encoding or ENCODINGS[department])


def jsonl_bytes(rows: list) -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(path: Path, rows: list[dict], sheet=SHEET_NAME_FAMILY_PLANNING, header=None) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    header = list(header or COLUMNS["family_planning"])
    ws.write_row(0, 0, header)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(header):
            v = r.get(c, "")
            if v != "":
                ws.write(i, j, v) if not isinstance(v, str) else ws.write_string(i, j, v)
    wb.close()


def deliver(landing: Path, department: str, date: str, rows=None, *, data: bytes | None = None,
            manifest: bool | dict = True, **kw) -> Path:
    """Write one delivery (and its manifest unless manifest=False; a dict overrides fields)."""
    folder = landing / date / department
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data_file_name(department, date)
    if data is not None:
        path.write_bytes(data)
    elif department == "family_planning":
        xlsx_bytes(path, rows, **kw)
    elif department == "labour":
        path.write_bytes(jsonl_bytes(rows))
    else:
        path.write_bytes(csv_bytes(department, rows, **kw))
    if manifest is not False:
        doc = {"department": department, "extract_date": date, "file": path.name,
               "rows": len(rows) if rows is not None else None,
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        if isinstance(manifest, dict):
            doc.update(manifest)
        (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    return path
