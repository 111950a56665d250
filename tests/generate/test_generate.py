"""The generated deliveries follow DEPARTMENTS.md: formats, columns, manifests, every irregularity,
ground truth, determinism, and the night that follows."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from registry.departments import (CIVIL_AFFAIRS, COLUMNS, DEPARTMENTS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY,
                                  RECORD_KEYS, SHEET_NAME_FAMILY_PLANNING, data_file_name)
from registry.generate import generate_night
from registry.generate.idnumbers import is_valid, legacy15_to_18

DATE, NEXT = "2026-11-20", "2026-11-21"
PEOPLE, SEED = 5000, 3


def read_delivery(folder: Path, department: str, date: str) -> tuple[list[dict], int]:
    """Rows of a delivery read with a plain reader in its declared format; also the count of bad JSON lines."""
    path = folder / date / department / data_file_name(department, date)
    if department in (PUBLIC_SECURITY, CIVIL_AFFAIRS):
        enc = "gb18030" if department == PUBLIC_SECURITY else "utf-8-sig"
        with open(path, encoding=enc, newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            assert tuple(header) == COLUMNS[department]
            return [dict(zip(header, r)) for r in reader], 0
    if department == FAMILY_PLANNING:
        wb = openpyxl.load_workbook(path, read_only=True)
        assert wb.sheetnames == [SHEET_NAME_FAMILY_PLANNING]
        rows = list(wb[SHEET_NAME_FAMILY_PLANNING].iter_rows(values_only=True))
        assert rows[0] == COLUMNS[department]
        return [{k: ("" if v is None else v) for k, v in zip(rows[0], r)} for r in rows[1:]], 0
    out, bad = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return out, bad


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    landing = root / "landing"
    first = generate_night(landing, DATE, PEOPLE, SEED, root / "truth" / f"{DATE}.csv")
    second = generate_night(landing, NEXT, PEOPLE, SEED, root / "truth" / f"{NEXT}.csv", previous=landing / DATE)
    rows = {d: read_delivery(landing, d, DATE) for d in DEPARTMENTS}
    return root, first, second, rows


def values(rows, department, field):
    return [r.get(field) for r in rows[department][0]]


def test_files_read_back_in_declared_formats_and_scale(nights):
    root, first, _, rows = nights
    n = sum(1 for r in rows[PUBLIC_SECURITY][0])
    assert 0.99 * PEOPLE <= n <= 1.01 * PEOPLE
    assert 0.40 * n <= len(rows[FAMILY_PLANNING][0]) <= 0.55 * n
    assert 0.045 * n <= len(rows[CIVIL_AFFAIRS][0]) <= 0.075 * n
    assert 0.50 * n <= len(rows[LABOUR][0]) + rows[LABOUR][1] <= 0.60 * n
    keys = {PUBLIC_SECURITY: "GA", FAMILY_PLANNING: "JS", CIVIL_AFFAIRS: "MZ", LABOUR: "LD"}
    for d in DEPARTMENTS:
        for k in values(rows, d, RECORD_KEYS[d]):
            assert re.fullmatch(keys[d] + r"\d{10}", k), (d, k)
    assert rows[LABOUR][1] >= 1                              # a few lines are not valid JSON


def test_manifests_match_their_files(nights):
    root, first, _, _ = nights
    for d in DEPARTMENTS:
        folder = root / "landing" / DATE / d
        data = folder / data_file_name(d, DATE)
        man = folder / "manifest.json"
        assert man.exists() == first.manifests[d]
        if man.exists():
            m = json.loads(man.read_text(encoding="utf-8"))
            assert set(m) == {"department", "extract_date", "file", "rows", "sha256"}
            assert (m["department"], m["extract_date"], m["file"]) == (d, DATE, data.name)
            assert m["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
            assert m["rows"] == first.rows[d]


def test_truth_is_outside_landing_and_covers_every_readable_record(nights):
    root, first, _, rows = nights
    assert root / "landing" not in first.truth_path.parents
    truth = pd.read_csv(first.truth_path, dtype=str)
    assert list(truth.columns) == ["department", "source_record_id", "person_id", "irregularities"]
    assert not truth.duplicated(["department", "source_record_id"]).any()
    for d in DEPARTMENTS:
        keys = set(values(rows, d, RECORD_KEYS[d]))
        assert keys == set(truth.loc[truth.department == d, "source_record_id"])
    # orphans: civil-affairs and labour people absent from the household register
    ps_people = set(truth.loc[truth.department == PUBLIC_SECURITY, "person_id"])
    for d in (CIVIL_AFFAIRS, LABOUR):
        assert (~truth.loc[truth.department == d, "person_id"].isin(ps_people)).sum() >= 1
    # the same person twice in one department under different keys
    for d in (CIVIL_AFFAIRS, LABOUR, FAMILY_PLANNING):
        assert truth[truth.department == d].person_id.duplicated().any()


def test_duplicate_keys_within_a_delivery(nights):
    _, _, _, rows = nights
    dup = {d: sum(c > 1 for c in Counter(values(rows, d, RECORD_KEYS[d])).values()) for d in DEPARTMENTS}
    assert dup[PUBLIC_SECURITY] == 0
    assert dup[CIVIL_AFFAIRS] >= 1 and dup[LABOUR] >= 1


def _state(root, department, date=DATE):
    return pd.read_parquet(root / "generator_state" / date / f"{department}.parquet")


ID_FIELD = {PUBLIC_SECURITY: "公民身份号码", FAMILY_PLANNING: "身份证号", CIVIL_AFFAIRS: "证件号码", LABOUR: "SFZH"}
NAME_FIELD = {PUBLIC_SECURITY: "姓名", FAMILY_PLANNING: "姓名", CIVIL_AFFAIRS: "姓名", LABOUR: "XM"}


def _pairs(root, field_of):
    """(delivered, clean, department) for every record, from the generator's state."""
    out = []
    for d in DEPARTMENTS:
        s = _state(root, d)
        clean = "_clean_id" if field_of is ID_FIELD else "_clean_name"
        out += [(None if pd.isna(v) else v, c, d) for v, c in zip(s[field_of[d]], s[clean])]
    return out


