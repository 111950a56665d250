"""Names: traditional -> simplified, inner spaces, minority separators, pinyin, surname / given name.

The character work (OpenCC, pypinyin) happens in Python on the set of DISTINCT tokens — single characters
and runs of latin letters — and is applied to whole columns in SQL through two MAPs.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata

import duckdb

from registry.package_files import package_file
from registry.standardise.lookups import char_lookup_sql, char_lookup_tables_sql, temp_table
from registry.standardise.text import without_controls_sql

# Minority-name separators as typed: middle dot, bullet, full stop, katakana middle dot, and friends;
# hyphens and dashes too (张-伟, ZHANG-Wei), which forms put between surname and given name.
SEPARATORS = "·•.・．‧∙⋅･\\-‐‑–—_"

COMPOUND_SURNAMES: tuple[str, ...] = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "万俟", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "公孙", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "公冶", "太史", "申屠",
    "闻人", "钟离", "赫连", "拓跋", "第五", "鲜于", "闾丘", "东郭", "公羊", "濮阳", "淳于", "单于", "仲孙",
)

# Old, vulgar and Japanese variant forms (异体字) still typed in names that OpenCC's tables leave alone
# (name_variants.csv); Japanese forms outside GB 2312 also go through OpenCC's jp2t.
VARIANTS_FILE = package_file("standardise", "name_variants.csv")


@functools.lru_cache(maxsize=1)
def variants() -> dict[str, str]:
    with open(VARIANTS_FILE, encoding="utf-8", newline="") as f:
        return {r["variant"]: r["standard"] for r in csv.DictReader(f) if r["variant"] != r["standard"]}


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


# Readings of characters as surnames where the everyday reading differs (polyphonic surnames).
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "乐": "yue", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "秘": "bi", "种": "chong", "缪": "miao", "翟": "zhai", "覃": "qin", "员": "yun", "召": "shao",
    "句": "gou", "繁": "po", "黑": "he", "任": "ren", "华": "hua", "那": "na", "宿": "su", "谌": "chen",
    "隗": "wei", "燕": "yan", "纪": "ji", "沈": "shen", "薄": "bo", "万": "wan", "车": "che", "长": "chang",
    "柏": "bai", "尉": "yu", "能": "nai", "相": "xiang", "曲": "qu", "折": "she", "贲": "ben", "madeup": "",
    "尉迟": "yu chi", "万俟": "mo qi", "长孙": "zhang sun", "澹台": "tan tai", "单于": "chan yu",
    "令狐": "ling hu", "仲孙": "zhong sun",
}
SURNAME_READINGS.pop("madeup")


# ---------------------------------------------------------------- pinyin syllables and segmentation

@functools.lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless Mandarin syllable pypinyin knows ('v' for ü), without the interjections m/n/ng/hm."""
    from pypinyin.constants import PINYIN_DICT

    out: set[str] = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = reading.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
            plain = "".join(c for c in unicodedata.normalize("NFD", plain) if not unicodedata.combining(c))
            if re.search(r"[aeiouv]", plain):
                out.add(plain)
    return frozenset(out)


# How ü is written where a keyboard or a passport has no ü: 吕 is lü, lv or (passports since 2012) lyu.
SYLLABLE_SPELLINGS = {"lyu": "lv", "nyu": "nv", "lyue": "lve", "nyue": "nve", "lue": "lve", "nue": "nve"}


def segment_pinyin(text: str) -> str:
    """'ZhangWei' -> 'zhang wei', 'LYU Wei' -> 'lv wei': fewest syllables that spell the run; the
    lower-cased run if none does."""
    s = text.lower().replace("ü", "v")
    sy = syllables()
    n = len(s)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            part = SYLLABLE_SPELLINGS.get(s[i:j], s[i:j])
            if part in sy and (best[j] is None or len(best[i]) + 1 < len(best[j])):
                best[j] = best[i] + [part]
    return " ".join(best[n]) if best[n] is not None else s


# ---------------------------------------------------------------- SQL

def clean_sql(raw: str) -> str:
    """Control characters removed (registry.standardise.text); full-width latin made ASCII; spaces next to a Chinese character removed, other runs of spaces
    collapsed to one (so 'ZHANG  Wei' keeps one); every separator written as '·'."""
    fw_from = "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚüÜ"
    fw_to = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzvV"
    s = f"translate(trim({without_controls_sql(raw)}, ' \t\u3000'), '{fw_from}', '{fw_to}')"
    s = f"regexp_replace({s}, '[\\s\\x{{3000}}\\x{{00A0}}]+', ' ', 'g')"
    s = f"regexp_replace({s}, ' ?([^\\x00-\\x7F]) ?', '\\1', 'g')"
    s = f"regexp_replace({s}, ' ?[{SEPARATORS}]+ ?', '·', 'g')"
    return f"nullif(trim({s}, ' ·'), '')"


TOKENS_SQL = "regexp_extract_all({0}, '[A-Za-z]+|[^A-Za-z]')"
_PLAIN = "replace(replace({0}, '·', ''), ' ', '')"


