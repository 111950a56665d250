"""The night after: the same people and record keys, with the changes a real night brings.

Births and move-ins (new records), deaths and move-outs (死亡/迁出 with 变动日期 in public security,
rows leaving the other departments), changed phones and addresses, employment changes in labour,
and some earlier typos corrected. Everything else is delivered exactly as the night before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.departments import CIVIL_AFFAIRS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY
from registry.generate import departments as dep
from registry.generate import irregularities as irr
from registry.generate.idnumbers import with_check, zfill
from registry.generate.population import draw_given_names, draw_local_addresses, draw_phones, make_people
from registry.generate.rates import ROWS_PER_PERSON

# Changes per registered person per night (a busy night: enough that every kind shows in small tests).
NIGHTLY = {"deaths": 0.0004, "move_outs": 0.0008, "births": 0.0004, "move_ins": 0.001,
           "phone_changes": 0.002, "address_changes": 0.0015, "employment_changes": 0.003}
TYPO_CORRECTED = 0.05          # share of distorted names / identity numbers put right each night
# The truth's irregularities a corrected name or number no longer has.
NAME_TAGS = ("former_name", "separator", "pinyin", "homophone", "traditional", "spaces")
ID_TAGS = ("id_typo", "shared_id")

PHONE_FIELD = {FAMILY_PLANNING: "联系电话", CIVIL_AFFAIRS: "联系电话", LABOUR: "LXDH"}
ADDRESS_FIELD = {PUBLIC_SECURITY: "现住址", FAMILY_PLANNING: "现居住地", CIVIL_AFFAIRS: "家庭住址", LABOUR: "JZDZ"}
NAME_FIELD = {PUBLIC_SECURITY: "姓名", FAMILY_PLANNING: "姓名", CIVIL_AFFAIRS: "姓名", LABOUR: "XM"}
ID_FIELD = {PUBLIC_SECURITY: "公民身份号码", FAMILY_PLANNING: "身份证号", CIVIL_AFFAIRS: "证件号码", LABOUR: "SFZH"}


def _count(n: int, share: float, minimum: int) -> int:
    return max(minimum, int(round(n * share)))


def _aligned(pop: pd.DataFrame, person_ids: np.ndarray) -> pd.DataFrame:
    """Population rows in the order of person_ids."""
    pos = pd.Index(pop["person_id"]).get_indexer(person_ids)
    return pop.iloc[pos].reset_index(drop=True)


def follow(pop: pd.DataFrame, records: dict[str, pd.DataFrame], meta: dict, date: str, rng):
    today = np.datetime64(date, "D")
    for d in list(records):                 # in place, so that the loaded frames are freed
        records[d] = records[d][~records[d]["_dup_key"].to_numpy(dtype=bool)].reset_index(drop=True)
    registered = pop["registered"].to_numpy()
    n = int(registered.sum())
    alive = registered & (pop["status"].to_numpy() == "正常")
    age = (today - pop["birth_date"].to_numpy(dtype="datetime64[D]")).astype(np.int64) / 365.25
    changes: dict[str, int] = {}

    # deaths (mostly the old) and move-outs
    cand = np.flatnonzero(alive)
    w = np.where(age[cand] >= 70, 20.0, 1.0)
    k = min(len(cand), _count(n, NIGHTLY["deaths"], 2))
    dead = rng.choice(cand, k, replace=False, p=w / w.sum())
    rest = np.setdiff1d(cand, dead)
    gone = rng.choice(rest, min(len(rest), _count(n, NIGHTLY["move_outs"], 2)), replace=False)
    for idx, status in ((dead, "死亡"), (gone, "迁出")):
        when = today - rng.integers(0, 4, len(idx)).astype("timedelta64[D]")
        pop.loc[pop.index[idx], "status"] = status
        pop.loc[pop.index[idx], "status_date"] = when
        ps = records[PUBLIC_SECURITY]
        rows = ps["_person_id"].isin(pop["person_id"].to_numpy()[idx]).to_numpy()
        date_of = pd.Series(when, index=pop["person_id"].to_numpy()[idx])
        ps.loc[rows, "人员状态"] = status
        ps.loc[rows, "变动日期"] = dep.format_dates(date_of.reindex(ps.loc[rows, "_person_id"]).to_numpy(), "iso")
    leaving = set(pop["person_id"].to_numpy()[np.concatenate([dead, gone])])
    for d in (FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR):
        records[d] = records[d][~records[d]["_person_id"].isin(leaving)].reset_index(drop=True)
    changes["deaths"], changes["move_outs"] = len(dead), len(gone)

    # births: a child of a family-planning family, born in the district in the last days
    fp = records[FAMILY_PLANNING]
    mothers = fp.loc[fp["家庭角色"] == "女方", "_person_id"]
    mp = _aligned(pop, mothers.to_numpy())
    mage = (today - mp["birth_date"].to_numpy(dtype="datetime64[D]")).astype(np.int64) / 365.25
    mp = mp[(mage >= 21) & (mage < 42) & (mp["status"] == "正常").to_numpy()]
    k = min(len(mp), _count(n, NIGHTLY["births"], 2))
    babies = mp.iloc[rng.choice(len(mp), k, replace=False)].copy() if k else mp.iloc[:0].copy()
    if len(babies):
        babies = _babies(babies, pop, meta, today, rng)
        pop = pd.concat([pop, babies], ignore_index=True)
        records[PUBLIC_SECURITY] = pd.concat([records[PUBLIC_SECURITY], dep.public_security(babies, date, rng)],
                                             ignore_index=True)
        members = babies.copy()
        members["family_role"] = "子女"
        members["marital"] = "未婚"
        members["children_count"] = None
        members["one_child_cert"] = None
        new_fp = dep.family_planning(members, date, rng)
        # the parents' 子女数 goes up by one
        fams = set(babies["household_index"])
        fam_of = pd.Series(pop["household_index"].to_numpy(), index=pop["person_id"].to_numpy())
        fp = records[FAMILY_PLANNING]
        parent = fp["家庭角色"].isin(["女方", "男方"]).to_numpy() & fp["_person_id"].map(fam_of).isin(fams).to_numpy()
        fp.loc[parent, "子女数"] = (pd.to_numeric(fp.loc[parent, "子女数"], errors="coerce").fillna(0).astype(int) + 1).astype(str)
        records[FAMILY_PLANNING] = pd.concat([fp, new_fp], ignore_index=True)
    changes["births"] = len(babies)

    # move-ins: whole households registering in the district
    k = _count(n, NIGHTLY["move_ins"], 3)
    newcomers = make_people(rng, k, date, first_person=meta["next_person"], first_household=meta["next_household"])
    newcomers["status"] = "正常"
    newcomers["status_date"] = today - rng.integers(0, 4, len(newcomers)).astype("timedelta64[D]")
    meta["next_person"] += len(newcomers)
    meta["next_household"] = int(newcomers["household_index"].max()) + 1
    pop = pd.concat([pop, newcomers], ignore_index=True)
    m = len(newcomers)
    records[PUBLIC_SECURITY] = pd.concat([records[PUBLIC_SECURITY], dep.public_security(newcomers, date, rng)],
                                         ignore_index=True)
    fp_new = dep.family_planning_members(newcomers, date, int(m * ROWS_PER_PERSON[FAMILY_PLANNING]), rng)
    if len(fp_new):
        records[FAMILY_PLANNING] = pd.concat([records[FAMILY_PLANNING], dep.family_planning(fp_new, date, rng)],
                                             ignore_index=True)
    lb_new = dep.labour_members(newcomers, date, int(m * ROWS_PER_PERSON[LABOUR]), rng)
    if len(lb_new):
        records[LABOUR] = pd.concat([records[LABOUR], dep.labour(lb_new, date, rng)], ignore_index=True)
    changes["move_ins"] = m

    # changed phones: the person's new number reaches some departments tonight
    have = np.flatnonzero((pop["status"].to_numpy() == "正常") & pop["phone"].notna().to_numpy())
    who = rng.choice(have, min(len(have), _count(n, NIGHTLY["phone_changes"], 3)), replace=False)
    pop.loc[pop.index[who], "phone"] = draw_phones(rng, len(who))
    changed_ids = set(pop["person_id"].to_numpy()[who])
    changes["phone_changes"] = 0
    for d, field in PHONE_FIELD.items():
        r = records[d]
        rows = np.flatnonzero(r["_person_id"].isin(changed_ids).to_numpy() & (rng.random(len(r)) < 0.8))
        if len(rows):
            p = _aligned(pop, r["_person_id"].to_numpy()[rows])
            r.loc[r.index[rows], field] = dep.phones(p, d, rng, landline_share=0.0)
            changes["phone_changes"] += len(rows)

    # moves inside the district: a new current address
    have = np.flatnonzero((pop["status"].to_numpy() == "正常"))
    who = rng.choice(have, min(len(have), _count(n, NIGHTLY["address_changes"], 3)), replace=False)
    new_addr = draw_local_addresses(rng, len(who), "current")
    for c, v in new_addr.items():
        pop.loc[pop.index[who], c] = v
    pop.loc[pop.index[who], "current_text"] = None
    moved_ids = set(pop["person_id"].to_numpy()[who])
    changes["address_changes"] = 0
    for d, field in ADDRESS_FIELD.items():
        r = records[d]
        rows = np.flatnonzero(r["_person_id"].isin(moved_ids).to_numpy())
        if len(rows):
            p = _aligned(pop, r["_person_id"].to_numpy()[rows])
            r.loc[r.index[rows], field] = dep.render_address(p, "current", d, rng)
            if d == CIVIL_AFFAIRS:
                local = p["hukou_text"].isna().to_numpy()
                r.loc[r.index[rows[~local]], "所属街道"] = (p["current_street"][~local].astype(str) + "街道").to_numpy()
                r.loc[r.index[rows[~local]], "所属社区"] = (p["current_community"][~local].astype(str) + "社区").to_numpy()
            changes["address_changes"] += len(rows)

    # employment: some lose their job, some find one
    lb = records[LABOUR]
    k = min(len(lb), _count(n, NIGHTLY["employment_changes"], 3))
    rows = rng.choice(len(lb), k, replace=False)
    was = lb["JYZT"].to_numpy(dtype=object)[rows]
    lose = np.isin(was, ["就业", "灵活就业"])
    idx_lose, idx_find = lb.index[rows[lose]], lb.index[rows[~lose & (was == "失业")]]
    lb.loc[idx_lose, "JYZT"] = "失业"
    lb.loc[idx_lose, "DWMC"] = None
    lb.loc[idx_lose, "SYDJRQ"] = date
    lb.loc[idx_lose, "CBZT"] = "暂停缴费"
    if len(idx_find):
        emp = dep.labour(_aligned(pop, lb.loc[idx_find, "_person_id"].to_numpy()), date, rng)
        lb.loc[idx_find, "JYZT"] = "就业"
        lb.loc[idx_find, "DWMC"] = ("深圳市" + pd.Series(emp["DWMC"].fillna("福田实业有限公司").to_numpy(dtype=object))
                                    .astype(str).str.replace("^深圳市", "", regex=True)).to_numpy()
        lb.loc[idx_find, "SYDJRQ"] = None
        lb.loc[idx_find, "CBZT"] = "参保缴费"
    touched = lb.index[rows[lose | (was == "失业")]]
    lb.loc[touched, "GXSJ"] = dep.timestamps(np.full(len(touched), today), rng)
    changes["employment_changes"] = len(touched)

    # some earlier typos put right
    changes["corrections"] = 0
    for d in records:
        r = records[d]
        for field, clean, kinds in ((NAME_FIELD[d], "_clean_name", NAME_TAGS), (ID_FIELD[d], "_clean_id", ID_TAGS)):
            wrong = (r[field] != r[clean]).fillna(False).to_numpy(dtype=bool) & r[field].notna().to_numpy()
            fix = np.flatnonzero(wrong & (rng.random(len(r)) < TYPO_CORRECTED))
            r.loc[r.index[fix], field] = r[clean].to_numpy(dtype=object)[fix]
            r.loc[r.index[fix], "_tags"] = irr.without_tags(r["_tags"].to_numpy(dtype=object)[fix], kinds)
            changes["corrections"] += len(fix)

    # a few lines of the labour file come out broken tonight, others are whole again
    lb = records[LABOUR]
    lb["_invalid_json"] = dep.invalid_lines(len(lb), rng)
    for d in records:
        records[d] = records[d].reset_index(drop=True)
    return pop, records, meta, changes


def _babies(mothers: pd.DataFrame, pop: pd.DataFrame, meta: dict, today, rng) -> pd.DataFrame:
    b = mothers.copy().reset_index(drop=True)
    k = len(b)
    male = rng.random(k) < 0.52
    b["person_id"] = np.char.add("P", zfill((meta["next_person"] + np.arange(k)).astype("U9"), 9))
    meta["next_person"] += k
    b["sex"] = np.where(male, "1", "2")
    b["birth_date"] = today - rng.integers(1, 25, k).astype("timedelta64[D]")
    # the father's surname when he is in the household
    husbands = pop[(pop["relation"].isin(["户主", "配偶"])) & (pop["sex"] == "1")].drop_duplicates("household_index")
    father_surname = b["household_index"].map(husbands.set_index("household_index")["surname"])
    b["surname"] = father_surname.fillna(b["surname"]).to_numpy(dtype=object)
    b["given_name"] = draw_given_names(rng, b["sex"].to_numpy(dtype=object))
    b["name"] = (b["surname"].astype(str) + b["given_name"].astype(str)).to_numpy(dtype=object)
    uy = b["name"].str.contains("·", regex=False).to_numpy() | (b["surname"] == "").to_numpy()
    b.loc[uy, "name"] = b.loc[uy, "given_name"]
    b["former_name"] = None
    b["code"] = "440304"
    ymd = pd.Series(b["birth_date"]).dt.strftime("%Y%m%d").to_numpy(dtype="U8")
    order = rng.integers(0, 500, k) * 2 + male
    body = np.char.add(np.char.add("440304", ymd), zfill(order.astype("U3"), 3))
    ids = with_check(body).astype(object)
    taken = set(pop["id_number"])
    clash = np.array([i in taken for i in ids])           # a handful of new-borns
    while clash.any():
        order[clash] = rng.integers(0, 500, clash.sum()) * 2 + male[clash]
        body = np.char.add(np.char.add("440304", ymd), zfill(order.astype("U3"), 3))
        ids = with_check(body).astype(object)
        clash = np.array([i in taken for i in ids])
    b["id_number"] = ids
    b["relation"] = np.where(b["relation"].isin(["户主", "配偶"]).to_numpy(), np.where(male, "子", "女"),
                             np.where(male, "孙子", "孙女"))
    b["phone"] = None
    b["twin"] = False
    b["id_shared"] = False
    b["disability"] = None
    b["status"] = "正常"
    b["status_date"] = b["birth_date"]
    b["former_name"] = None
    return b