def test_identity_number_irregularities(nights):
    root, _, _, rows = nights
    pairs = _pairs(root, ID_FIELD)
    clean = [c for _, c, _ in pairs]
    assert is_valid(clean).all()
    ps = values(rows, PUBLIC_SECURITY, "公民身份号码")
    assert is_valid(ps).mean() > 0.99                      # public security: almost always present and valid
    kinds = Counter()
    for v, c, d in pairs:
        if v is None:
            kinds["missing"] += 1
        elif v == c:
            continue
        elif re.fullmatch(r"\d{15}", v):
            assert legacy15_to_18([v])[0] == c
            kinds["legacy15"] += 1
        elif v == c.replace("X", "x"):
            kinds["lower_x"] += 1
        elif re.search(r"[０-９]", v):
            kinds["fullwidth"] += 1
        elif re.search(r"[ \-]", v):
            assert re.sub(r"[ \-]", "", v) in (c, c.replace("X", "x"))
            kinds["spaces_dashes"] += 1
        elif is_valid([v])[0]:
            assert d == CIVIL_AFFAIRS
            kinds["other_person"] += 1                       # a dependant carrying the head's number
        elif len(v) == 18:                                   # mistyped: the check character fails
            v = v.replace("x", "X")
            diff = [i for i in range(18) if v[i] != c[i]]
            if len(diff) == 1:
                kinds["one_digit"] += 1
            elif len(diff) == 2 and diff[1] == diff[0] + 1 and v[diff[0]] == c[diff[1]]:
                kinds["swap"] += 1
            else:
                kinds["unexpected"] += 1
        else:
            kinds["unexpected"] += 1
    for k in ("missing", "legacy15", "lower_x", "fullwidth", "spaces_dashes", "one_digit", "swap", "other_person"):
        assert kinds[k] >= 1, (k, kinds)
    assert kinds["unexpected"] == 0, [(v, c, d) for v, c, d in pairs if v and v != c and len(v) == 18][:0] or kinds
    ca = _state(root, CIVIL_AFFAIRS)
    assert ca["_wrong_head_id"].sum() >= 1


