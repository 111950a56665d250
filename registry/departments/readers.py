"""Read one delivery file, in its declared format and encoding, into a DuckDB staging table.

Every reader produces the same two temp tables:
  <stage>           the department's columns (VARCHAR, '' -> NULL) + _source_line BIGINT
  <stage>_problems  rows that could not be parsed: line, record_key, field, value, reason
and returns the number of data rows delivered (parsed + unparseable; header and blank lines excluded).
Whole-file problems (encoding, missing column or sheet, no data rows) raise DeliveryRejected.

Line numbers are physical lines of the file (header = line 1) for CSV and JSON Lines, and sheet
rows (header = row 1) for XLSX (registry/departments/workbook.py reads those).
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import duckdb
import numpy as np

from registry.contracts import department as department_spec
from registry.departments import COLUMNS, RECORD_KEYS
from registry.departments.landing import DeliveryRejected
from registry.departments.staging import Staged, check_columns
from registry.departments.workbook import read_xlsx_delivery
from registry.sql import quote_identifier as _q
from registry.sql import quote_literal as _sql_str

_CHUNK = 1 << 24  # 16 MiB: bounded memory while transcoding
_BOM = b"\xef\xbb\xbf"
_VALUE_CAP = 500  # quarantined raw lines are cut to this many characters


# ---------------------------------------------------------------- text files: encoding and newlines

def prepare_text(path: Path, encoding: str, workdir: Path, *, force_copy: bool = False) -> Path:
    """Check the whole file decodes with its declared encoding; return a UTF-8, '\\n'-terminated,
    BOM-free file for DuckDB (the original when it already is one, else a transcoded copy)."""
    declared = "GB18030" if encoding == "gb18030" else "UTF-8"
    codec = "gb18030" if encoding == "gb18030" else "utf-8"
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    first_line = head.split(b"\n", 1)[0].removeprefix(_BOM)
    if codec == "gb18030" and not first_line.isascii():
        # GB18030 decodes almost any byte string, so a UTF-8 file would pass as mojibake: look first.
        try:
            first_line.decode("utf-8")
            raise DeliveryRejected(f"{path.name}: line 1: the file is encoded UTF-8, but the department "
                                   f"delivers {declared}")
        except UnicodeDecodeError:
            pass
    if codec == "gb18030" and head.startswith(_BOM):
        raise DeliveryRejected(f"{path.name}: line 1: starts with a UTF-8 byte-order mark, but the "
                               f"department delivers {declared}")

    needs_copy = force_copy or codec != "utf-8" or head.startswith(_BOM) or b"\r" in head
    saw_cr = False
    out_path = Path(tempfile.mkstemp(suffix=".utf8", dir=workdir)[1])
    lines_before = 0
    offset = 0
    pending = b""
    try:
        with open(path, "rb") as src, open(out_path, "wb") as dst:
            first = True
            while True:
                block = src.read(_CHUNK)
                data = pending + block
                if not data:
                    break
                # Cut at the last newline: 0x0A is never inside a multi-byte character in UTF-8
                # or GB18030, so every piece decodes on its own and errors get exact positions.
                cut = data.rfind(b"\n") + 1 if block else len(data)
                if cut == 0:
                    pending = data
                    continue
                piece, pending = data[:cut], data[cut:]
                if first and piece.startswith(_BOM) and codec == "utf-8":
                    piece = piece[3:]
                    offset += 3
                first = False
                try:
                    text = piece.decode(codec)
                except UnicodeDecodeError as exc:
                    line = lines_before + piece.count(b"\n", 0, exc.start) + 1
                    hint = (" (is it GB18030?)" if codec == "utf-8" else "")
                    raise DeliveryRejected(
                        f"{path.name}: line {line}: bytes {piece[exc.start:exc.start + 4].hex(' ')} at byte "
                        f"offset {offset + exc.start} are not valid {declared}{hint}") from None
                lines_before += piece.count(b"\n")
                offset += len(piece)
                if b"\r" in piece:
                    saw_cr = True
                    text = text.replace("\r\n", "\n")
                if codec != "utf-8" or needs_copy:
                    dst.write(text.encode("utf-8"))
                if not block:
                    break
        if not needs_copy:
            out_path.unlink()
            # CRs late in the file: copy after all, so that lines end in '\n' only
            return prepare_text(path, encoding, workdir, force_copy=True) if saw_cr else path
        return out_path
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise


def _read_header(text_path: Path, source: Path) -> list[str]:
    with open(text_path, encoding="utf-8") as fh:
        first = fh.readline()
    if not first.strip():
        raise DeliveryRejected(f"{source.name}: empty file (no header row, no data rows)")
    return next(csv.reader(io.StringIO(first.removeprefix("\ufeff").rstrip("\n"))))


def _physical_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _longest_line(path: Path) -> int:
    """Bytes in the file's longest line (its newline not counted)."""
    longest, run = 0, 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(ends) == 0:
                run += len(chunk)
                continue
            longest = max(longest, run + int(ends[0]), int(np.diff(ends).max()) - 1 if len(ends) > 1 else 0)
            run = len(chunk) - int(ends[-1]) - 1
    return max(longest, run)


