"""Faults put into real delivery files, as they arrive from the departments' systems: each helper edits
one file in place and returns the record key of the row it broke."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import duckdb


def rewrite_member(path: Path, member: str, edit) -> None:
    """The workbook with one zip member's text edited: a sound zip around broken XML."""
    with zipfile.ZipFile(path) as book:
        parts = [(info, book.read(info.filename)) for info in book.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, edit(data.decode("utf-8")).encode("utf-8") if info.filename == member else data)


def sheet_member(path: Path, sheet: str = "个案信息") -> str:
    with zipfile.ZipFile(path) as book:
        workbook = book.read("xl/workbook.xml").decode("utf-8")
        rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="(\w+)"', workbook).group(1)
    target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"|<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"',
                       rels)
    target = target.group(1) or target.group(2)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def break_sheet_row(path: Path, row: int, key: str) -> str:
    """Row `row` of the sheet gets an unclosed <c> element; returns `key`, the record key it holds."""
    rewrite_member(path, sheet_member(path), lambda x: re.sub(rf'(<row r="{row}"[^>]*>)', r"\1<c><v>1</c>", x, count=1))
    return key


def replace_line(path: Path, line: int, text: str, encoding: str = "utf-8") -> str:
    """Physical line `line` (1-based) replaced by `text`; returns the line it replaced."""
    raw = path.read_bytes().decode(encoding)
    newline = "\r\n" if "\r\n" in raw else "\n"
    lines = raw.split(newline)
    old, lines[line - 1] = lines[line - 1], text
    path.write_bytes(newline.join(lines).encode(encoding))
    return old


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(database: Path, sql: str, params=None):
    """Rows of one query on a DuckDB file, opened read-only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def published(home: Path, sql: str, params=None):
    return query(home / "published" / "registry.duckdb", sql, params)
