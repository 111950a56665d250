"""A workbook sheet read row by row, for when its XML is broken somewhere.

The fast reader (python-calamine) reads a sheet whole or not at all: one broken row in a sound zip
fails the sheet. This reader judges each `<row>` of the sheet on its own, as a strict XML parser sees
it: a row that parses gives its cells exactly as calamine would (shared and inline strings, numbers,
booleans, date cells by their number format); a row that does not is handed back as broken, with its
sheet row number and raw XML, to be quarantined. It is slower than calamine and runs only after
calamine failed. Whole-workbook parts (workbook, relationships, shared strings, styles) that are broken
make the delivery unreadable: DeliveryRejected, naming the part and the parser's position.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from registry.departments.landing import DeliveryRejected

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_M = "{" + MAIN + "}"

# Built-in number formats that show a date or time (ECMA-376 18.8.30), besides custom formats with y/m/d/h.
_BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(45, 48)) | set(range(27, 37)) | set(range(50, 59))
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ROW_START = re.compile(r"<(?:\w+:)?row\b")
_ROW_NUMBER = re.compile(r"""^<(?:\w+:)?row\b[^>]*?\sr\s*=\s*["'](\d+)["']""")
_NAMESPACES = re.compile(r"""\sxmlns(?::\w+)?\s*=\s*(["']).*?\1""")
_SHARED_CELL = re.compile(r"""<(?:\w+:)?c\b[^>]*\bt\s*=\s*["']s["'][^>]*>\s*<(?:\w+:)?v>\s*(\d+)\s*<""")
_INLINE_TEXT = re.compile(r"<(?:\w+:)?t\b[^>]*>([^<]*)<")


def _texts_in(xml: str, strings: list[str]) -> list[str]:
    """The strings of a broken row that can still be made out, shared or inline (best effort)."""
    found = [strings[int(i)] for i in _SHARED_CELL.findall(xml) if int(i) < len(strings)]
    return found + _INLINE_TEXT.findall(xml)


@dataclass
class BrokenRow:
    row: int        # the sheet's row number (1-based), from the row's r attribute or its position
    xml: str        # the row's XML as delivered
    error: str      # what the XML parser said
    texts: list[str] = field(default_factory=list)  # the strings still recognisable in it (to name the record)


@dataclass
class SheetRows:
    rows: list[list] = field(default_factory=list)        # index = sheet row number - 1; broken rows empty
    broken: list[BrokenRow] = field(default_factory=list)


def _parse_part(book: zipfile.ZipFile, part: str, path: Path) -> ET.Element:
    try:
        return ET.fromstring(book.read(part))
    except KeyError:
        raise DeliveryRejected(f"{path.name}: workbook part {part} is missing") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise DeliveryRejected(f"{path.name}: workbook part {part} is not well-formed XML at line {line}, "
                               f"column {column} ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DeliveryRejected(f"{path.name}: workbook part {part} cannot be read ({exc})") from None


def _sheet_part(book: zipfile.ZipFile, sheet: str, path: Path) -> str:
    workbook = _parse_part(book, "xl/workbook.xml", path)
    rid = next((s.get(f"{{{RELATIONSHIPS}}}id") for s in workbook.iter(f"{_M}sheet") if s.get("name") == sheet), None)
    if rid is None:
        names = [s.get("name") for s in workbook.iter(f"{_M}sheet")]
        raise DeliveryRejected(f"{path.name}: sheet {sheet!r} missing (sheets: {', '.join(names) or 'none'})")
    rels = _parse_part(book, "xl/_rels/workbook.xml.rels", path)
    target = next((r.get("Target") for r in rels.iter(f"{{{PACKAGE_RELATIONSHIPS}}}Relationship")
                   if r.get("Id") == rid), None)
    if not target:
        raise DeliveryRejected(f"{path.name}: sheet {sheet!r} has no part in xl/_rels/workbook.xml.rels")
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _shared_strings(book: zipfile.ZipFile, path: Path) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    root = _parse_part(book, "xl/sharedStrings.xml", path)
    return [_text_of(si) for si in root.iter(f"{_M}si")]


def _date_styles(book: zipfile.ZipFile, path: Path) -> set[int]:
    """Indexes of the cell formats (the `s` of a cell) that show a number as a date."""
    if "xl/styles.xml" not in book.namelist():
        return set()
    root = _parse_part(book, "xl/styles.xml", path)
    custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in root.iter(f"{_M}numFmt")}

    def is_date(fmt_id: int) -> bool:
        if fmt_id in custom:
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", custom[fmt_id]).lower()
            return bool(re.search(r"[ymdh]", code))
        return fmt_id in _BUILTIN_DATE_FORMATS

    xfs = root.find(f"{_M}cellXfs")
    return {i for i, xf in enumerate(xfs if xfs is not None else ()) if is_date(int(xf.get("numFmtId", 0)))}


def _text_of(element: ET.Element) -> str:
    """A string item's text: its <t>, or its rich-text runs' <t>s joined (phonetic runs left out)."""
    t = element.find(f"{_M}t")
    if t is not None:
        return t.text or ""
    return "".join(run.findtext(f"{_M}t") or "" for run in element.findall(f"{_M}r"))


def _column_index(reference: str | None, fallback: int) -> int:
    letters = re.match(r"[A-Z]+", reference or "")
    if not letters:
        return fallback
    number = 0
    for ch in letters.group(0):
        number = number * 26 + ord(ch) - 64
    return number - 1


def _cell_value(c: ET.Element, strings: list[str], date_styles: set[int]):
    kind = c.get("t", "n")
    v = c.find(f"{_M}v")
    text = v.text if v is not None else None
    if kind == "inlineStr":
        is_ = c.find(f"{_M}is")
        return _text_of(is_) if is_ is not None else ""
    if text is None:
        return ""
    if kind == "s":
        return strings[int(text)]
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text.strip() == "1"
    if kind == "d":
        return text
    number = float(text)
    if int(c.get("s", 0)) in date_styles:
        moment = _EXCEL_EPOCH + dt.timedelta(days=number)
        return moment.date() if moment.time() == dt.time() else moment
    return number


def check_shared_strings(path: Path) -> None:
    """The workbook's shared strings are well-formed XML, else DeliveryRejected naming the position.

    Every string cell of the sheet points into them, and calamine reads a broken part leniently (an
    item comes back empty): checked strictly before the cells are trusted. A fast streaming parse
    (expat, no tree); the row-by-row reading is for the sheet itself."""
    import xml.parsers.expat

    try:
        with zipfile.ZipFile(path) as book:
            if "xl/sharedStrings.xml" not in book.namelist():
                return
            parser = xml.parsers.expat.ParserCreate()
            with book.open("xl/sharedStrings.xml") as part:
                for block in iter(lambda: part.read(1 << 22), b""):
                    parser.Parse(block, False)
            parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise DeliveryRejected(f"{path.name}: workbook part xl/sharedStrings.xml is not well-formed XML at line "
                               f"{exc.lineno}, column {exc.offset} ({xml.parsers.expat.ErrorString(exc.code)}); "
                               "every text cell of the sheet depends on it") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DeliveryRejected(f"{path.name}: workbook part xl/sharedStrings.xml cannot be read ({exc})") from None


def read_sheet_rows(path: Path, sheet: str) -> SheetRows:
    """Every row of the sheet, judged one by one (see the module docstring)."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DeliveryRejected(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    with book:
        part = _sheet_part(book, sheet, path)
        strings = _shared_strings(book, path)
        date_styles = _date_styles(book, path)
        try:
            xml = book.read(part).decode("utf-8")
        except KeyError:
            raise DeliveryRejected(f"{path.name}: sheet {sheet!r}: part {part} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise DeliveryRejected(f"{path.name}: sheet {sheet!r}: part {part} cannot be read ({exc})") from None

    root_tag = re.search(r"<(?:\w+:)?worksheet\b[^>]*>", xml)
    data = re.search(r"<(?:\w+:)?sheetData\b[^>]*?(/?)>", xml)
    if root_tag is None or data is None:
        raise DeliveryRejected(f"{path.name}: sheet {sheet!r}: part {part} has no worksheet data (<sheetData>)")
    if data.group(1) == "/":
        return SheetRows()
    wrapper = "<rows" + "".join(m.group(0) for m in _NAMESPACES.finditer(root_tag.group(0))) + ">{}</rows>"
    body_end = re.search(r"</(?:\w+:)?sheetData\s*>", xml[data.end():])
    body = xml[data.end(): data.end() + body_end.start()] if body_end else xml[data.end():]

    out = SheetRows()
    starts = [m.start() for m in _ROW_START.finditer(body)]
    previous = 0
    for i, start in enumerate(starts):
        chunk = body[start: starts[i + 1] if i + 1 < len(starts) else len(body)].strip()
        number = _ROW_NUMBER.match(chunk)
        row_number = int(number.group(1)) if number else previous + 1
        previous = row_number
        try:
            wrapped = ET.fromstring(wrapper.format(chunk))
            if len(wrapped) != 1 or (wrapped[0].tail or "").strip():
                raise ET.ParseError("something other than one row between this row and the next")
            element = wrapped[0]
            cells: dict[int, object] = {}
            for k, c in enumerate(element.iter(f"{_M}c")):
                cells[_column_index(c.get("r"), k)] = _cell_value(c, strings, date_styles)
        except ET.ParseError as exc:
            line, column = exc.position
            where = column - wrapper.index("{") if line == 1 else None
            what = re.sub(r": line \d+, column \d+$", "", str(exc))
            out.broken.append(BrokenRow(row_number, chunk, what + (f" at character {where + 1} of the row" if where
                                                                   and where >= 0 else f" at line {line} of the row"),
                                        _texts_in(chunk, strings)))
            cells = {}
        except (ValueError, IndexError) as exc:  # a shared string or number that does not exist
            out.broken.append(BrokenRow(row_number, chunk, f"{type(exc).__name__}: {exc}", _texts_in(chunk, strings)))
            cells = {}
        while len(out.rows) < row_number:
            out.rows.append([])
        width = max(cells) + 1 if cells else 0
        out.rows[row_number - 1] = [cells.get(j, "") for j in range(width)]
    return out