def test_name_irregularities(nights):
    root, _, _, rows = nights
    pairs = [(v, c) for v, c, _ in _pairs(root, NAME_FIELD) if v is not None]
    changed = [(v, c) for v, c in pairs if v != c]
    assert any(" " in v and v.replace(" ", "") == c for v, c in changed)
    assert any(re.fullmatch(r"[A-Z]+ [A-Za-z]+|[A-Z][a-z]+ [A-Z][a-z]+|[a-z]+", v) for v, _ in changed)
    assert any(re.search(r"[\u4e00-\u9fff][A-Z][a-z]+", v) for v, _ in changed)          # 王Ye
    assert any(len(v) == len(c) and sum(a != b for a, b in zip(v, c)) == 1 for v, c in changed)
    import opencc
    t2s = opencc.OpenCC("t2s")
    assert any(t2s.convert(v) == c for v, c in changed)                                    # traditional
    seps = {s for v, c in pairs if "·" in c for s in "·•.・" if s in v}
    assert seps == set("·•.・")
    assert any("·" in c and v == c.replace("·", "") for v, c in pairs)
    names = Counter(values(rows, PUBLIC_SECURITY, "姓名"))
    assert names.most_common(1)[0][1] >= 5                                                 # homonyms
    assert any(n[:2] in ("欧阳", "司马", "诸葛", "上官", "司徒") for n in names)


def test_households_twins_migrants_minorities(nights):
    _, _, _, rows = nights
    ps = pd.DataFrame(rows[PUBLIC_SECURITY][0])
    assert set(ps["与户主关系"]) >= {"户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟", "姐妹", "其他"}
    assert set(ps["人口类型"]) == {"户籍人口", "流动人口"}
    assert set(ps["人员状态"]) == {"正常", "死亡", "迁出"}
    twins = ps[ps["与户主关系"].isin(["子", "女"])].groupby(["户号", "出生日期"]).filter(lambda g: len(g) >= 2)
    assert len(twins) >= 2 and twins["公民身份号码"].is_unique
    assert twins.groupby(["户号", "出生日期"])["姓名"].nunique().min() >= 2          # twins: different given names
    same_place = twins.assign(a=twins["户籍地址"].str.replace(r"^.*?福田区|[一二三四五六七八九十\d]+(栋|座|号楼).*$", "", regex=True))
    assert (same_place.groupby(["户号", "出生日期"])["a"].nunique() == 1).all()
    namesakes = ps[ps["人员状态"].notna()].groupby(["姓名", "出生日期"]).filter(lambda g: g["户号"].nunique() >= 2)
    assert len(namesakes) >= 2 and namesakes["公民身份号码"].nunique() == len(namesakes)   # same name and birth, not the same person
    valid = ps[is_valid(ps["公民身份号码"].tolist())]
    assert valid["公民身份号码"].str[:2].nunique() >= 20
    sex_ok = valid["公民身份号码"].str[16].astype(int) % 2 == (valid["性别"] == "男").astype(int)
    assert sex_ok.all()
    assert (valid["公民身份号码"].str[6:14] == valid["出生日期"]).mean() > 0.999
    assert {"回族", "维吾尔族", "壮族"} <= set(ps["民族"])
    assert (ps["户籍地址"] != ps["现住址"]).any() and (ps["现住址"] == "").any()