def _simplified_table(tokens: list[str]) -> list[tuple[str, str]]:
    """(token, simplified) for distinct tokens: a latin run is kept, a character goes through OpenCC t2s,
    then hk2s, then (a character outside GB 2312 only: 芸 and 予 are Chinese characters too) jp2t + t2s,
    then the variant table."""
    import opencc

    t2s, hk2s, jp2t = opencc.OpenCC("t2s"), opencc.OpenCC("hk2s"), opencc.OpenCC("jp2t")
    table = variants()

    def simplified(ch: str) -> str:
        ch = unicodedata.normalize("NFKC", ch)  # CJK compatibility ideographs -> the unified character
        out = t2s.convert(ch)
        if out == ch:
            out = hk2s.convert(ch)  # variant forms t2s leaves alone (衞 -> 卫)
        if out == ch and len(ch) == 1 and not _in_gb2312(ch):
            out = t2s.convert(jp2t.convert(ch))  # Japanese forms (徳 -> 德, 広 -> 广)
        return table.get(out, out)

    return [(t, t if re.fullmatch(r"[A-Za-z]+", t) else simplified(t)) for t in tokens]


UNKNOWN_READING = "?"


def _pinyin_table(tokens: list[str]) -> list[tuple[str, str]]:
    """(token, toneless pinyin) for distinct simplified tokens; '' for separators and non-Chinese signs,
    '?' for a Chinese character whose reading pypinyin does not know (a rare one: 𠮷), so that the name
    keeps its syllable count and the comparisons can match that syllable with anything."""
    from pypinyin import Style, lazy_pinyin

    rows = []
    for tok in tokens:
        if re.fullmatch(r"[A-Za-z]+", tok):
            rows.append((tok, segment_pinyin(tok)))
        elif tok in (" ", "·"):
            rows.append((tok, ""))
        else:
            py = lazy_pinyin(tok, style=Style.NORMAL, errors="ignore", v_to_u=False)
            py = py[0].lower() if py else ""
            if re.fullmatch(r"[a-z]+", py):
                rows.append((tok, py))
            else:
                ideograph = len(tok) == 1 and unicodedata.category(tok) == "Lo" and "CJK" in unicodedata.name(tok, "")
                rows.append((tok, UNKNOWN_READING if ideograph else ""))
    return rows


def _distinct_tokens(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    return sorted(r[0] for r in con.execute(
        f"SELECT DISTINCT unnest({TOKENS_SQL.format(column)}) FROM {table} UNION "
        f"SELECT DISTINCT unnest({TOKENS_SQL.format(_PLAIN.format(column))}) FROM {table}").fetchall())


def build_name_lookup(con: duckdb.DuckDBPyConnection, source: str, target: str = "_name_lookup") -> int:
    """From the DISTINCT raw names in `source(name_raw)`, create `target(name_raw, name, name_plain,
    name_pinyin, name_is_pinyin, surname, given_name)`. Returns the number of distinct names."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _name_clean AS
        SELECT name_raw, {clean_sql('name_raw')} AS cleaned FROM (SELECT DISTINCT name_raw FROM {source}
        WHERE name_raw IS NOT NULL)""")
    temp_table(con, "_name_simp", ("token", "simp"), _simplified_table(_distinct_tokens(con, "_name_clean", "cleaned")))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _name_simplified AS
        WITH m AS (SELECT {char_lookup_tables_sql('_name_simp', 'token', 'simp', 'simp')})
        SELECT name_raw, array_to_string(list_transform({TOKENS_SQL.format('cleaned')},
                                                        lambda t: coalesce({char_lookup_sql('t', 'simp')}, t)), '')
               AS name
        FROM _name_clean, m""")
    tokens = set(_distinct_tokens(con, "_name_simplified", "name"))
    tokens.update(c for surname in SURNAME_READINGS for c in surname)
    temp_table(con, "_name_pinyin", ("token", "py"), _pinyin_table(sorted(tokens)))
    temp_table(con, "_surname_readings", ("surname", "py"), list(SURNAME_READINGS.items()))
    compounds = ", ".join(f"'{c}'" for c in COMPOUND_SURNAMES)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {target} AS
        WITH m AS (
            SELECT {char_lookup_tables_sql('_name_pinyin', 'token', 'py', 'py')},
                   (SELECT map(list(surname), list(py)) FROM _surname_readings) AS surname_map
        ), parts AS (
            SELECT name_raw, name, {_PLAIN.format('name')} AS name_plain,
                   regexp_matches(name, '[A-Za-z]') AS name_is_pinyin
            FROM _name_simplified
        ), split AS (
            SELECT *,
                   CASE WHEN regexp_matches(name_plain, '^[A-Za-z]') THEN NULL
                        WHEN length(name_plain) > 2 AND substr(name_plain, 1, 2) IN ({compounds})
                        THEN substr(name_plain, 1, 2) ELSE substr(name_plain, 1, 1) END AS surname
            FROM parts
        )
        SELECT name_raw, name, name_plain,
               nullif(array_to_string(list_filter(
                   [CASE WHEN surname IS NOT NULL THEN coalesce(surname_map[surname], array_to_string(
                        list_filter(list_transform(string_split(surname, ''), lambda t: {char_lookup_sql('t', 'py')}),
                                    lambda p: coalesce(p, '') <> ''), ' ')) END]
                   || list_transform({TOKENS_SQL.format("substr(name_plain, coalesce(length(surname), 0) + 1)")},
                                     lambda t: {char_lookup_sql('t', 'py')}),
                   lambda p: coalesce(p, '') <> ''), ' '), '') AS name_pinyin,
               name_is_pinyin, surname,
               nullif(substr(name_plain, length(surname) + 1), '') AS given_name
        FROM split, m""")
    return con.execute("SELECT count(*) FROM _name_clean").fetchone()[0]
