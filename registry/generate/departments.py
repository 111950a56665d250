"""Each department's rows, drawn from the true population with that department's habits.

A builder takes the people it holds (a DataFrame slice of the population, one row per record to
write; a person may appear more than once) and returns the department's columns as object
arrays (None = empty), plus hidden columns the generator keeps for itself:
`_person_id` (ground truth), `_clean_id`, `_clean_name` (to correct typos on a later night),
`_dup_key` (a row repeated under the same key) and `_invalid_json` (labour line written broken).
Record keys are assigned by the caller.

Longer than most modules on purpose: the four builders are read side by side with DEPARTMENTS.md, one
department's habits after another, and share their helpers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from registry.departments import CIVIL_AFFAIRS, COLUMNS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY
from registry.generate import irregularities as irr
from registry.generate.dates import format_dates, format_times
from registry.generate.idnumbers import zfill
from registry.generate.population import cat, chinese_numeral, draw_local_addresses
from registry.generate.rates import rate
from registry.generate.vocab import vocabulary

CN_NUMERALS = np.array([chinese_numeral(i) for i in range(100)], dtype=object)
SEX_NAME = {"1": "男", "2": "女"}
HIDDEN = ("_person_id", "_clean_id", "_clean_name", "_dup_key", "_invalid_json", "_tags")


def _str(a) -> pd.Series:
    """A finished column as compact arrow-backed strings, so that its Python string objects are freed."""
    return pd.Series(pd.array(pa.array(np.asarray(a, dtype=object), type=pa.large_string(), from_pandas=True),
                              dtype="str"))


def _mask(rng, n: int, p: float) -> np.ndarray:
    return rng.random(n) < p


def render_address(p: pd.DataFrame, prefix: str, department: str, rng) -> np.ndarray:
    """Write an address the way a department's staff do: province or city left out, 深圳 for 深圳市,
    栋/座/号楼, Chinese numerals, 单元 left out, 室/房 after the room."""
    n = len(p)
    d = vocabulary().district
    r = lambda k: rate(k, department)  # noqa: E731
    text = p[f"{prefix}_text"].to_numpy(dtype=object)
    u = rng.random(n)
    c1, c2, c3 = r("address_no_province"), r("address_no_city"), r("address_short_city")
    head = np.where(u < c1, d["city"] + d["district"],
                    np.where(u < c1 + c2, d["district"],
                             np.where(u < c1 + c2 + c3, np.where(u < c1 + c2 + c3 / 2, d["province"], "") + "深圳" + d["district"],
                                      d["province"] + d["city"] + d["district"])))
    u = rng.random(n)
    bword = np.where(u < r("address_zuo"), "座", np.where(u < r("address_zuo") + r("address_haolou"), "号楼", "栋"))
    cn = _mask(rng, n, r("address_chinese_numerals"))
    b = p[f"{prefix}_building"].to_numpy().astype(np.int64) % 100
    un = p[f"{prefix}_unit"].to_numpy().astype(np.int64) % 100
    bnum = np.where(cn, CN_NUMERALS[b], b.astype(str).astype(object))
    unum = np.where(cn, CN_NUMERALS[un], un.astype(str).astype(object))
    no_unit = _mask(rng, n, r("address_no_unit_word"))
    unit = np.where(no_unit, (un.astype(str).astype(object) + "-"), unum + "单元")
    u = rng.random(n)
    suffix = np.where(u < r("address_room_suffix") / 2, "室", np.where(u < r("address_room_suffix"), "房", ""))
    comma = np.where(_mask(rng, n, r("address_comma")), ",", "")
    has_text = pd.notna(text)
    loc = ~has_text
    out = text.copy()
    out[loc] = cat(head[loc], p[f"{prefix}_street"].to_numpy(dtype=object)[loc], "街道",
                   p[f"{prefix}_community"].to_numpy(dtype=object)[loc], "社区", comma[loc],
                   p[f"{prefix}_place"].to_numpy(dtype=object)[loc], bnum[loc], bword[loc], unit[loc],
                   p[f"{prefix}_room"].to_numpy()[loc], suffix[loc])
    if has_text.any():
        t = pd.Series(text[has_text], dtype=object).astype(str)
        drop = _mask(rng, len(t), r("address_no_province"))
        t = t.where(~drop, t.str.replace(r"^(广东省|.{2,3}省|.{2,8}自治区)", "", regex=True))
        out[has_text] = t.to_numpy(dtype=object)
    return out


ID_TAGS = {"id_legacy15": None, "id_fullwidth": None, "id_spaces_dashes": None,
           "id_one_digit_wrong": "id_typo", "id_adjacent_swap": "id_typo"}


def corrupt_id(ids: np.ndarray, p: pd.DataFrame, department: str, rng, tags: irr.Tags | None = None) -> np.ndarray:
    """The department's identity-number irregularities (each row gets at most one)."""
    n = len(ids)
    r = lambda k: rate(k, department)  # noqa: E731
    out = np.asarray(ids, dtype=object).copy()
    u = rng.random(n)
    lo = 0.0
    born_1900s = (p["birth_date"].to_numpy(dtype="datetime64[D]") < np.datetime64("2000-01-01"))
    for k, tag in ID_TAGS.items():
        hi = lo + r(k) / (0.6 if k == "id_legacy15" else 1.0)
        sel = (u >= lo) & (u < hi)
        if k == "id_legacy15":
            sel &= born_1900s
        before = out
        out = getattr(irr, k)(out, sel, rng)
        if tag and tags is not None:
            tags.add(tag, irr.changed(before, out))
        lo = hi
    x = pd.Series(out, dtype=object).fillna("").astype(str).str.endswith("X").to_numpy()
    out = irr.id_lowercase_x(out, x & _mask(rng, n, r("id_lowercase_x")), rng)
    missing = _mask(rng, n, r("id_missing"))
    child = (p["age"].to_numpy() < 16)
    missing |= child & _mask(rng, n, r("id_missing_child"))
    out[missing] = None
    if tags is not None:
        tags.add("no_id", missing)
        tags.add("child_no_id", missing & child)
    return out