def test_phone_address_date_formats(nights):
    root, _, _, rows = nights
    phones = [p for d in (FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR) for p in values(rows, d, "联系电话" if d != LABOUR else "LXDH") if p]
    for pat in (r"\+86 ?1\d{10}", r"861\d{10}", r"1\d\d \d{4} \d{4}", r"1\d\d-\d{4}-\d{4}", r"0755-\d{8}", r"1\d{10}"):
        assert any(re.fullmatch(pat, p) for p in phones), pat
    addrs = [a for d in DEPARTMENTS for f in ("户籍地址", "现住址", "现居住地", "家庭住址", "HJDZ", "JZDZ")
             for a in values(rows, d, f) if a]
    for pat in (r"^广东省深圳市福田区", r"^深圳市福田区", r"^福田区", r"深圳福田区", r"\d+座", r"\d+号楼", r"[一二三四五六七八九十]+(栋|座|号楼)",
                r"(栋|座|号楼)\d+-\d+", r"\d+室", r"社区,", r"^(湖南省|广西壮族自治区|湖北省|江西省|四川省)"):
        assert any(re.search(pat, a) for a in addrs), pat
    assert all(re.fullmatch(r"\d{8}", x) for x in values(rows, PUBLIC_SECURITY, "出生日期"))
    ym = values(rows, FAMILY_PLANNING, "出生年月")
    assert all(re.fullmatch(r"\d{4}[-.]\d{2}", x) for x in ym) and any("." in x for x in ym) and any("-" in x for x in ym)
    ca = values(rows, CIVIL_AFFAIRS, "出生日期")
    assert all(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}|\d{4}-\d{2}-\d{2}", x) for x in ca)
    assert all(re.fullmatch(r"\d+\.\d{2}", x) for x in values(rows, CIVIL_AFFAIRS, "月保障金额"))
    cert = [(c, i) for c, i in zip(values(rows, CIVIL_AFFAIRS, "残疾人证号"), values(rows, CIVIL_AFFAIRS, "证件号码")) if c]
    assert cert and all(re.fullmatch(r"\d{17}[\dX][1-7][1-4]", c) for c, _ in cert)
    csrq = values(rows, LABOUR, "CSRQ")
    assert any(x is None or x == "" for x in csrq)
    assert all(re.fullmatch(r"\d{4}年\d{2}月\d{2}日", x) for x in csrq if x)
    dates = [x for x in ca + [c for c in csrq if c]]
    assert '"' in (root / "landing" / DATE / CIVIL_AFFAIRS / data_file_name(CIVIL_AFFAIRS, DATE)).read_text("utf-8-sig")
    assert any(re.search(r"(^\d{4}[-/]0?2[-/]3[01]$)|(02月3[01]日)|([-/]0?[46][-/]31$)|(0[46]月31日)", x) for x in dates)
    assert {"1", "2"} < set(values(rows, LABOUR, "XB")) and set(values(rows, LABOUR, "XB")) & {"0", "9"}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", x) for x in values(rows, LABOUR, "GXSJ"))


def test_labour_unknowns_are_missing_null_or_empty(nights):
    _, _, _, rows = nights
    lines = rows[LABOUR][0]
    assert any("DWMC" not in r for r in lines)
    assert any("DWMC" in r and r["DWMC"] is None for r in lines)
    assert any(r.get("DWMC") == "" for r in lines)


def test_same_seed_writes_identical_bytes(nights, tmp_path):
    root, first, _, _ = nights
    again = generate_night(tmp_path / "landing", DATE, PEOPLE, SEED, tmp_path / "truth.csv")
    for d in DEPARTMENTS:
        assert first.files[d].read_bytes() == again.files[d].read_bytes(), d
    assert first.truth_path.read_bytes() == again.truth_path.read_bytes()