def _over_lines(con: duckdb.DuckDBPyConnection, text_path: Path, statement) -> None:
    """Run statement(lines), `lines` being a table function of the file's physical lines (one VARCHAR
    `line` each, in file order). A line longer than DuckDB's default limit (2 MB) is read whole, as
    every other line: the file is measured and read again with a limit that fits its longest line."""
    def reader(options: str = "") -> str:
        return (f"read_csv({_sql_str(str(text_path))}, columns={{'line': 'VARCHAR'}}, header=false, "
                f"auto_detect=false, delim=chr(0), quote='', escape='', strict_mode=false{options})")

    try:
        con.execute(statement(reader()))
    except duckdb.InvalidInputException as exc:
        if "Maximum line size" not in str(exc):
            raise
        con.execute(statement(reader(f", max_line_size={_longest_line(text_path) + 2}")))


def _line_map(con: duckdb.DuckDBPyConnection, text_path: Path, name: str, literal: set[int]) -> None:
    """<name>(p, d, is_record): physical line p; d counts line starts outside quotes the way DuckDB's
    CSV rejects number lines (blank lines counted, newlines inside quoted values not). `literal`: the
    lines whose odd quote is a value's own character (see _quote_lines), which opens nothing."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_literal AS SELECT unnest(?::BIGINT[]) AS p", [sorted(literal)])
    _over_lines(con, text_path, lambda lines: f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH lines AS (
            SELECT ordinality AS p, line,
                   coalesce(length(line) - length(replace(line, '"', '')), 0) AS quotes
            FROM {lines} WITH ORDINALITY),
        counted AS (
            SELECT p, line, quotes - CASE WHEN p IN (SELECT p FROM {name}_literal) THEN 1 ELSE 0 END AS quotes
            FROM lines),
        parity AS (
            SELECT p, line, coalesce(sum(quotes) OVER (ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING
                                                       AND 1 PRECEDING), 0) % 2 = 1 AS continuation
            FROM counted)
        SELECT p, row_number() OVER (ORDER BY p) AS d, line IS NOT NULL AND trim(line) <> '' AS is_record
        FROM parity WHERE NOT continuation""")
    con.execute(f"DROP TABLE {name}_literal")


# A field holding a record key (two capitals and ten digits), quoted or not: the start of a record.
_RECORD_START = r"""(^|,)\s*"?[A-Z]{2}[0-9]{10}"?\s*(,|$)"""
# A line with its whole quoted fields ("...", doubled quotes inside) taken out; twice, as one pass
# leaves every other of two adjacent quoted fields (they share the comma between them).
_WHOLE_FIELDS_OUT = """regexp_replace({}, '(^|,)\\s*"(?:[^"]|"")*"\\s*(,|$)', '\\1\\2', 'g')"""
_STRAY_QUOTE = ('unparseable_row: an unmatched quote (") on this line would run its value into the '
                'lines after it; the line is set aside, the lines after it are read on their own')