def corrupt_name(p: pd.DataFrame, department: str, rng, tags: irr.Tags | None = None) -> np.ndarray:
    """The department's name irregularities. People with a former name are sometimes still known to a
    department under it (the department never heard of the change)."""
    n = len(p)
    r = lambda k: rate(k, department)  # noqa: E731
    tags = tags if tags is not None else irr.Tags(n)
    names = p["name"].to_numpy(dtype=object).copy()
    former = p["former_name"].to_numpy(dtype=object)
    old = pd.notna(former) & _mask(rng, n, r("former_name_used"))
    names[old] = former[old]
    tags.add("former_name", old)
    out = names.copy()
    sep = pd.Series(names, dtype=object).str.contains("·", regex=False).to_numpy()
    out = irr.name_separator_variant(out, sep & _mask(rng, n, r("name_separator_variant")), rng)
    tags.add("separator", irr.changed(names, out))
    rare = irr.has_rare_char(names)
    u = rng.random(n)
    before = out
    out = irr.name_rare_char_pinyin(out, rare & (u < r("name_rare_char_pinyin")), rng)
    tags.add("pinyin", irr.changed(before, out))
    before = out
    out = irr.name_rare_char_homophone(out, rare & (u >= r("name_rare_char_pinyin"))
                                       & (u < r("name_rare_char_pinyin") + r("name_rare_char_homophone")), rng)
    tags.add("homophone", irr.changed(before, out))
    u = rng.random(n)
    c = np.cumsum([r("name_homophone_typo"), r("name_traditional"), r("name_spaces"), r("name_variant_form"),
                   r("name_fullwidth_space")])
    han = ~sep & (p["surname"].to_numpy(dtype=object) != "")
    steps = ((irr.name_homophone_typo, han & (u < c[0]), "homophone"),
             (irr.name_traditional, (u >= c[0]) & (u < c[1]), "traditional"),
             (irr.name_spaces, han & (u >= c[1]) & (u < c[2]), "spaces"),
             (irr.name_variant_form, (u >= c[2]) & (u < c[3]), "traditional"),
             (irr.name_han_separator, han & (u >= c[3]) & (u < c[4]), "spaces"))
    for fn, sel, tag in steps:
        before = out
        out = fn(out, sel, rng)
        tags.add(tag, irr.changed(before, out))
    # a second homophone on top of whatever the name already has
    before = out
    out = irr.name_homophone_typo(out, han & _mask(rng, n, r("name_homophone_two")), rng)
    tags.add("homophone", irr.changed(before, out))
    full = han & ~rare & _mask(rng, n, r("name_full_pinyin"))
    py = irr.name_full_pinyin(p["surname"].to_numpy(dtype=object), _given_of(names, p, old), full, rng)
    out = np.where(pd.notna(py), py, out)
    tags.add("pinyin", pd.notna(py))
    return out