def test_next_night_keeps_keys_and_brings_changes(nights):
    root, first, second, rows1 = nights
    rows2 = {d: read_delivery(root / "landing", d, NEXT) for d in DEPARTMENTS}
    t1 = pd.read_csv(first.truth_path, dtype=str)
    t2 = pd.read_csv(second.truth_path, dtype=str)
    ps1 = pd.DataFrame(rows1[PUBLIC_SECURITY][0]).set_index("人员编号")
    ps2 = pd.DataFrame(rows2[PUBLIC_SECURITY][0]).set_index("人员编号")
    assert set(ps1.index) < set(ps2.index)                         # nobody leaves the register; births and move-ins
    # a key keeps its person
    both = t1.merge(t2, on=["department", "source_record_id"])
    assert (both.person_id_x == both.person_id_y).all()
    new_dead = ps2[(ps2["人员状态"] == "死亡") & (ps1["人员状态"].reindex(ps2.index) == "正常")]
    new_out = ps2[(ps2["人员状态"] == "迁出") & (ps1["人员状态"].reindex(ps2.index) == "正常")]
    assert len(new_dead) >= 1 and len(new_out) >= 1
    assert (pd.to_datetime(new_dead["变动日期"]) >= pd.Timestamp(NEXT) - pd.Timedelta(days=3)).all()
    gone_people = set(t2.loc[t2.source_record_id.isin(new_dead.index.union(new_out.index)), "person_id"])
    for d in (FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR):
        s1, s2 = _state(root, d, DATE), _state(root, d, NEXT)     # all rows, broken JSON lines included
        removed = set(s1[RECORD_KEYS[d]]) - set(s2[RECORD_KEYS[d]])
        removed_people = set(s1.loc[s1[RECORD_KEYS[d]].isin(removed), "_person_id"])
        assert removed_people <= gone_people, d                     # rows leave only with the person
    # surviving records in other departments keep their keys; some values changed
    lb1 = {r["GRBH"]: r for r in rows1[LABOUR][0]}
    lb2 = {r["GRBH"]: r for r in rows2[LABOUR][0]}
    common = set(lb1) & set(lb2)
    assert sum(lb1[k].get("JYZT") != lb2[k].get("JYZT") for k in common) >= 1
    assert sum((lb1[k].get("LXDH") or "") != (lb2[k].get("LXDH") or "") for k in common) >= 1
    assert second.changes["births"] >= 1 and second.changes["move_ins"] >= 1 and second.changes["corrections"] >= 1
    births = ps2.loc[list(set(ps2.index) - set(ps1.index))]
    assert (births["出生日期"] > "20261020").any()
    # a snapshot, not a re-draw: records nobody touched are delivered exactly as the night before
    common_ps = ps1.index.intersection(ps2.index)
    unchanged = (ps1.loc[common_ps] == ps2.loc[common_ps]).all(axis=1)
    assert unchanged.mean() > 0.97


@pytest.mark.slow
def test_scale_of_a_larger_district(tmp_path):
    s = generate_night(tmp_path / "landing", DATE, 100_000, 11, tmp_path / "truth.csv")
    n = s.rows[PUBLIC_SECURITY]
    assert abs(s.rows[FAMILY_PLANNING] / n - 0.5) < 0.03
    assert abs(s.rows[CIVIL_AFFAIRS] / n - 0.06) < 0.01
    assert abs(s.rows[LABOUR] / n - 0.55) < 0.03
    truth = pd.read_csv(s.truth_path, dtype=str)
    ps = truth[truth.department == PUBLIC_SECURITY]
    assert ps.person_id.nunique() == 100_000


def test_truth_inside_landing_is_refused(tmp_path):
    with pytest.raises(ValueError, match="landing"):
        generate_night(tmp_path / "landing", DATE, 50, 1, tmp_path / "landing" / "truth.csv")