def _parse_csv(con, text_path: Path, stage: str, columns: str, select: str) -> None:
    rejects, scans = f"{stage}_rejects", f"{stage}_scans"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage}_parsed AS
        SELECT {select}, ordinality + 1 AS _source_line
        FROM read_csv({_sql_str(str(text_path))}, columns={columns}, header=true, auto_detect=false,
                      delim=',', quote='"', escape='"', store_rejects=true,
                      rejects_table={_sql_str(rejects)}, rejects_scan={_sql_str(scans)},
                      max_line_size=4194304) WITH ORDINALITY""")


def _parsed_cleanly(con, stage: str, department: str) -> bool:
    """No row rejected and no value over several lines: quotes did nothing worth a second look."""
    spans = " OR ".join(f"contains({_q(c)}, chr(10))" for c in COLUMNS[department])
    return not con.execute(f"""SELECT EXISTS (SELECT 1 FROM {stage}_rejects)
                                      OR EXISTS (SELECT 1 FROM {stage}_parsed WHERE {spans})""").fetchall()[0][0]


def _quote_lines(con, text_path: Path, stage: str) -> tuple[list[tuple[int, str]], set[int]]:
    """The lines with an odd number of quotes, sorted out: (stray, literal).

    Outside a quoted value, an odd line whose leftover quote starts a field opens one, and the next odd
    line closes it; an odd line whose leftover quote sits inside an unquoted value holds it as the
    value's own character (literal: it opens nothing). A value opened right before the next record (or
    the end of the file) is a quote nothing closes (stray): it would swallow the lines after it."""
    found = f"{stage}_odd"
    _over_lines(con, text_path, lambda lines: f"""
        CREATE OR REPLACE TEMP TABLE {found} AS
        WITH lines AS (
            SELECT ordinality AS p, line FROM {lines} WITH ORDINALITY WHERE line IS NOT NULL AND trim(line) <> ''),
        next AS (SELECT p, line, lead(line) OVER (ORDER BY p) AS next_line FROM lines)
        SELECT p, line, next_line IS NULL OR regexp_matches(next_line, {_sql_str(_RECORD_START)}) AS record_next,
               regexp_matches({_WHOLE_FIELDS_OUT.format(_WHOLE_FIELDS_OUT.format("line"))}, '(^|,)\\s*"') AS opens
        FROM next WHERE p > 1 AND (length(line) - length(replace(line, '"', ''))) % 2 = 1
        ORDER BY p""")
    odd = con.execute(f"SELECT p, line, record_next, opens FROM {found}").fetchall()
    con.execute(f"DROP TABLE {found}")
    stray, literal, inside = [], set(), False
    for p, line, record_next, opens in odd:
        if inside:
            inside = False
        elif not opens:
            literal.add(p)
        elif record_next:
            stray.append((p, line))
        else:
            inside = True
    return stray, literal


def _blank_lines(text_path: Path, lines: set[int], workdir: Path) -> Path:
    """A copy of the file with those physical lines (1-based) emptied: the other lines keep their numbers."""
    out = Path(tempfile.mkstemp(suffix=".utf8", dir=workdir)[1])
    with open(text_path, "rb") as src, open(out, "wb") as dst:
        for number, line in enumerate(src, start=1):
            dst.write(b"\n" if number in lines else line)
    return out


def read_csv_delivery(con, path: Path, department: str, encoding: str, stage: str, workdir: Path) -> Staged:
    text_path = prepare_text(path, encoding, workdir)
    repaired = None
    try:
        header = _read_header(text_path, path)
        check_columns(header, department, path, "line 1 (header)")
        names = [h if h in COLUMNS[department] else f"_extra_{i}" for i, h in enumerate(header)]
        columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
        rejects, scans = f"{stage}_rejects", f"{stage}_scans"
        key = RECORD_KEYS[department]
        select = ", ".join(f"nullif({_q(c)}, '') AS {_q(c)}" for c in COLUMNS[department])
        _parse_csv(con, text_path, stage, columns, select)
        stray, literal = ([], None) if _parsed_cleanly(con, stage, department) else _quote_lines(con, text_path, stage)
        if stray:
            repaired = _blank_lines(text_path, {p for p, _ in stray}, workdir)
            for t in (rejects, scans):
                con.execute(f"DROP TABLE IF EXISTS {t}")
            _parse_csv(con, repaired, stage, columns, select)
            text_path, repaired = repaired, text_path
        parsed = con.execute(f"SELECT count(*) FROM {stage}_parsed").fetchall()[0][0]
        bad = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchall()[0][0]
        # _source_line is the physical line when every line is the header or one record (checked below)
        identity = not stray and _physical_lines(text_path) == 1 + parsed + bad
        if identity:
            # every line is the header or one record: line numbers need no map of the file
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {stage}_lines AS
                            SELECT range AS p, range AS d, true AS is_record
                            FROM range(1, {2 + parsed + bad})""")
        else:  # blank lines or newlines inside quoted values: map them
            if literal is None:
                _, literal = _quote_lines(con, text_path, stage)
            _line_map(con, text_path, f"{stage}_lines", literal)
    finally:
        for copy in (text_path, repaired):
            if copy is not None and copy != path:
                copy.unlink(missing_ok=True)
    key_pos = header.index(key)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage}_bad AS
        SELECT r.line AS d, min(m.p) AS p, first(r.csv_line) AS csv_line,
               string_agg(DISTINCT r.error_message, '; ' ORDER BY r.error_message) AS message
        FROM {rejects} r LEFT JOIN {stage}_lines m ON m.d = r.line
        GROUP BY r.line""")
    if identity and bad == 0:
        # the parsed rows are lines 2.. in order: their line numbers stand as they are (no copy)
        con.execute(f"ALTER TABLE {stage}_parsed RENAME TO {stage}")
    else:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {stage} AS
            WITH good AS (
                SELECT m.p, row_number() OVER (ORDER BY m.d) AS k
                FROM {stage}_lines m
                WHERE m.is_record AND m.d > 1 AND m.d NOT IN (SELECT d FROM {stage}_bad))
            SELECT s.* EXCLUDE (_source_line), g.p AS _source_line
            FROM {stage}_parsed s LEFT JOIN good g ON g.k = s._source_line - 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage}_problems AS
        SELECT coalesce(p, d)::BIGINT AS line,
               nullif(trim(split_part(replace(csv_line, chr(10), ''), ',', {key_pos + 1}), '" '), '') AS record_key,
               NULL::VARCHAR AS field, left(csv_line, {_VALUE_CAP}) AS value,
               CASE WHEN message ILIKE '%Expected Number of Columns%'
                    THEN 'wrong_field_count: ' || message ELSE 'unparseable_row: ' || message END AS reason
        FROM {stage}_bad""")
    if stray:
        con.executemany(f"""INSERT INTO {stage}_problems VALUES (?, nullif(trim(split_part(?, ',', {key_pos + 1}), '" '), ''),
                                NULL, left(?, {_VALUE_CAP}), ?)""", [(p, line, line, _STRAY_QUOTE) for p, line in stray])
    for t in (f"{stage}_parsed", f"{stage}_lines", f"{stage}_bad", rejects, scans):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    rows = con.execute(f"SELECT (SELECT count(*) FROM {stage}) + (SELECT count(*) FROM {stage}_problems)"
                       ).fetchall()[0][0]
    if con.execute(f"SELECT count(*) FROM {stage} WHERE _source_line IS NULL").fetchall()[0][0]:
        raise DeliveryRejected(f"{path.name}: the line numbers of its rows could not be established "
                               f"(unbalanced quotes?)")
    return Staged(stage, f"{stage}_problems", int(rows))


