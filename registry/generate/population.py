"""The true population of a district: people in households, with identities and addresses.

Everything is drawn as numpy arrays (indices into vocabularies, vectorised check characters);
there is no loop over people. The result is one pandas DataFrame, one row per person, which the
department builders (departments.py) turn into delivered records.

Longer than most modules on purpose: one population is one chain of vectorised draws (households,
identities, names, addresses), each reading the ones before it; split, the chain would be harder to follow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.generate.dates import format_dates
from registry.generate.idnumbers import with_check, zfill
from registry.generate.rates import population_rate
from registry.generate.vocab import division_name, vocabulary

# Household sizes of a Chinese city district (share of households).
HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_SIZE_P = np.array([0.18, 0.27, 0.28, 0.15, 0.08, 0.04])

ETHNICITIES = np.array(["汉族", "壮族", "回族", "土家族", "苗族", "满族", "瑶族", "维吾尔族", "侗族", "蒙古族",
                        "朝鲜族", "藏族", "彝族", "哈萨克族"], dtype=object)
ETHNICITY_P = np.array([0.938, 0.016, 0.008, 0.008, 0.006, 0.005, 0.004, 0.004, 0.003, 0.002,
                        0.002, 0.002, 0.0015, 0.0005])
# Provinces a minority's migrants usually come from (GB/T 2260 two-digit prefixes).
ETHNIC_PROVINCES = {"壮族": ["45"], "回族": ["64", "62", "41"], "土家族": ["43", "42", "50"], "苗族": ["52", "43"],
                    "满族": ["21", "13", "22"], "瑶族": ["45", "43", "44"], "维吾尔族": ["65"], "侗族": ["52", "43"],
                    "蒙古族": ["15"], "朝鲜族": ["22"], "藏族": ["54", "63"], "彝族": ["53", "51"], "哈萨克族": ["65"]}
# Where Shenzhen's migrants come from (province prefix -> share).
MIGRANT_PROVINCES = {"44": 0.30, "43": 0.14, "45": 0.09, "42": 0.08, "36": 0.08, "51": 0.06, "41": 0.06,
                     "50": 0.03, "35": 0.02, "34": 0.02, "52": 0.02, "37": 0.015, "32": 0.01, "33": 0.01,
                     "13": 0.008, "61": 0.008, "23": 0.005, "22": 0.005, "21": 0.005, "46": 0.005, "53": 0.005,
                     "11": 0.004, "12": 0.003, "14": 0.003, "15": 0.003, "31": 0.004, "62": 0.003, "63": 0.001,
                     "64": 0.001, "65": 0.002, "54": 0.001}
LOCAL_CODE = "440304"
SHENZHEN_CODES = np.array(["440303", "440305", "440306", "440307", "440308"], dtype=object)

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")


def _choice(rng, values, size, p=None) -> np.ndarray:
    values = np.asarray(values, dtype=object)
    return values[rng.choice(len(values), size=size, p=p)]


def obj(a) -> np.ndarray:
    """An object array of Python strings (numbers written in decimal)."""
    if isinstance(a, pd.Series):
        a = a.to_numpy(dtype=object)
    a = np.asarray(a)
    if a.dtype == object:
        return a
    if a.dtype.kind in "iu":
        a = a.astype(str)
    return a.astype(object)


def cat(*parts) -> np.ndarray:
    """Concatenate arrays of strings (and str scalars) element-wise.

    Object-array `+` runs Python's str concatenation in numpy's C loop: much cheaper than fixed-width
    numpy unicode arrays or a round trip through arrow. No part may hold None."""
    out = None
    for p in parts:
        p = p if isinstance(p, str) else obj(p)
        out = p if out is None else out + p
    return out


def draw_codes(rng, n: int, provinces: np.ndarray | None = None) -> np.ndarray:
    """County-level division codes of people first registered outside the district.

    provinces: optional 2-digit prefix per person (minorities); others follow migration shares.
    """
    v = vocabulary()
    pref = np.array(list(MIGRANT_PROVINCES), dtype=object)
    p = np.array(list(MIGRANT_PROVINCES.values()), dtype=float)
    prov = pref[rng.choice(len(pref), size=n, p=p / p.sum())]
    if provinces is not None:
        prov = np.where(pd.isna(provinces), prov, provinces)
    codes = np.empty(n, dtype=object)
    outside_sz = ~pd.Series(v.county_codes).str.startswith("4403").to_numpy()
    for pr in np.unique(prov):            # loop over ~31 provinces
        pool = v.county_codes[(v.county_province == pr) & outside_sz]
        sel = prov == pr
        codes[sel] = pool[rng.integers(0, len(pool), sel.sum())]
    return codes


def draw_given_names(rng, sex: np.ndarray) -> np.ndarray:
    """Given names: a popular name (伟, 芳, 秀英 ...) or one or two characters from a weighted pool."""
    v = vocabulary()
    n = len(sex)
    out = np.empty(n, dtype=object)
    for s in ("M", "F"):
        sel = np.flatnonzero(sex == ("1" if s == "M" else "2"))
        names, p = v.given_popular[s]
        chars, cp = v.given_chars[s]
        popular = names[rng.choice(len(names), len(sel), p=p)]
        c1 = chars[rng.choice(len(chars), len(sel), p=cp)]
        c2 = chars[rng.choice(len(chars), len(sel), p=cp)]
        kind = rng.random(len(sel))
        two = c1 + c2
        out[sel] = np.where(kind < 0.30, popular, np.where(kind < 0.45, c1, two))
    # about 1% carry a rare character (喆, 玥, 堃 ...), which departments' systems mangle
    rare = np.array(list(v.rare_chars), dtype=object)
    r = np.flatnonzero(rng.random(n) < 0.012)
    out[r] = cat(pd.Series(out[r], dtype=object).str[:-1], rare[rng.integers(0, len(rare), len(r))])
    return out


def draw_phones(rng, n: int) -> np.ndarray:
    prefixes = np.array(["138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182", "183", "187",
                         "188", "130", "131", "132", "155", "156", "185", "186", "133", "153", "177", "180", "181",
                         "189", "199", "166", "198", "191", "178", "147", "176"], dtype="U3")
    tail = zfill(rng.integers(0, 10**8, n).astype("U8"), 8)
    return np.char.add(prefixes[rng.integers(0, len(prefixes), n)], tail).astype(object)


def draw_landlines(rng, n: int) -> np.ndarray:
    first = rng.choice(np.array(["8", "2", "3"]), n, p=[0.6, 0.25, 0.15])
    rest = zfill(rng.integers(0, 10**7, n).astype("U7"), 7)
    return np.char.add("0755-", np.char.add(first, rest)).astype(object)


def draw_local_addresses(rng, n: int, prefix: str) -> dict[str, np.ndarray]:
    """Structured addresses inside the district: street, community, estate or road, building, unit, room."""
    d = vocabulary().district
    streets = list(d["streets"])
    si = rng.integers(0, len(streets), n)
    street = np.array(streets, dtype=object)[si]
    comm = np.empty(n, dtype=object)
    place = np.empty(n, dtype=object)
    on_road = rng.random(n) < 0.3
    road_no = rng.integers(1, 400, n)
    for i, s in enumerate(streets):           # loop over the district's 10 streets
        sel = si == i
        k = int(sel.sum())
        info = d["streets"][s]
        comm[sel] = np.array(info["communities"], dtype=object)[rng.integers(0, len(info["communities"]), k)]
        estate = np.array(info["estates"], dtype=object)[rng.integers(0, len(info["estates"]), k)]
        road = np.array(info["roads"], dtype=object)[rng.integers(0, len(info["roads"]), k)]
        place[sel] = np.where(on_road[sel], cat(road, road_no[sel], "号"), estate)
    floor = rng.integers(1, 34, n)
    return {
        f"{prefix}_street": street,
        f"{prefix}_community": comm,
        f"{prefix}_place": place,
        f"{prefix}_building": rng.integers(1, 41, n).astype(np.int16),
        f"{prefix}_unit": rng.integers(1, 7, n).astype(np.int16),
        f"{prefix}_room": (floor * 100 + rng.integers(1, 9, n)).astype(np.int16),
    }


def _other_addresses(rng, codes: np.ndarray) -> np.ndarray:
    """Village addresses in the places migrants' hukou was registered."""
    d = vocabulary().district["villages"]
    n = len(codes)
    names = pd.Series(codes).map({c: division_name(c) for c in np.unique(codes)})
    town = _choice(rng, d["towns"], n)
    village = _choice(rng, d["villages"], n)
    no = rng.integers(1, 200, n).astype(str)
    group = rng.integers(1, 12, n).astype(str)
    return cat(names, town, "镇", village, "村", group, "组", no, "号")