def _given_of(names: np.ndarray, p: pd.DataFrame, former: np.ndarray) -> np.ndarray:
    """The given name of the name delivered: the person's, or that of the former name (same surname)."""
    given = p["given_name"].to_numpy(dtype=object).copy()
    sur_len = p["surname"].astype(str).str.len().to_numpy()
    for k in np.unique(sur_len[former]):          # surnames of one or two characters
        sel = np.flatnonzero(former & (sur_len == k))
        given[sel] = pd.Series(names[sel], dtype=object).str[int(k):].to_numpy(dtype=object)
    return given


def phones(p: pd.DataFrame, department: str, rng, landline_share: float | None = None) -> np.ndarray:
    n = len(p)
    r = lambda k: rate(k, department)  # noqa: E731
    mobile = p["phone"].to_numpy(dtype=object)
    land = p["landline"].to_numpy(dtype=object)
    use_land = pd.notna(land) & _mask(rng, n, (landline_share if landline_share is not None else r("phone_landline")) * 3.3)
    out = irr.phone_formats(mobile, {k: r(k) for k in ("phone_plus86", "phone_86", "phone_spaces", "phone_dashes")}, rng)
    out = np.where(use_land | pd.isna(out), irr.landline_formats(land, rng), out)
    out[_mask(rng, n, r("phone_missing"))] = None
    return out


