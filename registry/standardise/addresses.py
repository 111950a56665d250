"""Addresses: free text -> province, city, district, street (街道), community (社区), rest.

Set-based: the normalisation and the parse are regexp_replace / regexp_extract over the DISTINCT addresses;
a small gazetteer (GB/T 2260 division names, gazetteer.csv) recognises provinces, cities and districts
written in full or short ('深圳' for '深圳市') and fills a province or city left out.
"""

from __future__ import annotations

import csv
import functools

import duckdb

from registry.package_files import package_file
from registry.standardise.lookups import temp_table
from registry.standardise.text import without_controls_sql

GAZETTEER = package_file("standardise", "gazetteer.csv")
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")

# A numeral directly before one of these is a count (building, unit, floor, room), not part of a name.
_UNITS = "(栋|座|幢|号楼|单元|楼|层|室|期|号)"
_CN_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
              "六": "6", "七": "7", "八": "8", "九": "9"}
_FW_FROM = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－—"
_FW_TO = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ--"

_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


@functools.lru_cache(maxsize=1)
def gazetteer() -> dict[str, dict[str, tuple[str, ...]]]:
    """variant -> canonical name for provinces and cities; district -> (province, city) when unambiguous."""
    names = {}
    with GAZETTEER.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["code"]] = row["name"]
    provinces, cities, districts = {}, {}, {}
    city_province, district_cities = {}, {}
    for code, name in names.items():
        province = names.get(code[:2] + "0000")
        if code.endswith("0000"):
            provinces[name] = name
            for suffix in _PROVINCE_SUFFIXES:
                if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                    provinces[name[: -len(suffix)]] = name
                    break
        elif code.endswith("00"):
            cities[name] = name
            if name.endswith("市") and len(name) >= 3:
                cities[name[:-1]] = name
            city_province[name] = province
        else:
            city = province if province in MUNICIPALITIES else names.get(code[:4] + "00")
            if province and city:
                district_cities.setdefault(name, set()).add((province, city))
    for m in MUNICIPALITIES:
        city_province[m] = m
    for name, places in district_cities.items():
        if len(places) == 1:
            districts[name] = next(iter(places))
    return {"provinces": provinces, "cities": cities, "city_province": city_province, "districts": districts,
            "district_names": tuple(district_cities)}


def _alternation(words) -> str:
    return "|".join(sorted(set(words), key=lambda w: (-len(w), w)))


# ---------------------------------------------------------------- SQL expression builders

def normalise_sql(raw: str) -> str:
    """Text normalisation before the parse: control characters, widths, spaces, numerals before counts,
    栋/座/号楼, 单元, 室."""
    s = f"translate({without_controls_sql(raw)}, '{_FW_FROM}', '{_FW_TO}')"
    s = f"regexp_replace({s}, '[\\s\\x{{3000}}\\x{{00A0}}]+', '', 'g')"
    s = f"regexp_replace({s}, '^(中华人民共和国|中国)', '')"
    s = f"regexp_replace({s}, '街道办事处|街道办', '街道', 'g')"
    s = f"regexp_replace({s}, '社区居委会|社区居民委员会|社区工作站', '社区', 'g')"
    # Chinese numerals before a count: tens first (二十三 -> 二三, 二十 -> 二〇, 十三 -> 一三, 十 -> 一〇) ...
    d = "[一二三四五六七八九]"
    cn = s
    cn = f"regexp_replace({cn}, '({d})十({d}){_UNITS}', '\\1\\2\\3', 'g')"
    cn = f"regexp_replace({cn}, '({d})十{_UNITS}', '\\1〇\\2', 'g')"
    cn = f"regexp_replace({cn}, '十({d}){_UNITS}', '一\\1\\2', 'g')"
    cn = f"regexp_replace({cn}, '十{_UNITS}', '一〇\\1', 'g')"
    # ... then each digit, right to left through the run (three rounds cover runs of three, e.g. rooms).
    for _ in range(3):
        for ch, digit in _CN_DIGITS.items():
            cn = f"regexp_replace({cn}, '{ch}([0-9]*){_UNITS}', '{digit}\\1\\2', 'g')"
    s = (f"CASE WHEN regexp_matches({s}, '[〇零一二两三四五六七八九十]{_UNITS}') THEN {cn} ELSE {s} END")
    s = f"regexp_replace({s}, '([0-9A-Za-z]+)(号楼|座|幢|栋)', '\\1栋', 'g')"
    # 3栋2-1201 and 3-2-1201 mean 3栋2单元1201.
    s = f"regexp_replace({s}, '([0-9A-Za-z]+栋)([0-9]+)-([0-9]+)', '\\1\\2单元\\3', 'g')"
    s = f"regexp_replace({s}, '([0-9]+)-([0-9]+)-([0-9]+)$', '\\1栋\\2单元\\3')"
    s = f"regexp_replace({s}, '([0-9]+)(室|房|号房)$', '\\1')"
    return f"nullif({s}, '')"