def _other_district_addresses(rng, n: int) -> np.ndarray:
    d = vocabulary().district
    districts = list(d["other_districts"])
    di = rng.integers(0, len(districts), n)
    street = np.empty(n, dtype=object)
    for i, name in enumerate(districts):
        sel = di == i
        street[sel] = _choice(rng, d["other_districts"][name], int(sel.sum()))
    return cat(d["province"] + d["city"], np.array(districts, dtype=object)[di], street, "街道",
                _choice(rng, ["海景花园", "南山花园", "翠竹苑", "阳光小区", "锦绣家园", "碧海湾"], n),
                rng.integers(1, 30, n).astype(str), "栋", rng.integers(1, 5, n).astype(str), "单元",
                (rng.integers(1, 30, n) * 100 + rng.integers(1, 9, n)).astype(str))


def _share_numbers(rng, id_number: np.ndarray, code: np.ndarray, birth: np.ndarray, sex: np.ndarray,
                   twin: np.ndarray) -> np.ndarray:
    """A number issued twice (重号): some people get the number of a stranger of the same sex, and with it
    the stranger's birth date and division code, as the registry that issued both would have them.
    In place; returns the mask of everyone whose number another person holds too."""
    total = len(id_number)
    k = int(rng.binomial(total, population_rate("id_shared_by_two") / 2)) if total > 1 else 0
    shared = np.zeros(total, dtype=bool)
    if not k:
        return shared
    pool = np.flatnonzero(~twin)
    a = np.sort(rng.choice(pool, min(k, len(pool) // 2), replace=False))
    b = np.full(len(a), -1, dtype=np.int64)
    for s_ in ("1", "2"):                   # the stranger: the next person of that sex by birth date
        cand = pool[sex[pool] == s_]
        cand = cand[np.argsort(birth[cand], kind="stable")]
        rank = np.full(total, -1, dtype=np.int64)
        rank[cand] = np.arange(len(cand))
        sel = np.flatnonzero(sex[a] == s_)
        nxt = rank[a[sel]] + 1
        ok = nxt < len(cand)
        b[sel[ok]] = cand[nxt[ok]]
    keep = (b >= 0) & ~np.isin(b, a)
    a, b = a[keep], b[keep]
    b, first = np.unique(b, return_index=True)
    a = a[first]
    id_number[b], code[b], birth[b] = id_number[a], code[a], birth[a]
    shared[a] = shared[b] = True
    return shared


def make_people(rng: np.random.Generator, n: int, extract_date: str, first_person: int = 1,
                first_household: int = 1, unregistered: int = 0) -> pd.DataFrame:
    """At least n registered people (whole households) plus `unregistered` people absent from the register.

    Columns: person_id, household_id, relation, sex ('1'/'2'), birth_date, ethnicity, surname, given_name,
    name, id_number, code, population_type, registered (in the household register), status, status_date,
    phone, landline, twin, disability, and the structured hukou_* / current_* address columns.
    """
    v = vocabulary()
    today = np.datetime64(extract_date, "D")
    # households: sizes until n people; unregistered people are single-person households appended
    est = int(n / 2.8) + 16
    sizes = HOUSEHOLD_SIZES[rng.choice(len(HOUSEHOLD_SIZES), est, p=HOUSEHOLD_SIZE_P)]
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, HOUSEHOLD_SIZES[rng.choice(6, est, p=HOUSEHOLD_SIZE_P)]])
    cut = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    sizes = sizes[:cut]
    sizes[-1] -= int(sizes.sum() - n)
    sizes = sizes[sizes > 0]
    sizes = np.concatenate([sizes, np.ones(unregistered, dtype=sizes.dtype)])
    h = len(sizes)
    total = int(sizes.sum())
    hh = np.repeat(np.arange(h), sizes)
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(total) - starts[hh]
    hsize = sizes[hh]
    registered_h = np.arange(h) < h - unregistered

    # relation to the head, by rank in the household
    u = rng.random(total)
    rel = np.full(total, "户主", dtype=object)
    r1 = rank == 1
    rel[r1] = np.where(u[r1] < 0.86, "配偶", _choice(rng, ["子", "女", "母亲", "兄弟", "姐妹", "其他"], int(r1.sum())))
    r23 = (rank == 2) | (rank == 3)
    rel[r23] = np.where(u[r23] < 0.93, _choice(rng, ["子", "女"], int(r23.sum())), "其他")
    r4 = rank == 4
    rel[r4] = _choice(rng, ["孙子", "孙女", "父亲", "子", "女"], int(r4.sum()), p=[0.3, 0.3, 0.2, 0.1, 0.1])
    r5 = rank == 5
    rel[r5] = _choice(rng, ["孙子", "孙女", "其他"], int(r5.sum()), p=[0.4, 0.4, 0.2])
    has_grandchild_h = np.zeros(h, dtype=bool)
    has_grandchild_h[hh[(rel == "孙子") | (rel == "孙女")]] = True
    has_spouse_h = np.zeros(h, dtype=bool)
    has_spouse_h[hh[rel == "配偶"]] = True

    # sex
    head_male_h = rng.random(h) < np.where(has_spouse_h, 0.78, 0.5)
    male = np.empty(total, dtype=bool)
    male[:] = rng.random(total) < 0.5
    male[rel == "户主"] = head_male_h[hh[rel == "户主"]]
    male[rel == "配偶"] = ~head_male_h[hh[rel == "配偶"]]
    for r, m in (("子", True), ("女", False), ("父亲", True), ("母亲", False), ("孙子", True), ("孙女", False),
                 ("兄弟", True), ("姐妹", False)):
        male[rel == r] = m
    sex = np.where(male, "1", "2").astype(object)

    # ages (years): the head's age depends on who lives with them
    head_age_h = np.where(has_grandchild_h, rng.uniform(52, 85, h),
                          np.where(sizes >= 3, rng.uniform(26, 70, h), rng.uniform(19, 88, h)))
    head_age = head_age_h[hh]
    age = head_age.copy()
    sp = rel == "配偶"
    age[sp] = head_age[sp] + rng.normal(0, 3, sp.sum()) * 1.0 + np.where(male[sp], 2, -2)
    ch = (rel == "子") | (rel == "女")
    child_age = head_age[ch] - rng.uniform(22, 36, ch.sum())
    age[ch] = np.where(child_age > 0, child_age, rng.uniform(0, 3, ch.sum()))
    pa = (rel == "父亲") | (rel == "母亲")
    age[pa] = head_age[pa] + rng.uniform(22, 34, pa.sum())
    gc = (rel == "孙子") | (rel == "孙女")
    gc_age = head_age[gc] - rng.uniform(46, 62, gc.sum())
    age[gc] = np.where(gc_age > 0.05, gc_age, rng.uniform(0.05, 4, gc.sum()))
    sib = (rel == "兄弟") | (rel == "姐妹")
    age[sib] = head_age[sib] + rng.uniform(-8, 8, sib.sum())
    ot = rel == "其他"
    age[ot] = rng.uniform(5, 80, ot.sum())
    # spread rather than clip, so that no birth date gathers hundreds of people
    age = np.where(age < 0.02, rng.uniform(0.02, 2, total), np.where(age > 100, rng.uniform(85, 100, total), age))
    birth = today - (age * 365.25).astype(np.int64).astype("timedelta64[D]")

    # twins: the second child of some households shares the first child's birth date
    first_child = np.zeros(h, dtype=np.int64) - 1
    child_idx = np.flatnonzero(ch & (rank == 2))
    first_child[hh[child_idx]] = child_idx
    second = np.flatnonzero(ch & (rank == 3))
    pair = first_child[hh[second]]
    twin_sel = (pair >= 0) & (rng.random(len(second)) < population_rate("twins"))
    twin = np.zeros(total, dtype=bool)
    birth[second[twin_sel]] = birth[pair[twin_sel]]
    twin[second[twin_sel]] = True
    twin[pair[twin_sel]] = True
    twin_a, twin_b = pair[twin_sel], second[twin_sel]

    # ethnicity (per household) and population type
    eth_h = ETHNICITIES[rng.choice(len(ETHNICITIES), h, p=ETHNICITY_P / ETHNICITY_P.sum())]
    eth = eth_h[hh]
    migrant_h = rng.random(h) < np.where(eth_h == "汉族", 0.38, 0.75)
    migrant_h[~registered_h] = True
    migrant = migrant_h[hh]
    pop_type = np.where(migrant, "流动人口", "户籍人口").astype(object)

    # division code where the hukou was first registered
    eth_prov_h = np.full(h, None, dtype=object)
    for e, provs in ETHNIC_PROVINCES.items():
        sel = eth_h == e
        eth_prov_h[sel] = np.array(provs, dtype=object)[rng.integers(0, len(provs), sel.sum())]
    origin_h = draw_codes(rng, h, eth_prov_h)
    own_origin = draw_codes(rng, total, eth_prov_h[hh])
    code = np.where(rng.random(total) < 0.8, origin_h[hh], own_origin)
    years = (age).astype(int)
    local_born = ~migrant & (rng.random(total) < np.where(years < 28, 0.85, 0.45))
    code = np.where(local_born, np.where(rng.random(total) < 0.78, LOCAL_CODE,
                                         SHENZHEN_CODES[rng.integers(0, len(SHENZHEN_CODES), total)]), code)

    # identity numbers: code + birth date + order code (odd = male) + check; unique
    ymd = format_dates(birth, "ymd").astype("U8")
    head17 = np.char.add(code.astype("U6"), ymd)
    order = rng.integers(0, 500, total) * 2 + male
    for _ in range(50):
        body = np.char.add(head17, zfill(order.astype("U3"), 3))
        dup = pd.Series(body).duplicated().to_numpy()
        if not dup.any():
            break
        order[dup] = rng.integers(0, 500, dup.sum()) * 2 + male[dup]
    else:
        raise RuntimeError("could not draw unique identity numbers")
    id_number = with_check(body).astype(object)

    # names: children take the father's surname; spouses and mothers have their own
    surname_h = v.surnames[rng.choice(len(v.surnames), h, p=v.surname_p)]
    own_surname = v.surnames[rng.choice(len(v.surnames), total, p=v.surname_p)]
    spouse_surname_h = v.surnames[rng.choice(len(v.surnames), h, p=v.surname_p)]
    family_surname_h = np.where(head_male_h | ~has_spouse_h, surname_h, spouse_surname_h)
    surname = family_surname_h[hh].copy()
    surname[rel == "户主"] = surname_h[hh[rel == "户主"]]
    surname[sp] = np.where(male[sp], spouse_surname_h[hh[sp]], own_surname[sp])
    surname[sp & male] = spouse_surname_h[hh[sp & male]]
    for r in ("母亲", "其他"):
        surname[rel == r] = own_surname[rel == r]
    given = draw_given_names(rng, sex)
    # many twins share a generation character: 明轩 / 明哲
    gen = (rng.random(len(twin_b)) < population_rate("twins_generation_name"))
    gen &= pd.Series(given[twin_a], dtype=object).str.len().to_numpy() == 2
    if gen.any():
        other = draw_given_names(rng, sex[twin_b[gen]])
        given[twin_b[gen]] = cat(pd.Series(given[twin_a[gen]], dtype=object).str[:1], pd.Series(other, dtype=object).str[-1:])
    for _ in range(20):                    # twins never share a given name
        same = given[twin_b] == given[twin_a]
        if not same.any():
            break
        redraw = draw_given_names(rng, sex[twin_b[same]])
        keep_gen = gen[same]
        given[twin_b[same]] = np.where(keep_gen, cat(pd.Series(given[twin_a[same]], dtype=object).str[:1],
                                                     pd.Series(redraw, dtype=object).str[-1:]), redraw)
    # namesakes: unrelated people with the same name and birth date (single-person households)
    han = eth == "汉族"
    single = np.flatnonzero((hsize == 1) & han & registered_h[hh] & (age >= 18))
    k = min(len(single) // 2, int(round(total * population_rate("namesakes"))))
    if k:
        b = rng.choice(single, k, replace=False)
        pool = np.flatnonzero(han & (age >= 18) & (hsize > 1))
        a = pool[rng.integers(0, len(pool), k)]
        a_same_sex = sex[a] == sex[b]
        a, b = a[a_same_sex], b[a_same_sex]
        surname[b], given[b] = surname[a], given[a]
        namesake_birth = birth[a]
    name = surname + given
    if k and len(b):
        birth[b] = namesake_birth
        ymd_b = format_dates(birth[b], "ymd").astype("U8")
        taken = set(id_number)
        body_b = np.char.add(np.char.add(code[b].astype("U6"), ymd_b), zfill(order[b].astype("U3"), 3))
        new_ids = with_check(body_b).astype(object)
        for _ in range(50):
            clash = np.array([x in taken for x in new_ids])       # a few hundred namesakes at most
            if not clash.any():
                break
            order[b[clash]] = rng.integers(0, 500, clash.sum()) * 2 + male[b[clash]]
            body_b = np.char.add(np.char.add(code[b].astype("U6"), ymd_b), zfill(order[b].astype("U3"), 3))
            new_ids = with_check(body_b).astype(object)
        id_number[b] = new_ids
    id_shared = _share_numbers(rng, id_number, code, birth, sex, twin)
    # Uyghur and Kazakh names: own name · father's name; Tibetan: two names, no surname
    d = vocabulary().district
    uy = (eth == "维吾尔族") | (eth == "哈萨克族")
    if uy.any():
        um = np.array(d["uyghur"]["male"], dtype=object)
        uf = np.array(d["uyghur"]["female"], dtype=object)
        own = np.where(male[uy], um[rng.integers(0, len(um), uy.sum())], uf[rng.integers(0, len(uf), uy.sum())])
        father = um[rng.integers(0, len(um), uy.sum())]
        name[uy] = own + "·" + father
        surname[uy] = ""
        given[uy] = name[uy]
    tb = eth == "藏族"
    if tb.any():
        tm = np.array(d["tibetan"]["male"], dtype=object)
        tf = np.array(d["tibetan"]["female"], dtype=object)
        a = np.where(male[tb], tm[rng.integers(0, len(tm), tb.sum())], tf[rng.integers(0, len(tf), tb.sum())])
        b = np.where(male[tb], tm[rng.integers(0, len(tm), tb.sum())], tf[rng.integers(0, len(tf), tb.sum())])
        name[tb] = a + b
        surname[tb] = ""
        given[tb] = name[tb]
    former = np.full(total, None, dtype=object)
    fsel = (rng.random(total) < 0.03) & (eth == "汉族") & (age > 10)
    former[fsel] = surname[fsel] + draw_given_names(rng, sex[fsel])

    # addresses: the household's hukou address; where each member lives now
    people = {}
    hk = draw_local_addresses(rng, h, "hukou")
    for k, val in hk.items():
        people[k] = val[hh]
    hukou_text = np.where(migrant, _other_addresses(rng, origin_h)[hh], None)
    for k in hk:
        if k.endswith(("street", "community", "place")):
            people[k] = np.where(migrant, None, people[k])
    cur = draw_local_addresses(rng, h, "current")
    lives_at_hukou_h = (~migrant_h) & (rng.random(h) < 0.7)
    for k, val in cur.items():
        people[k] = val[hh]
    for k in hk:
        ck = "current" + k[len("hukou"):]
        people[ck] = np.where(lives_at_hukou_h[hh], people[k], people[ck])
    current_text = np.full(total, None, dtype=object)
    elsewhere = (~migrant) & (~lives_at_hukou_h[hh]) & (rng.random(total) < 0.12) & ~twin
    current_text[elsewhere] = _other_district_addresses(rng, int(elsewhere.sum()))

    phone = draw_phones(rng, total)
    phone = np.where((age < 14) | (rng.random(total) < 0.03), None, phone)
    landline = np.where(rng.random(h) < 0.3, draw_landlines(rng, h), None)[hh]

    # status in the register: a few have died or moved out already
    u = rng.random(total)
    status = np.where((age > 70) & (u < 0.012), "死亡", np.where(u > 0.99, "迁出", "正常")).astype(object)
    status_date = np.full(total, None, dtype="datetime64[D]")
    changed = status != "正常"
    status_date[changed] = today - rng.integers(30, 3000, changed.sum()).astype("timedelta64[D]")
    status_date[changed] = np.maximum(status_date[changed], birth[changed] + np.timedelta64(1, "D"))

    # disability: category (1-7) and level (1-4), more frequent with age
    disabled = rng.random(total) < np.clip(0.006 + age / 2500, 0, 0.06)
    disability = np.where(disabled, (rng.integers(1, 8, total) * 10 + rng.integers(1, 5, total)).astype(str), None)

    hh_no = np.char.add("440304", zfill((first_household + np.arange(h)).astype("U9"), 9)).astype(object)
    df = pd.DataFrame({
        "person_id": np.char.add("P", zfill((first_person + np.arange(total)).astype("U9"), 9)),
        "household_id": np.where(registered_h, hh_no, None)[hh],
        "household_index": (first_household + hh).astype(np.int64),
        "relation": np.where(registered_h[hh], rel, None),
        "household_size": hsize.astype(np.int16),
        "sex": sex,
        "birth_date": birth,
        "ethnicity": eth,
        "surname": surname,
        "given_name": given,
        "name": name,
        "former_name": former,
        "id_number": id_number,
        "code": code,
        "population_type": pop_type,
        "registered": registered_h[hh],
        "status": status,
        "status_date": status_date,
        "phone": phone,
        "landline": landline,
        "twin": twin,
        "id_shared": id_shared,
        "disability": disability,
        "hukou_text": hukou_text,
        "current_text": current_text,
        **people,
    })
    # the unregistered (orphans) are working-age adults living in the district
    unreg = ~df["registered"].to_numpy()
    if unreg.any():
        df.loc[unreg, "status"] = "正常"
        df.loc[unreg, "status_date"] = pd.NaT
    for c in ("relation", "household_id", "former_name", "phone", "landline", "disability", "hukou_text",
              "current_text", "hukou_street", "hukou_community", "hukou_place"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df