def test_command_defaults_to_home_landing(tmp_path, monkeypatch):
    from registry.commands import generate as command
    import argparse
    p = argparse.ArgumentParser()
    command.add_arguments(p)
    assert command.run(p.parse_args(["--people", "300", "--date", DATE, "--home", str(tmp_path / "h"), "--seed", "1"])) == 0
    assert (tmp_path / "h" / "landing" / DATE / "labour" / data_file_name(LABOUR, DATE)).exists()
    assert (tmp_path / "h" / "truth" / f"{DATE}.csv").exists()


def test_each_seed_is_its_own_district():
    from registry.generate import rates

    a, b = rates.factors(1), rates.factors(2)
    assert a != b and a == rates.factors(1)
    assert all(rates.SPREAD[0] <= f <= rates.SPREAD[1] for f in a.values())
    assert all(a[k] == 1.0 for k in rates.FIXED)
    base = rates.rate("name_homophone_typo", CIVIL_AFFAIRS)
    with rates.varied(1):
        assert rates.rate("name_homophone_typo", CIVIL_AFFAIRS) == pytest.approx(base * a["name_homophone_typo"])
    assert rates.rate("name_homophone_typo", CIVIL_AFFAIRS) == base


def test_truth_lists_what_each_record_went_through(nights):
    root, first, _, rows = nights
    truth = pd.read_csv(first.truth_path, dtype=str, keep_default_na=False)
    tags = Counter(t for s in truth["irregularities"] for t in s.split(";") if t)
    for tag in ("no_id", "child_no_id", "id_typo", "homophone", "traditional", "spaces", "pinyin", "twin",
                "shared_id", "former_name", "address_outdated"):
        assert tags[tag] >= 1, (tag, tags)
    keyed = truth.set_index(["department", "source_record_id"])
    fp = {r["个案编号"]: r for r in rows[FAMILY_PLANNING][0]}
    children = [k for k, r in fp.items() if r["家庭角色"] == "子女" and not r["身份证号"]]
    assert children and all("no_id" in keyed.loc[(FAMILY_PLANNING, k), "irregularities"] for k in children)
    # a record delivered under the person's former name: public security lists it as 曾用名
    ps_former = {r["曾用名"] for r in rows[PUBLIC_SECURITY][0] if r["曾用名"]}
    former = truth[truth["irregularities"].str.contains("former_name") & (truth.department != PUBLIC_SECURITY)]
    names = {d: {r[RECORD_KEYS[d]]: r[NAME_FIELD[d] if d != LABOUR else "XM"] for r in rows[d][0]}
             for d in (FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR)}
    assert len(former) and sum(names[d].get(k) in ps_former for d, k in zip(former.department, former.source_record_id)) > 0


def test_hard_cases_of_the_field(nights):
    root, _, _, rows = nights
    pairs = [(v, c) for v, c, _ in _pairs(root, NAME_FIELD) if v is not None]
    from registry.generate.vocab import vocabulary
    variants = set(vocabulary().variant_forms.values())
    assert any(set(v) & variants for v, _ in pairs)                                   # 徳 淸 髙 ...
    assert any(len(v) == len(c) >= 3 and v[0] == c[0] and v[-1] == c[-1] and v != c for v, c in pairs)  # middle
    assert any(re.search(r"[\u4e00-\u9fff][\u3000\t·\-]", v) and "·" not in c for v, c in pairs)
    ps = pd.DataFrame(rows[PUBLIC_SECURITY][0])
    shared = ps[ps["公民身份号码"].duplicated(keep=False) & is_valid(ps["公民身份号码"].tolist())]
    assert shared.groupby("公民身份号码")["姓名"].nunique().max() >= 2                  # 重号: two people, one number
    twins = ps[ps["与户主关系"].isin(["子", "女"])].groupby(["户号", "出生日期"]).filter(lambda g: len(g) >= 2)
    given = twins.groupby(["户号", "出生日期"])["姓名"].agg(list)
    assert any(len(n[0]) == len(n[1]) == 3 and n[0][:2] == n[1][:2] for n in given)   # 明轩 / 明哲