# ---------------------------------------------------------------- JSON Lines

# DuckDB's JSON reader is lenient (trailing commas, NaN/Infinity, comments); DEPARTMENTS.md says a line
# that is not valid JSON is quarantined, so what only the lenient reader accepts is refused here.
# String literals are blanked first so that a comma or a word inside a value never counts. Blanking
# only takes characters away, so a line without any of these characters at all cannot match: the
# cheap `_MAYBE_LENIENT` test spares the costly blanking for nearly every line (same verdicts).
_MAYBE_LENIENT = (r"""(contains(line, 'NaN') OR contains(line, 'Infinity') OR contains(line, '//') """
                  r"""OR contains(line, '/*') OR regexp_matches(line, ',\s*[}\]]'))""")
# (CASE, not AND: DuckDB evaluates both sides of an AND in a select list.)
_STRICT_JSON = (r"""json_valid(line) AND NOT CASE WHEN """ + _MAYBE_LENIENT + r""" THEN regexp_matches("""
                r"""regexp_replace(line, '"(?:[^"\\]|\\.)*"', '""', 'g'), """
                r"""',\s*[}\]]|\b(?:NaN|Infinity)\b|//|/\*') ELSE false END""")

def read_jsonl_delivery(con, path: Path, department: str, stage: str, workdir: Path) -> Staged:
    text_path = prepare_text(path, "utf-8", workdir)
    key = RECORD_KEYS[department]
    cols = COLUMNS[department]
    paths = "[" + ", ".join(_sql_str("$." + '"' + c + '"') for c in cols) + "]"
    try:
        _over_lines(con, text_path, lambda lines: f"""
            CREATE OR REPLACE TEMP TABLE {stage}_lines AS
            SELECT p, line, ok, CASE WHEN ok THEN json_type(line) END AS kind
            FROM (SELECT ordinality AS p, line, {_STRICT_JSON} AS ok
                  FROM {lines} WITH ORDINALITY
                  WHERE line IS NOT NULL AND trim(line) <> '')""")
    finally:
        if text_path != path:
            text_path.unlink(missing_ok=True)
    rows = con.execute(f"SELECT count(*) FROM {stage}_lines").fetchall()[0][0]
    if rows == 0:
        raise DeliveryRejected(f"{path.name}: empty file (no data lines)")
    select = ", ".join(f"nullif(v[{i + 1}], '') AS {_q(c)}" for i, c in enumerate(cols))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage} AS
        SELECT {select}, p AS _source_line
        FROM (SELECT p, json_extract_string(line, {paths}) AS v
              FROM {stage}_lines WHERE ok AND kind = 'OBJECT')""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage}_problems AS
        SELECT p::BIGINT AS line, regexp_extract(line, '"{key}"\\s*:\\s*"([^"]*)"', 1) AS record_key,
               NULL::VARCHAR AS field, left(line, {_VALUE_CAP}) AS value,
               CASE WHEN ok THEN 'not_a_json_object: the line is JSON ' || lower(kind) || ', not an object'
                    ELSE 'invalid_json: the line is not valid JSON' END AS reason
        FROM {stage}_lines WHERE NOT ok OR kind <> 'OBJECT'""")
    con.execute(f"UPDATE {stage}_problems SET record_key = NULL WHERE record_key = ''")
    con.execute(f"DROP TABLE {stage}_lines")
    has_key = con.execute(f"SELECT count({_q(key)}) FROM {stage}").fetchall()[0][0]
    if has_key == 0:
        raise DeliveryRejected(f"{path.name}: no line carries the record key {key!r} "
                               f"(wrong file or wrong keys?)")
    return Staged(stage, f"{stage}_problems", int(rows))


def read_delivery(con, path: Path, department: str, stage: str, workdir: Path | None = None) -> Staged:
    """The delivery staged (see the module docstring); every failure to parse it is a DeliveryRejected
    naming the file, so that a night refuses it like any other broken delivery (and --accept-rejected
    gets past it), never a crash of the night."""
    spec = department_spec(department)
    workdir = Path(workdir or tempfile.gettempdir())
    if path.stat().st_size == 0:
        raise DeliveryRejected(f"{path.name}: empty file (0 bytes)")
    try:
        if spec.file_format == "csv":
            staged = read_csv_delivery(con, path, department, spec.encoding, stage, workdir)
        elif spec.file_format == "jsonl":
            staged = read_jsonl_delivery(con, path, department, stage, workdir)
        else:
            staged = read_xlsx_delivery(con, path, department, stage, workdir)
    except (DeliveryRejected, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - a parser's own error: the file is what is wrong
        first = (str(exc).strip().splitlines() or [""])[0]
        raise DeliveryRejected(f"{path.name}: could not be parsed ({type(exc).__name__}: {first[:300]})") from exc
    if staged.rows_delivered == 0:
        raise DeliveryRejected(f"{path.name}: no data rows")
    return staged
