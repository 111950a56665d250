"""The SQL functions the comparisons call by name, each declared once with its body in every engine's SQL.

Why the project's own functions: DuckDB 2.0.0 counts `levenshtein`, `jaro_winkler_similarity` and
`hamming` in UTF-8 *bytes* (a one-character change in a hanzi name is a distance of 3), Spark in
characters; an engine upgrade must never change match weights silently. These functions say exactly
what they count, and `tests/linkage/test_functions.py` proves both bodies give the same answer on
Chinese strings. They are also opaque calls to sqlglot, which Splink uses to read comparison SQL.

Both bodies are set-based SQL expressions (list functions with lambdas), no Python per row:
DuckDB registers them as macros (backend.register_functions), Spark as SQL functions, which its
optimiser inlines like any expression (engines.on_spark). A new function is one more entry below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkageFunction:
    name: str
    params: str  # "a STRING, b STRING": names and Spark types (DuckDB macros take the names)
    returns: str  # Spark type
    duckdb: str
    spark: str
    doc: str

    @property
    def param_names(self) -> str:
        return ", ".join(p.split()[0] for p in self.params.split(","))

    def duckdb_sql(self) -> str:
        return f"CREATE OR REPLACE TEMP MACRO {self.name}({self.param_names}) AS ({self.duckdb})"

    def spark_sql(self) -> str:
        return f"CREATE OR REPLACE TEMPORARY FUNCTION {self.name}({self.params}) RETURNS {self.returns} RETURN {self.spark}"


# Spark's sequence(1, 0) is [1, 0], not empty as DuckDB's range(1, 1): the Spark bodies guard lengths below 1.
# DuckDB's hamming refuses empty strings: its bodies guard them.
# Byte-level twins compare `encode(x, 'UTF-8')` (BINARY; substr counts bytes there).
_SPARK_BYTE_MISMATCHES = """size(filter(sequence(1, octet_length(a)),
                                i -> substr(encode(a, 'UTF-8'), i, 1) <> substr(encode(b, 'UTF-8'), i, 1)))"""

# Syllables at which two pinyin strings differ, '?' (an unknown reading) matching any syllable; the two
# engines pair the syllables with their own list functions. Both split on single spaces alike (empty
# strings kept), and compare the syllable counts on the spaces first: most pairs stop there.
_SAME_SYLLABLE_COUNT = {
    "duckdb": "length({a}) - length(replace({a}, ' ', '')) = length({b}) - length(replace({b}, ' ', ''))",
    "spark": "char_length({a}) - char_length(replace({a}, ' ', '')) = char_length({b}) - char_length(replace({b}, ' ', ''))",
}
_SYLLABLE_MISMATCHES = {
    "duckdb": """len(list_filter(list_zip(string_split({a}, ' '), string_split({b}, ' ')),
                                 lambda p: p[1] <> p[2] AND p[1] <> '?' AND p[2] <> '?'))""",
    "spark": """size(filter(zip_with(split({a}, ' '), split({b}, ' '),
                                     (x, y) -> x <> y AND x <> '?' AND y <> '?'), v -> v))""",
}


def _syllables(engine: str, a: str = "a", b: str = "b") -> tuple[str, str]:
    return _SAME_SYLLABLE_COUNT[engine].format(a=a, b=b), _SYLLABLE_MISMATCHES[engine].format(a=a, b=b)


def _pinyin_equal(engine: str) -> str:
    same_count, mismatches = _syllables(engine)
    return f"""CASE WHEN a IS NULL OR b IS NULL THEN NULL
                    WHEN a = b THEN TRUE
                    WHEN instr(a, '?') = 0 AND instr(b, '?') = 0 THEN FALSE
                    WHEN NOT ({same_count}) THEN FALSE
                    ELSE {mismatches} = 0 END"""


def _syllable_mismatches(engine: str) -> str:
    same_count, mismatches = _syllables(engine)
    return f"""CASE WHEN a IS NULL OR b IS NULL OR NOT ({same_count}) THEN NULL
                    ELSE {mismatches} END"""


FUNCTIONS: tuple[LinkageFunction, ...] = (
    LinkageFunction(
        "reg_char_mismatches", "a STRING, b STRING", "INT",
        doc="Number of character positions at which two strings of equal length differ; NULL when the "
            "lengths differ (a hamming distance on characters, not bytes).",
        duckdb="""CASE WHEN a IS NULL OR b IS NULL OR length(a) <> length(b) THEN NULL
                       ELSE len(list_filter(range(1, length(a) + 1),
                                            lambda i: substr(a, i, 1) <> substr(b, i, 1))) END""",
        spark="""CASE WHEN a IS NULL OR b IS NULL OR char_length(a) <> char_length(b) THEN NULL
                      WHEN char_length(a) = 0 THEN 0
                      ELSE size(filter(sequence(1, char_length(a)), i -> substr(a, i, 1) <> substr(b, i, 1))) END""",
    ),
    LinkageFunction(
        "reg_ascii_mismatches", "a STRING, b STRING", "INT",
        doc="The same for ASCII-only strings (normalised identity numbers): DuckDB's built-in hamming, which "
            "counts bytes, is exact there and far cheaper than the character list above. Both bodies count "
            "bytes, so they agree on any string.",
        duckdb="""CASE WHEN a IS NULL OR b IS NULL OR strlen(a) <> strlen(b) THEN NULL WHEN strlen(a) = 0 THEN 0
                       ELSE hamming(a, b) END""",
        spark=f"""CASE WHEN a IS NULL OR b IS NULL OR octet_length(a) <> octet_length(b) THEN NULL
                       WHEN octet_length(a) = 0 THEN 0
                       ELSE {_SPARK_BYTE_MISMATCHES} END""",
    ),
    LinkageFunction(
        "reg_adjacent_swap", "a STRING, b STRING", "BOOLEAN",
        doc="Two ASCII strings of equal length that become equal when two adjacent characters of one are "
            "swapped (a classic keying error in identity numbers: 1234 -> 1324).",
        duckdb="""CASE WHEN a IS NULL OR b IS NULL OR strlen(a) <> strlen(b) OR strlen(a) < 2 THEN FALSE
                       WHEN hamming(a, b) <> 2 THEN FALSE
                       ELSE len(list_filter(range(1, length(a)),
                              lambda i: substr(a, i, 1) <> substr(b, i, 1)
                                    AND substr(a, i, 1) = substr(b, i + 1, 1)
                                    AND substr(a, i + 1, 1) = substr(b, i, 1)
                                    AND substr(a, 1, i - 1) = substr(b, 1, i - 1)
                                    AND substr(a, i + 2) = substr(b, i + 2))) = 1 END""",
        spark=f"""CASE WHEN a IS NULL OR b IS NULL OR octet_length(a) <> octet_length(b) THEN FALSE
                       WHEN {_SPARK_BYTE_MISMATCHES} <> 2 OR char_length(a) < 2 THEN FALSE
                       ELSE size(filter(sequence(1, char_length(a) - 1),
                              i -> substr(a, i, 1) <> substr(b, i, 1)
                                   AND substr(a, i, 1) = substr(b, i + 1, 1)
                                   AND substr(a, i + 1, 1) = substr(b, i, 1)
                                   AND substr(a, 1, i - 1) = substr(b, 1, i - 1)
                                   AND substr(a, i + 2) = substr(b, i + 2))) = 1 END""",
    ),
    LinkageFunction(
        "reg_birth_months", "y BIGINT, m BIGINT", "BIGINT",
        doc="Months since year 0 for a (year, month) birth: compares day- and month-precision dates.",
        duckdb="y * 12 + m",
        spark="y * 12 + m",
    ),
    LinkageFunction(
        "reg_syllable_mismatches", "a STRING, b STRING", "INT",
        doc="Number of syllables at which two pinyin strings (syllables separated by single spaces) of the same "
            "syllable count differ, '?' (a character whose reading the standardisation does not know) matching "
            "any syllable; NULL when the counts differ. 'li ming hua' / 'li min hua' -> 1.",
        duckdb=_syllable_mismatches("duckdb"),
        spark=_syllable_mismatches("spark"),
    ),
    LinkageFunction(
        "reg_pinyin_equal", "a STRING, b STRING", "BOOLEAN",
        doc="Two names' pinyin equal syllable by syllable, where '?' equals any syllable: 'zhao ?' and "
            "'zhao ji' (the same name typed 赵Ji, 𠮷 having no known reading) agree. FALSE when the syllable "
            "counts differ.",
        duckdb=_pinyin_equal("duckdb"),
        spark=_pinyin_equal("spark"),
    ),
)

BY_NAME = {f.name: f for f in FUNCTIONS}
