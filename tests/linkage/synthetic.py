"""Canonical `records` made directly (vectorised), for scale tests of the linkage without the whole
ingestion chain: people with twins, homonyms, household heads' numbers borrowed by dependants,
missing/15-digit/mistyped numbers, homophone names, month-only birth dates. Truth: person_id."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from registry.contracts import department
from registry.generate.idnumbers import check_characters

from .records_factory import RECORD_COLUMNS, load_records

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁龙林欣晨"
              "辰子涵梓轩怡然思雨佳琪博文一诺若汐家豪雅婷志鹏建国春梅海燕晓东丹丹")


def _check(bodies: np.ndarray) -> np.ndarray:
    return check_characters(bodies).astype("U1")


def _pinyin(chars: pd.Series) -> pd.Series:
    # homophones: characters whose code points share a bucket of 3 share a syllable
    return chars.map(lambda s: " ".join(f"py{ord(c) // 3}" for c in s) if isinstance(s, str) else None)


def make_people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sw = 1 / np.arange(1, len(_SURNAMES) + 1)
    surname = rng.choice(_SURNAMES, n, p=sw / sw.sum())
    gw = 1 / np.arange(1, len(_GIVEN) + 1) ** 0.7
    g1 = rng.choice(_GIVEN, n, p=gw / gw.sum())
    g2 = np.where(rng.random(n) < 0.6, rng.choice(_GIVEN, n), "")
    birth = (np.datetime64("1940-01-01") + rng.integers(0, 30000, n).astype("timedelta64[D]"))
    sex = rng.choice(["1", "2"], n)
    order = rng.integers(0, 50, n) * 2 + np.where(sex == "1", 1, 0) + rng.integers(0, 9, n) * 100
    division = rng.choice(["110101", "440305", "440306", "510104", "650102", "320102"], n)
    ymd = pd.Series(birth).dt.strftime("%Y%m%d").to_numpy()
    body = np.char.add(np.char.add(division, ymd), np.char.zfill(order.astype(str), 3))
    people = pd.DataFrame({"person_id": np.arange(n), "surname": surname, "given": np.char.add(g1, g2),
                           "birth": birth, "sex": sex, "id18": np.char.add(body, _check(body)),
                           "street": rng.integers(0, 10, n), "community": rng.integers(0, 10, n),
                           "rest": rng.integers(0, 2000, n), "phone": (13000000000 + rng.integers(0, 9e8, n)).astype(str)})
    people["household"] = np.arange(n) // 3
    # twins: every 100th person is the twin of the one before: same surname, birth, household, address
    twin = np.arange(1, n, 100)
    for col in ("surname", "birth", "household", "street", "community", "rest"):
        people.loc[twin, col] = people.loc[twin - 1, col].to_numpy()
    # a twin's number: the sibling's division and birth date, the next order code
    sib = people.id18.to_numpy()[twin - 1].astype(str)
    twin_body = np.array([i[:14] + f"{(int(i[14:17]) + 2) % 1000:03d}" for i in sib])
    people.loc[twin, "id18"] = np.char.add(twin_body, _check(twin_body))
    people["name"] = people.surname + people.given
    return people


def make_records(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    people = make_people(n, seed)
    parts = []
    for dept, share in (("public_security", 1.0), ("family_planning", 0.5), ("civil_affairs", 0.06), ("labour", 0.55)):
        p = people.sample(frac=share, random_state=seed + len(parts)) if share < 1 else people.copy()
        p = p.assign(department=dept, source_record_id=[department(dept).record_id(i) for i in range(len(p))])
        parts.append(p)
    r = pd.concat(parts, ignore_index=True)
    m = len(r)
    dept = r.department.to_numpy()
    # identity number noise
    idn = r.id18.to_numpy().astype(object)
    form = np.full(m, "valid", dtype=object)
    u = rng.random(m)
    missing = ((dept == "family_planning") & (u < 0.25)) | ((dept != "public_security") & (u > 0.97))
    typo = (dept != "public_security") & (u > 0.90) & (u <= 0.95)
    conv15 = (dept == "family_planning") & (u > 0.25) & (u < 0.30)
    borrowed = (dept == "civil_affairs") & (u > 0.95) & (u <= 0.97)
    for i in np.flatnonzero(typo):
        s = list(idn[i]); k = rng.integers(6, 16)
        if rng.random() < 0.5:
            s[k] = str((int(s[k]) + 1 + rng.integers(0, 8)) % 10)
        else:
            s[k], s[k + 1] = s[k + 1], s[k]
        idn[i] = "".join(s); form[i] = "bad_check" if "".join(s)[17] != _check(np.array(["".join(s)[:17]]))[0] else "valid"
    form[conv15] = "converted15"
    # borrowed: the household head's (first member's) number
    head_id = people.set_index("household").id18.groupby(level=0).first()
    idn[borrowed] = head_id.loc[r.household[borrowed]].to_numpy()
    idn[missing] = None
    form[missing] = "missing"
    # names: homophone swap (same pinyin) and pinyin-written names
    name = r.name.to_numpy().astype(object)
    un = rng.random(m)
    homo = (dept != "public_security") & (un < 0.04)
    for i in np.flatnonzero(homo):
        c = name[i][-1]; b = ord(c) // 3 * 3
        alt = chr(b + (ord(c) - b + 1) % 3)
        name[i] = name[i][:-1] + alt
    other_char = (dept != "public_security") & (un > 0.98)
    for i in np.flatnonzero(other_char):
        name[i] = name[i][:-1] + _GIVEN[rng.integers(0, len(_GIVEN))]
    out = pd.DataFrame({c: pd.Series([None] * m, dtype=object) for c in RECORD_COLUMNS})
    out["department"] = dept
    out["source_record_id"] = r.source_record_id.to_numpy()
    out["record_uid"] = out.department + ":" + out.source_record_id
    out["id_number"] = idn
    out["id_number_form"] = form
    out["name"] = name
    out["name_plain"] = name
    out["name_pinyin"] = _pinyin(pd.Series(name)).to_numpy()
    out["surname"] = [s[0] for s in name]
    out["given_name"] = [s[1:] for s in name]
    out["sex"] = r.sex.to_numpy()
    birth = pd.to_datetime(r.birth)
    month_only = dept == "family_planning"
    out["birth_year"] = birth.dt.year.to_numpy()
    out["birth_month"] = birth.dt.month.to_numpy()
    out["birth_day"] = np.where(month_only, None, birth.dt.day.to_numpy())
    out["birth_date"] = np.where(month_only, None, birth.dt.date.to_numpy())
    out["birth_date_precision"] = np.where(month_only, "month", "day")
    labour_no_birth = (dept == "labour") & (rng.random(m) < 0.1)
    for c in ("birth_year", "birth_month", "birth_day", "birth_date", "birth_date_precision"):
        out.loc[labour_no_birth, c] = None
    id_birth = pd.to_datetime(pd.Series(idn).str[6:14], format="%Y%m%d", errors="coerce")
    out["birth_disagrees_id"] = np.where(pd.isna(idn) | out.birth_year.isna(), None,
                                         (id_birth.dt.year.to_numpy() != birth.dt.year.to_numpy())
                                         | (id_birth.dt.month.to_numpy() != birth.dt.month.to_numpy()))
    id_sex = np.where(pd.Series(idn).str[16:17].fillna("0").astype(int) % 2 == 1, "1", "2")
    out["sex_disagrees_id"] = np.where(pd.isna(idn), None, id_sex != r.sex.to_numpy())
    out["phone"] = np.where((dept == "public_security") | (rng.random(m) < 0.3), None, r.phone.to_numpy())
    addr = ("区" + r.street.astype(str) + "街道" + r.community.astype(str) + "社区" + r.rest.astype(str) + "号")
    cur = dept != "public_security"
    out["current_district"] = np.where(cur, "区", None)
    out["current_street"] = np.where(cur, r.street.astype(str).to_numpy(), None)
    out["current_community"] = np.where(cur, r.community.astype(str).to_numpy(), None)
    out["current_address"] = np.where(cur, addr.to_numpy(), None)
    hk = dept == "public_security"
    out["hukou_district"] = np.where(hk, "区", None)
    out["hukou_street"] = np.where(hk, r.street.astype(str).to_numpy(), None)
    out["hukou_community"] = np.where(hk, r.community.astype(str).to_numpy(), None)
    out["hukou_address"] = np.where(hk, addr.to_numpy(), None)
    out["household_id"] = np.where(np.isin(dept, ["public_security", "family_planning"]),
                                   dept + r.household.astype(str).to_numpy(), None)
    out["person_id"] = r.person_id.to_numpy()
    return out


def load_synthetic(con: duckdb.DuckDBPyConnection, n: int, seed: int) -> pd.DataFrame:
    """Create `records` with n synthetic people; returns truth (record_uid, person_id)."""
    df = make_records(n, seed)
    load_records(con, [], "records")
    con.register("_synthetic", df)
    casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in RECORD_COLUMNS.items())
    con.execute(f"INSERT INTO records SELECT {casts} FROM _synthetic")
    con.unregister("_synthetic")
    return df[["record_uid", "person_id"]]