def _hidden(p: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    return {"_person_id": p["person_id"].to_numpy(dtype=object),
            "_clean_id": p["id_number"].to_numpy(dtype=object),
            "_clean_name": p["name"].to_numpy(dtype=object),
            "_dup_key": np.zeros(n, dtype=bool),
            "_invalid_json": np.zeros(n, dtype=bool)}


def with_age(p: pd.DataFrame, extract_date: str) -> pd.DataFrame:
    p = p.reset_index(drop=True)             # a new frame sharing the columns: no deep copy
    today = np.datetime64(extract_date, "D")
    p["age"] = ((today - p["birth_date"].to_numpy(dtype="datetime64[D]")).astype(np.int64) / 365.25)
    return p


def lives_at_hukou(p: pd.DataFrame) -> np.ndarray:
    cols = ("street", "community", "place", "building", "unit", "room")
    same = p["hukou_text"].isna().to_numpy() & p["current_text"].isna().to_numpy()
    for c in cols:       # compared column-wise in arrow / numpy, without Python string objects
        same &= (p[f"hukou_{c}"] == p[f"current_{c}"]).fillna(False).to_numpy(dtype=bool)
    return same


# ---------------------------------------------------------------- public security

def public_security(p: pd.DataFrame, extract_date: str, rng) -> pd.DataFrame:
    D = PUBLIC_SECURITY
    p = with_age(p, extract_date)
    n = len(p)
    at_hukou = lives_at_hukou(p)
    current = render_address(p, "current", D, rng)
    current[at_hukou & _mask(rng, n, rate("current_address_missing", D))] = None
    current[~at_hukou & _mask(rng, n, 0.1)] = None
    status_date = p["status_date"].to_numpy(dtype="datetime64[D]").copy()
    moved_in = (p["status"].to_numpy() == "正常") & _mask(rng, n, 0.2)
    birth = p["birth_date"].to_numpy(dtype="datetime64[D]")
    today = np.datetime64(extract_date, "D")
    span = np.maximum((today - birth).astype(np.int64), 1)
    status_date[moved_in] = birth[moved_in] + (rng.random(moved_in.sum()) * span[moved_in]).astype(np.int64).astype("timedelta64[D]")
    tags = irr.Tags(n)
    former = p["former_name"].to_numpy(dtype=object)
    former = irr.name_homophone_typo(former, _mask(rng, n, rate("former_name_typo", D)), rng)
    cols = {
        "公民身份号码": _str(corrupt_id(p["id_number"].to_numpy(dtype=object), p, D, rng, tags)),
        "姓名": _str(corrupt_name(p, D, rng, tags)),
        "曾用名": _str(former),
        "性别": _str(p["sex"].map(SEX_NAME).to_numpy(dtype=object)),
        "民族": _str(p["ethnicity"].to_numpy(dtype=object)),
        "出生日期": _str(format_dates(birth, "ymd", impossible=_mask(rng, n, rate("impossible_date", D)))),
        "户籍地址": _str(render_address(p, "hukou", D, rng)),
        "现住址": _str(current),
        "户号": _str(p["household_id"].to_numpy(dtype=object)),
        "与户主关系": _str(p["relation"].to_numpy(dtype=object)),
        "人口类型": _str(p["population_type"].to_numpy(dtype=object)),
        "人员状态": _str(p["status"].to_numpy(dtype=object)),
        "变动日期": _str(format_dates(status_date, "iso")),
    }
    return _frame(D, cols, p, n, tags)


def _frame(department: str, cols: dict, p: pd.DataFrame, n: int, tags: irr.Tags) -> pd.DataFrame:
    key = COLUMNS[department][0]
    data = {key: np.full(n, None, dtype=object)}
    data.update({c: cols[c] for c in COLUMNS[department][1:]})
    data.update(_hidden(p, n))
    tags.add("twin", p["twin"].to_numpy(dtype=bool))
    tags.add("shared_id", p["id_shared"].to_numpy(dtype=bool))
    data["_tags"] = tags.joined()
    return pd.DataFrame(data)


def outdated_address(p: pd.DataFrame, department: str, rng, tags: irr.Tags) -> pd.DataFrame:
    """The people whose current address the department still has from before they moved: another
    flat in the district."""
    old = _mask(rng, len(p), rate("address_outdated", department))
    tags.add("address_outdated", old)
    if not old.any():
        return p
    q = p.copy()
    for c, v in draw_local_addresses(rng, int(old.sum()), "current").items():
        q.loc[old, c] = v
    q.loc[old, "current_text"] = None
    return q


# ---------------------------------------------------------------- family planning

def family_planning_members(people: pd.DataFrame, extract_date: str, target_rows: int, rng) -> pd.DataFrame:
    """Who the family-planning office holds: couples with a wife aged 20-59, single women 20-49 and
    their children. Returns person rows with family_id, family_role, marital, children_count, cert."""
    p = with_age(people[people["registered"] & (people["status"] == "正常")], extract_date)
    rel = p["relation"].to_numpy(dtype=object)
    hh = p["household_index"].to_numpy()
    female = p["sex"].to_numpy() == "2"
    age = p["age"].to_numpy()
    parent = (rel == "户主") | (rel == "配偶")
    wife = parent & female & (age >= 20) & (age < 60)
    couple_h = pd.Series(rel == "配偶").groupby(hh).transform("any").to_numpy()
    single_woman = wife & ~couple_h & (age < 50)
    fam_h = pd.Series(wife & (couple_h | single_woman)).groupby(hh).transform("any").to_numpy()
    husband = fam_h & parent & ~female & couple_h
    child = fam_h & ((rel == "子") | (rel == "女"))
    is_wife = fam_h & wife & (couple_h | single_woman)
    member = is_wife | husband | child
    m = p[member].copy()
    role = np.where(is_wife[member], "女方", np.where(husband[member], "男方", "子女"))
    m["family_role"] = role
    # keep whole families until the target row count
    fam_ids = m["household_index"].unique()
    rng.shuffle(fam_ids)
    sizes = m.groupby("household_index").size().reindex(fam_ids).to_numpy()
    keep = fam_ids[: int(np.searchsorted(np.cumsum(sizes), target_rows)) + 1]
    m = m[m["household_index"].isin(keep)].sort_values(["household_index", "family_role"], kind="stable")
    n = len(m)
    is_child = m["family_role"].to_numpy() == "子女"
    fam = m["household_index"].to_numpy()
    kids = pd.Series(is_child.astype(np.int64)).groupby(fam).transform("sum").to_numpy()
    is_couple = pd.Series((m["family_role"].to_numpy() == "男方").astype(np.int64)).groupby(fam).transform("max").to_numpy() > 0
    u = rng.random(n)
    marital = np.where(is_child, np.where((m["age"].to_numpy() > 24) & (u < 0.3), "初婚", "未婚"),
                       np.where(is_couple, np.where(u < 0.88, "初婚", "再婚"),
                                np.where(u < 0.6, "未婚", np.where(u < 0.9, "离婚", "丧偶"))))
    m["marital"] = marital
    m["children_count"] = np.where(is_child, None, kids.astype(str).astype(object))
    cert_h = (kids == 1) & ~is_child & (rng.random(n) < 0.25)
    m["one_child_cert"] = np.where(cert_h, np.char.add("440304", zfill(m["household_index"].to_numpy().astype("U8"), 8)), None)
    return m


def family_planning(m: pd.DataFrame, extract_date: str, rng) -> pd.DataFrame:
    D = FAMILY_PLANNING
    p = with_age(m, extract_date)
    n = len(p)
    birth = p["birth_date"].to_numpy(dtype="datetime64[D]")
    # the family's contact phone is usually the wife's
    wife_phone = p["phone"].where(p["family_role"] == "女方").groupby(p["household_index"]).transform("first")
    use_wife = (p["family_role"].to_numpy() == "子女") | _mask(rng, n, 0.4)
    q = p.copy()
    q["phone"] = np.where(use_wife & wife_phone.notna().to_numpy(), wife_phone.to_numpy(dtype=object), p["phone"].to_numpy(dtype=object))
    wife_birth = p["birth_date"].where(p["family_role"] == "女方").groupby(p["household_index"]).transform("first")
    today = np.datetime64(extract_date, "D")
    start = np.maximum(wife_birth.to_numpy(dtype="datetime64[D]") + np.timedelta64(7305, "D"), np.datetime64("1995-01-01"))
    start = np.where(np.isnat(start), np.datetime64("2005-01-01"), start)
    span = np.maximum((today - start).astype(np.int64), 1)
    reg_family = start + (rng.random(n) * span).astype(np.int64).astype("timedelta64[D]")
    reg = np.where(p["family_role"].to_numpy() == "子女", np.maximum(reg_family, birth + np.timedelta64(30, "D")), reg_family)
    reg = np.minimum(reg, today)
    dot = _mask(rng, n, rate("month_dot_format", D))
    tags = irr.Tags(n)
    fam_no = np.char.add("JT440304", zfill(p["household_index"].to_numpy().astype("U8"), 8)).astype(object)
    cols = {
        "家庭档案号": _str(fam_no),
        "姓名": _str(corrupt_name(p, D, rng, tags)),
        "身份证号": _str(corrupt_id(p["id_number"].to_numpy(dtype=object), p, D, rng, tags)),
        "性别": _str(p["sex"].map(SEX_NAME).to_numpy(dtype=object)),
        "出生年月": _str(np.where(dot, format_dates(birth, "ym_dot"), format_dates(birth, "ym"))),
        "婚姻状况": _str(p["marital"].to_numpy(dtype=object)),
        "家庭角色": _str(p["family_role"].to_numpy(dtype=object)),
        "子女数": _str(p["children_count"].to_numpy(dtype=object)),
        "独生子女证号": _str(p["one_child_cert"].to_numpy(dtype=object)),
        "联系电话": _str(phones(q, D, rng)),
        "现居住地": _str(render_address(outdated_address(p, D, rng, tags), "current", D, rng)),
        "登记日期": _str(format_dates(reg, "iso")),
    }
    cols["现居住地"] = cols["现居住地"].mask(_mask(rng, n, rate("current_address_missing", D)))
    return _frame(D, cols, p, n, tags)


# ---------------------------------------------------------------- civil affairs

AMOUNTS = {"城市低保": 1365.00, "特困供养": 2048.00, "临时救助": None, "高龄津贴": None, "残疾人两项补贴": None}


def civil_affairs_members(people: pd.DataFrame, extract_date: str, target_rows: int, rng) -> pd.DataFrame:
    """Persons with an assistance kind, one row per person and kind (a person may hold several)."""
    p = with_age(people[(people["status"] == "正常")], extract_date)
    local = p["registered"].to_numpy() & (p["population_type"].to_numpy() == "户籍人口")
    age = p["age"].to_numpy()
    rows = []

    def take(pool: np.ndarray, share: float, kind: str):
        idx = np.flatnonzero(pool)
        k = min(len(idx), int(round(target_rows * share)))
        pick = rng.choice(idx, k, replace=False) if k else idx[:0]
        rows.append(pd.DataFrame({"pos": pick, "kind": kind}))

    take(local & (age >= 80), 0.30, "高龄津贴")
    take(local & p["disability"].notna().to_numpy(), 0.22, "残疾人两项补贴")
    # 低保: whole poor households
    hh = p["household_index"].to_numpy()
    poor_h = np.unique(hh[local])
    rng.shuffle(poor_h)
    sizes = pd.Series(hh[local]).value_counts().reindex(poor_h).to_numpy()
    k = int(np.searchsorted(np.cumsum(sizes), target_rows * 0.25))
    rows.append(pd.DataFrame({"pos": np.flatnonzero(np.isin(hh, poor_h[:k]) & local), "kind": "城市低保"}))
    take(local & (age >= 60) & (p["household_size"].to_numpy() == 1), 0.06, "特困供养")
    take(p["registered"].to_numpy() & (age >= 16), 0.08, "临时救助")
    take(~p["registered"].to_numpy(), rate("orphan", CIVIL_AFFAIRS), "临时救助")
    sel = pd.concat(rows, ignore_index=True).drop_duplicates()
    dup = sel.sample(frac=rate("duplicate_person", CIVIL_AFFAIRS), random_state=rng.integers(2**31))
    sel = pd.concat([sel, dup], ignore_index=True).sort_values(["pos", "kind"], kind="stable")
    m = p.iloc[sel["pos"].to_numpy()].copy()
    m["assistance_kind"] = sel["kind"].to_numpy()
    # the head's identity number, for the known error of a dependant carrying it
    heads = p.loc[p["relation"].to_numpy() == "户主", ["household_index", "id_number"]].drop_duplicates("household_index")
    m["head_id_number"] = m["household_index"].map(heads.set_index("household_index")["id_number"]).to_numpy(dtype=object)
    return m.reset_index(drop=True)


def civil_affairs(m: pd.DataFrame, extract_date: str, rng) -> pd.DataFrame:
    D = CIVIL_AFFAIRS
    p = with_age(m, extract_date)
    n = len(p)
    kind = p["assistance_kind"].to_numpy(dtype=object)
    age = p["age"].to_numpy()
    amount = np.full(n, 0.0)
    amount[kind == "城市低保"] = 1365.0
    amount[kind == "特困供养"] = 2048.0
    amount[kind == "高龄津贴"] = np.where(age[kind == "高龄津贴"] >= 100, 1000.0, np.where(age[kind == "高龄津贴"] >= 90, 500.0, 200.0))
    amount[kind == "残疾人两项补贴"] = rng.choice([240.0, 300.0, 480.0], (kind == "残疾人两项补贴").sum())
    amount[kind == "临时救助"] = rng.integers(5, 50, (kind == "临时救助").sum()) * 100.0
    partial = (kind == "城市低保") & _mask(rng, n, 0.3)
    amount[partial] = np.round(rng.uniform(300, 1365, partial.sum()), 0)
    tags = irr.Tags(n)
    ids = corrupt_id(p["id_number"].to_numpy(dtype=object), p, D, rng, tags)
    dependant = (p["relation"].to_numpy(dtype=object) != "户主") & pd.notna(p["head_id_number"].to_numpy(dtype=object))
    wrong = dependant & _mask(rng, n, rate("id_of_household_head", D) * 3)
    if not wrong.any() and dependant.sum() >= 50:      # at least one, so that small nights show it too
        wrong[rng.choice(np.flatnonzero(dependant))] = True
    ids[wrong] = p["head_id_number"].to_numpy(dtype=object)[wrong]
    tags.add("shared_id", wrong)
    disabled = p["disability"].notna().to_numpy() & ((kind == "残疾人两项补贴") | _mask(rng, n, 0.5))
    cert = np.where(disabled, cat(p["id_number"], p["disability"].fillna("")), None)
    # assistance is handled by the street of the hukou for registered residents, else where they live
    local = p["hukou_text"].isna().to_numpy()
    street = np.where(local, p["hukou_street"].to_numpy(dtype=object), p["current_street"].to_numpy(dtype=object))
    community = np.where(local, p["hukou_community"].to_numpy(dtype=object), p["current_community"].to_numpy(dtype=object))
    birth = p["birth_date"].to_numpy(dtype="datetime64[D]")
    imp = _mask(rng, n, rate("impossible_date", D))
    slash = _mask(rng, n, rate("slash_date_format", D))
    today = np.datetime64(extract_date, "D")
    approval = today - rng.integers(20, 4000, n).astype("timedelta64[D]")
    cols = {
        "姓名": _str(corrupt_name(p, D, rng, tags)),
        "证件号码": _str(ids),
        "性别": _str(p["sex"].map(SEX_NAME).to_numpy(dtype=object)),
        "出生日期": _str(np.where(slash, format_dates(birth, "slash", impossible=imp), format_dates(birth, "iso", impossible=imp))),
        "救助类别": _str(kind),
        "残疾人证号": _str(cert),
        "月保障金额": _str(np.char.mod("%.2f", amount).astype(object)),
        "家庭住址": _str(render_address(outdated_address(p, D, rng, tags), "current", D, rng)),
        "所属街道": _str(cat(street, "街道")),
        "所属社区": _str(cat(community, "社区")),
        "联系电话": _str(phones(p, D, rng, landline_share=np.where(age >= 60, 0.15, 0.03))),
        "审批日期": _str(format_dates(approval, "iso")),
        "状态": _str(np.where(_mask(rng, n, 0.08), "停保", "在保").astype(object)),
    }
    out = _frame(D, cols, p, n, tags)
    out["_wrong_head_id"] = wrong
    return out


# ---------------------------------------------------------------- labour

def labour_members(people: pd.DataFrame, extract_date: str, target_rows: int, rng) -> pd.DataFrame:
    p = with_age(people[people["status"] == "正常"], extract_date)
    age = p["age"].to_numpy()
    reg = p["registered"].to_numpy()
    eligible = np.flatnonzero(reg & (age >= 16) & (age < 75))
    orphans = np.flatnonzero(~reg & (age >= 16) & (age < 75))
    k_orph = min(len(orphans), int(round(target_rows * rate("orphan", LABOUR))))
    k = min(len(eligible), target_rows - k_orph)
    w = np.where(age[eligible] < 60, 1.0, 0.35)
    pick = rng.choice(eligible, k, replace=False, p=w / w.sum())
    pick = np.concatenate([pick, rng.choice(orphans, k_orph, replace=False)])
    dup = rng.choice(pick, int(round(len(pick) * rate("duplicate_person", LABOUR))), replace=False)
    pick = np.sort(np.concatenate([pick, dup]))
    return p.iloc[pick].reset_index(drop=True)


def labour(m: pd.DataFrame, extract_date: str, rng) -> pd.DataFrame:
    D = LABOUR
    p = with_age(m, extract_date)
    n = len(p)
    age = p["age"].to_numpy()
    u = rng.random(n)
    status = np.where(age >= 60, np.where(u < 0.8, "退休", "灵活就业"),
                      np.where(u < 0.75, "就业", np.where(u < 0.87, "灵活就业", np.where(u < 0.95, "失业",
                               np.where(age >= 50, "退休", "就业")))))
    v = vocabulary().district["employers"]
    employer = cat("深圳市", np.array(v["prefixes"], dtype=object)[rng.integers(0, len(v["prefixes"]), n)],
                   np.array(v["industries"], dtype=object)[rng.integers(0, len(v["industries"]), n)],
                   np.array(v["forms"], dtype=object)[rng.integers(0, len(v["forms"]), n)])
    employer = np.where(status == "就业", employer, None)
    today = np.datetime64(extract_date, "D")
    unemployed_since = today - rng.integers(10, 700, n).astype("timedelta64[D]")
    insurance = np.where(status == "就业", np.where(u < 0.7, "参保缴费", "暂停缴费"),
                         np.where(status == "失业", "暂停缴费", np.where(status == "退休", "终止参保",
                                  np.where(u < 0.9, "参保缴费", "暂停缴费"))))
    sex = p["sex"].to_numpy(dtype=object).copy()
    unknown = _mask(rng, n, rate("sex_unknown", D))
    sex[unknown] = np.where(rng.random(unknown.sum()) < 0.5, "0", "9")
    birth = p["birth_date"].to_numpy(dtype="datetime64[D]")
    csrq = format_dates(birth, "cn", impossible=_mask(rng, n, rate("impossible_date", D)))
    csrq[_mask(rng, n, rate("birth_date_missing", D))] = None
    at_hukou = lives_at_hukou(p)
    tags = irr.Tags(n)
    current = render_address(outdated_address(p, D, rng, tags), "current", D, rng)
    current[at_hukou & _mask(rng, n, rate("current_address_missing", D))] = None
    updated = today - rng.integers(0, 1500, n).astype("timedelta64[D]")
    cols = {
        "XM": _str(corrupt_name(p, D, rng, tags)),
        "SFZH": _str(corrupt_id(p["id_number"].to_numpy(dtype=object), p, D, rng, tags)),
        "XB": _str(sex),
        "CSRQ": _str(csrq),
        "LXDH": _str(phones(p, D, rng)),
        "HJDZ": _str(render_address(p, "hukou", D, rng)),
        "JZDZ": _str(current),
        "JYZT": _str(status.astype(object)),
        "DWMC": _str(employer),
        "SYDJRQ": _str(np.where(status == "失业", format_dates(unemployed_since, "iso"), None)),
        "CBZT": _str(insurance.astype(object)),
        "GXSJ": _str(timestamps(updated, rng)),
    }
    out = _frame(D, cols, p, n, tags)
    out["_invalid_json"] = invalid_lines(n, rng)
    return out


def timestamps(days: np.ndarray, rng) -> np.ndarray:
    """Office-hours timestamps on the given days."""
    return format_times(days, rng.integers(8 * 3600, 20 * 3600, len(days)))


def invalid_lines(n: int, rng) -> np.ndarray:
    """Labour lines to write as broken JSON: the department's rate, at least one in a file of 500 lines."""
    bad = _mask(rng, n, rate("invalid_json_line", LABOUR))
    if n >= 500 and not bad.any():
        bad[rng.integers(0, n)] = True
    return bad