def build_address_lookup(con: duckdb.DuckDBPyConnection, source: str, target: str = "_address_lookup") -> int:
    """From DISTINCT `source(address_raw)`, create `target(address_raw, province, city, district, street,
    community, rest)`. Returns the number of distinct addresses."""
    g = gazetteer()
    rows = [("province", v, c) for v, c in g["provinces"].items()]
    rows += [("city", v, c) for v, c in g["cities"].items()]
    temp_table(con, "_gaz_variant", ("kind", "variant", "canonical"), rows)
    temp_table(con, "_gaz_district", ("district", "province", "city"),
               [(d, p, c) for d, (p, c) in g["districts"].items()])
    temp_table(con, "_gaz_city", ("city", "province"), list(g["city_province"].items()))
    temp_table(con, "_gaz_district_short", ("short", "district", "city"),
               [(d[:-1], d, c) for d, (p, c) in g["districts"].items() if len(d) >= 3 and d[-1] in "区县"])

    prov_re = _alternation(g["provinces"])
    city_re = _alternation(g["cities"])
    dist_re = _alternation(g["district_names"])
    municipalities = ", ".join(f"'{m}'" for m in MUNICIPALITIES)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {target} AS
        WITH m AS (
            SELECT (SELECT map(list(variant), list(canonical)) FROM _gaz_variant WHERE kind = 'province') AS pm,
                   (SELECT map(list(variant), list(canonical)) FROM _gaz_variant WHERE kind = 'city') AS cm
        ), n AS (
            SELECT address_raw, {normalise_sql('address_raw')} AS a
            FROM (SELECT DISTINCT address_raw FROM {source} WHERE address_raw IS NOT NULL)
        ), p AS (
            SELECT address_raw, a, regexp_extract(a, '^({prov_re})') AS pv FROM n
        ), p2 AS (
            SELECT *, substr(a, length(pv) + 1) AS r1 FROM p
        ), c AS (
            SELECT *, coalesce(nullif(regexp_extract(r1, '^({city_re})市?'), ''),
                               regexp_extract(r1, '^[^0-9省市区县街道路号栋]{{2,5}}(市|自治州|地区|盟)')) AS cv
            FROM p2
        ), c2 AS (
            SELECT *, substr(r1, length(cv) + 1) AS r2 FROM c
        ), d AS (
            SELECT *, coalesce(nullif(regexp_extract(r2, '^({dist_re})'), ''),
                               regexp_extract(r2, '^[^0-9省市区县街道社路号栋]{{1,6}}?(新区|区|县|旗)')) AS dv
            FROM c2
        ), d1 AS (
            -- a district written without 区/县 ('广东深圳福田福田街道'): only within the city written before it,
            -- and only when a street follows (so '深圳福田街道' stays the street 福田街道)
            SELECT d.*, sh.district AS dfull,
                   CASE WHEN sh.district IS NOT NULL THEN sh.short ELSE d.dv END AS dv2
            FROM d LEFT JOIN _gaz_district_short sh
              ON d.dv = '' AND d.cv <> '' AND sh.city = coalesce(
                     (SELECT cm FROM m)[nullif(regexp_replace(d.cv, '市$', ''), '')], (SELECT cm FROM m)[d.cv])
             AND starts_with(d.r2, sh.short)
             AND regexp_matches(substr(d.r2, length(sh.short) + 1), '^[^0-9区县]{{1,8}}?(街道|镇|乡)')
            QUALIFY row_number() OVER (PARTITION BY d.address_raw ORDER BY length(sh.short) DESC NULLS LAST) = 1
        ), d2 AS (
            SELECT * REPLACE (dv2 AS dv), substr(r2, length(dv2) + 1) AS r3 FROM d1
        ), s AS (
            SELECT *, regexp_extract(r3, '^[^0-9省区县社路号栋]{{1,8}}?(街道|镇|乡)') AS sv FROM d2
        ), s2 AS (
            SELECT *, substr(r3, length(sv) + 1) AS r4 FROM s
        ), k AS (
            SELECT *, regexp_extract(r4, '^[^0-9省市区县街路号栋]{{1,8}}?社区') AS kv FROM s2
        ), parsed AS (
            SELECT address_raw,
                   pm[nullif(pv, '')] AS province,
                   coalesce(cm[nullif(regexp_replace(cv, '市$', ''), '')], cm[nullif(cv, '')], nullif(cv, '')) AS city,
                   coalesce(dfull, nullif(dv, '')) AS district, nullif(sv, '') AS street, nullif(kv, '') AS community,
                   nullif(substr(r4, length(kv) + 1), '') AS rest
            FROM k, m
        )
        SELECT p.address_raw,
               coalesce(p.province, gd.province, gc.province,
                        CASE WHEN p.city IN ({municipalities}) THEN p.city END) AS province,
               coalesce(p.city, CASE WHEN p.province IN ({municipalities}) THEN p.province END, gd.city) AS city,
               p.district, p.street, p.community, p.rest
        FROM parsed p
        LEFT JOIN _gaz_district gd ON gd.district = p.district
             AND (p.city IS NULL OR p.city = gd.city) AND (p.province IS NULL OR p.province = gd.province)
        LEFT JOIN _gaz_city gc ON gc.city = p.city""")
    return con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]


def full_address_sql(province: str, city: str, district: str, street: str, community: str, rest: str) -> str:
    """The normalised full text: components in order, a municipality's name written once."""
    return (f"nullif(concat_ws('', {province}, CASE WHEN {city} IS DISTINCT FROM {province} THEN {city} END, "
            f"{district}, {street}, {community}, {rest}), '')")
