"""The departments' file formats (DEPARTMENTS.md): GB18030 CSV, UTF-8-with-BOM CSV, XLSX, JSON lines,
and the optional manifest.json. Rows are built column-wise with arrow-backed string operations."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from registry.departments import (CIVIL_AFFAIRS, COLUMNS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY,
                                  SHEET_NAME_FAMILY_PLANNING, data_file_name)
from registry.departments.landing import sha256_of

ENCODINGS = {PUBLIC_SECURITY: "gb18030", CIVIL_AFFAIRS: "utf-8-sig"}


def _col(df: pd.DataFrame, c: str) -> pa.Array:
    """A column as an arrow string array (zero-copy for pandas' arrow-backed strings)."""
    s = df[c]
    if isinstance(s.dtype, pd.StringDtype):
        a = pa.array(s)
    else:
        a = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.string())


def _csv_field(a: pa.Array) -> pa.Array:
    """A CSV field, quoted only where needed (a comma, quote or line break inside)."""
    need = pc.match_substring_regex(a, '[",\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(a, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(need, quoted, a), "")


CHUNK = 100_000          # rows turned into text at a time: bounds the writers' memory


def write_csv(df: pd.DataFrame, department: str, path: Path) -> int:
    """Comma separated, header row in Chinese, CRLF line ends (spreadsheet and Windows exports)."""
    cols = list(COLUMNS[department])
    encoding = ENCODINGS[department]
    with open(path, "wb") as f:
        f.write((",".join(cols) + "\r\n").encode(encoding))
        for s in range(0, len(df), CHUNK):
            part = df.iloc[s:s + CHUNK]
            lines = pc.binary_join_element_wise(*[_csv_field(_col(part, c)) for c in cols], ",").to_pylist()
            f.write(("\r\n".join(lines) + "\r\n").encode("gb18030" if encoding == "gb18030" else "utf-8"))
    return len(df)


def _xml_escape(a: pa.Array) -> pa.Array:
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        a = pc.replace_substring(a, old, new)
    return a


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
        '</Relationships>'),
    "docProps/app.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        '<Application>Microsoft Excel</Application></Properties>'),
    "docProps/core.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>计生信息系统</dc:creator></cp:coreProperties>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="' + SHEET_NAME_FAMILY_PLANNING + '" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}


def write_xlsx(df: pd.DataFrame, department: str, path: Path) -> int:
    """One sheet of inline-string cells, the header in row 1; empty values are absent cells.

    The sheet XML is built column-wise with arrow string kernels rather than cell by cell: a
    spreadsheet library writing 500,000 rows one cell at a time is the generator's bottleneck."""
    cols = list(COLUMNS[department])
    n = len(df)
    header = "".join(f'<c r="{_col_letter(i)}1" t="inlineStr"><is><t>{c}</t></is></c>' for i, c in enumerate(cols))
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:{_col_letter(len(cols) - 1)}{n + 1}"/><sheetData><row r="1">{header}</row>')
    tail = "</sheetData></worksheet>"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in _XLSX_STATIC.items():
            z.writestr(_zinfo(name), text)
        with z.open(_zinfo("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as f:
            f.write(head.encode())
            for s in range(0, n, CHUNK):
                part = df.iloc[s:s + CHUNK]
                rownum = pa.array((np.arange(s, s + len(part)) + 2).astype(str), type=pa.string())
                cells = []
                for i, c in enumerate(cols):
                    v = _xml_escape(_col(part, c))
                    v = pc.if_else(pc.equal(v, ""), pa.scalar(None, pa.string()), v)
                    cell = pc.binary_join_element_wise(f'<c r="{_col_letter(i)}', rownum,
                                                       '" t="inlineStr"><is><t xml:space="preserve">', v,
                                                       "</t></is></c>", "")
                    cells.append(pc.fill_null(cell, ""))
                rows = pc.binary_join_element_wise('<row r="', rownum, '">', *cells, "</row>", "")
                f.write("".join(rows.to_pylist()).encode())
            f.write(tail.encode())
    return n


def _zinfo(name: str) -> zipfile.ZipInfo:
    # a fixed timestamp keeps the file byte-identical for a seed
    zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def _json_str(a: pa.Array) -> pa.Array:
    a = pc.replace_substring(a, "\\", "\\\\")
    a = pc.replace_substring(a, '"', '\\"')
    for ch, esc in (("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):   # control characters a name can carry
        a = pc.replace_substring(a, ch, esc)
    return a


def write_jsonl(df: pd.DataFrame, department: str, path: Path, rng) -> int:
    """One JSON object per line; an unknown value is a missing key, null or "" (all three occur);
    rows flagged _invalid_json are written as broken lines."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for s in range(0, len(df), CHUNK):
            f.write("\n".join(_json_lines(df.iloc[s:s + CHUNK], department, rng)) + "\n")
    return len(df)


def _json_lines(df: pd.DataFrame, department: str, rng) -> np.ndarray:
    n = len(df)
    frags = []
    for c in COLUMNS[department]:
        v = _col(df, c)
        known = pc.binary_join_element_wise(f'"{c}":"', _json_str(v), '"', "")
        how = rng.integers(0, 3, n)   # unknown as: 0 missing key, 1 null, 2 ""
        unknown = pa.array(np.where(how == 1, f'"{c}":null', np.where(how == 2, f'"{c}":""', None)), type=pa.string())
        frags.append(pc.if_else(pc.is_null(known), unknown, known))
    body = pc.binary_join_element_wise(*frags, ",", null_handling="skip")
    lines = pc.binary_join_element_wise("{", body, "}", "").to_numpy(zero_copy_only=False).astype(object)
    bad = np.flatnonzero(df["_invalid_json"].to_numpy(dtype=bool))
    if len(bad):
        s = pd.Series(lines[bad], dtype=object).astype(str)
        kind = np.arange(len(bad)) % 3
        cut = (s.str.len() * 0.6).astype(int).to_numpy()
        truncated = np.array([x[:k] for x, k in zip(s, cut)], dtype=object)   # the few broken lines only
        lines[bad] = np.where(kind == 0, truncated, np.where(kind == 1, s.str.replace('":"', '":', n=1, regex=False),
                                                               s.str[:-1] + ",}"))
    return lines


def write_delivery(df: pd.DataFrame, department: str, extract_date: str, folder: Path, rng,
                   manifest: bool = True) -> tuple[Path, int]:
    """Write one department's delivery (data file + optional manifest.json) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data_file_name(department, extract_date)
    if department in (PUBLIC_SECURITY, CIVIL_AFFAIRS):
        rows = write_csv(df, department, path)
    elif department == FAMILY_PLANNING:
        rows = write_xlsx(df, department, path)
    elif department == LABOUR:
        rows = write_jsonl(df, department, path, rng)
    else:
        raise ValueError(f"unknown department {department!r}")
    man = folder / "manifest.json"
    if manifest:
        man.write_text(json.dumps({"department": department, "extract_date": extract_date, "file": path.name,
                                   "rows": rows, "sha256": sha256_of(path)}, ensure_ascii=False, indent=2) + "\n",
                       encoding="utf-8")
    elif man.exists():
        man.unlink()
    return path, rows
