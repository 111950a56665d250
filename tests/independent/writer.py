"""An independent writer of department deliveries, built from DEPARTMENTS.md only.

One module, longer than most, on purpose: it is read side by side with DEPARTMENTS.md, and it keeps its
own check-character table and vocabularies rather than the library's, so that it can catch the library.

It shares no code, vocabulary or habits with registry/generate: its own names, addresses and ways of
being messy, each still within what DEPARTMENTS.md allows (CRLF line ends, everything quoted, commas and
quotes inside addresses, GB18030-only characters, XLSX from openpyxl or xlsxwriter with typed cells and the
sheet not first, JSON Lines with reordered and unknown keys, numbers, escapes, a BOM and blank lines ...).

    night = write_night(landing, "2026-11-20", people=2000, seed=5)
    night.truth        # DataFrame: department, source_record_id, person_id, true_id_number, id_recoverable
    night.rows         # department -> data rows written

`id_recoverable` says whether the delivered identity number determines the true one (clean, or messy only in
ways the contract lists: case, width, spaces, dashes, 15-digit form). Typos and numbers that lost digits in
a spreadsheet are not recoverable.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

SURNAMES = ["李", "王", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
            "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田",
            "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢", "姚",
            "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖", "石", "金", "韦", "贾", "夏", "付", "方", "邹",
            "欧阳", "司马", "上官", "单", "区", "覃"]
GIVEN = list("子涵欣怡梓萱思彤雨桐浩宇俊杰宇轩博文嘉怡晨曦雅婷志强丽娟建华秀英桂芳海燕春梅国庆红霞永刚"
             "晓东明辉婉清锦程书瑶沐阳若汐亦凡昊然紫琪佳琪天佑铭泽诗涵瑞霖睿哲羽彤语嫣文轩家豪静怡")
# Characters outside GBK (CJK extension A and B): only GB18030 encodes them.
RARE = ["㐀", "𠀀", "䶮", "𠮷", "㛃", "䲜", "𪚥"]
RARE_PINYIN = {"㐀": "Qiu", "𠀀": "He", "䶮": "Yan", "𠮷": "Ji", "㛃": "Jie", "䲜": "Ye", "𪚥": "Zhe"}
# Traditional forms, including less common variant forms, as some offices still type them.
TRADITIONAL = {"张": "張", "刘": "劉", "陈": "陳", "黄": "黃", "赵": "趙", "郑": "鄭", "罗": "羅", "叶": "葉",
               "钟": "鍾", "萧": "蕭", "卫": "衞", "华": "華", "伟": "偉", "国": "國", "丽": "麗", "红": "紅",
               "东": "東", "庆": "慶", "强": "強", "书": "書", "刚": "剛", "辉": "輝", "凤": "鳳", "杨": "楊",
               "韩": "韓", "冯": "馮", "邓": "鄧", "许": "許", "谢": "謝", "苏": "蘇", "吕": "呂", "姜": "姜",
               "锦": "錦", "程": "程", "晓": "曉", "涵": "涵", "轩": "軒", "铭": "銘", "诗": "詩", "语": "語"}
MINORITY = [("买买提", "艾力"), ("阿依古丽", "吐尔逊"), ("热依拉", "阿不都"), ("古丽娜尔", "买合木提"),
            ("艾克拜尔", "尼亚孜"), ("帕尔哈提", "司马义")]
ETHNIC = ["汉族"] * 30 + ["回族", "壮族", "满族", "土家族", "苗族"]

HOME_PROVINCES = [  # (division code, province, city, district) of where hukou was first registered
    ("440304", "广东省", "深圳市", "福田区"), ("440303", "广东省", "深圳市", "罗湖区"),
    ("440305", "广东省", "深圳市", "南山区"), ("430104", "湖南省", "长沙市", "岳麓区"),
    ("360102", "江西省", "南昌市", "东湖区"), ("450102", "广西壮族自治区", "南宁市", "兴宁区"),
    ("510107", "四川省", "成都市", "武侯区"), ("410105", "河南省", "郑州市", "金水区"),
    ("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"), ("110105", "北京市", "北京市", "朝阳区"),
]
STREETS = {"福田街道": ["岗厦社区", "福安社区", "福山社区"], "华富街道": ["田面社区", "莲花北社区"],
           "莲花街道": ["景田社区", "彩田社区", "梅岭社区"], "香蜜湖街道": ["香梅社区", "侨香社区"]}
ESTATES = ["金地花园", "彩虹苑", "景田大厦", "梅林一村", "香榭里花园", "福莲新村", "嘉汇新城", "皇御苑"]
CN_NUM = "〇一二三四五六七八九"


def _cn(n: int) -> str:
    if n < 10:
        return CN_NUM[n]
    if n < 20:
        return "十" + (CN_NUM[n % 10] if n % 10 else "")
    return CN_NUM[n // 10] + "十" + (CN_NUM[n % 10] if n % 10 else "")


def check_char(body17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


@dataclass
class Person:
    pid: str
    surname: str
    given: str
    sex: str  # '男' / '女'
    birth: dt.date
    id18: str
    ethnicity: str
    hukou: dict
    current: dict | None
    phone: str
    household: str
    relation: str
    minority: bool = False
    rare: bool = False

    @property
    def name(self) -> str:
        return f"{self.surname}·{self.given}" if self.minority else self.surname + self.given


@dataclass
class Night:
    date: str
    landing: Path
    truth: pd.DataFrame
    rows: dict[str, int] = field(default_factory=dict)


class _Writer:
    def __init__(self, seed: int, people: int, extract: dt.date):
        self.r = random.Random(seed)
        self.n = people
        self.extract = extract
        self.people: list[Person] = []
        self.truth: list[tuple] = []
        self._orders: set[str] = set()

    # ------------------------------------------------------------ people
    def _id(self, code: str, birth: dt.date, sex: str) -> str:
        while True:
            order = self.r.randrange(0, 1000)
            if (order % 2 == 1) != (sex == "男"):
                order += 1
            body = f"{code}{birth:%Y%m%d}{order % 1000:03d}"
            if body not in self._orders:
                self._orders.add(body)
                return body + check_char(body)

    def _address(self, local: bool) -> dict:
        r = self.r
        if local:
            street = r.choice(list(STREETS))
            return {"province": "广东省", "city": "深圳市", "district": "福田区", "street": street,
                    "community": r.choice(STREETS[street]), "estate": r.choice(ESTATES),
                    "building": r.randint(1, 15), "unit": r.randint(1, 4), "room": r.randint(1, 30) * 100 + r.randint(1, 8)}
        code, prov, city, dist = r.choice(HOME_PROVINCES[3:])
        return {"province": prov, "city": city, "district": dist, "street": None, "community": None,
                "estate": r.choice(["人民路", "解放路", "建设大道", "新华街"]) + f"{r.randint(1, 300)}号",
                "building": None, "unit": None, "room": None}

    def _person(self, household: str, relation: str, sex: str, birth: dt.date, surname: str | None,
                hukou: dict, current: dict | None, code: str) -> Person:
        r = self.r
        minority = surname is None and r.random() < 0.02
        if minority:
            given, sur = r.choice(MINORITY)
            surname, given = given, sur
            ethnicity = "维吾尔族"
        else:
            surname = surname or r.choice(SURNAMES)
            given = "".join(r.choice(GIVEN) for _ in range(r.choice([1, 2, 2, 2])))
            ethnicity = r.choice(ETHNIC)
        rare = False
        if not minority and r.random() < 0.01:
            given = given[:-1] + r.choice(RARE)
            rare = True
        phone = (f"1{r.choice('3456789')}{r.randrange(10 ** 9):09d}" if r.random() < 0.85
                 else f"0755{r.randrange(2, 9)}{r.randrange(10 ** 6, 10 ** 7)}")
        p = Person(f"P{len(self.people):07d}", surname, given, sex, birth, self._id(code, birth, sex), ethnicity,
                   hukou, current, phone, household, relation, minority, rare)
        self.people.append(p)
        return p

    def population(self) -> None:
        r = self.r
        h = 0
        while len(self.people) < self.n:
            h += 1
            household = f"{440304000000 + h * 7:012d}"
            local = r.random() < 0.7
            code = HOME_PROVINCES[r.randrange(3)][0] if local else r.choice(HOME_PROVINCES[3:])[0]
            hukou = self._address(local)
            current = None if local or r.random() < 0.3 else self._address(True)
            head_birth = dt.date(r.randint(1945, 1998), r.randint(1, 12), r.randint(1, 28))
            head = self._person(household, "户主", "男", head_birth, None, hukou, current, code)
            if r.random() < 0.8:
                wife_birth = head_birth + dt.timedelta(days=r.randint(-1500, 1500))
                self._person(household, "配偶", "女", wife_birth, None, hukou, current, code)
                kids = r.choice([0, 1, 1, 2, 2, 3])
                first_kid = min(self.extract - dt.timedelta(days=200), head_birth + dt.timedelta(days=r.randint(8000, 13000)))
                twins = kids >= 2 and r.random() < 0.08
                for k in range(kids):
                    birth = first_kid if (twins and k == 1) else first_kid + dt.timedelta(days=k * r.randint(400, 1500))
                    if birth >= self.extract:
                        break
                    sex = r.choice("男女")
                    self._person(household, "子" if sex == "男" else "女", sex, birth, head.surname if not head.minority
                                 else None, hukou, current, code)

    # ------------------------------------------------------------ messy values
    def addr_text(self, a: dict | None, style: int | None = None) -> str:
        if a is None:
            return ""
        r = self.r
        style = r.randrange(8) if style is None else style
        if a["street"] is None:
            head = a["province"] + a["city"] + a["district"] if style % 3 else a["city"] + a["district"]
            return head + a["estate"]
        b = a["building"]
        building = r.choice([f"{b}栋", f"{b}座", f"{b}号楼", f"{_cn(b)}栋"])
        unit = "" if r.random() < 0.15 else (f"{a['unit']}单元" if r.random() < 0.8 else f"{_cn(a['unit'])}单元")
        room = f"{a['room']}室" if r.random() < 0.5 else str(a["room"])
        rest = a["estate"] + building + unit + room
        head = {0: "广东省深圳市福田区", 1: "深圳市福田区", 2: "广东深圳福田", 3: "深圳福田区", 4: "福田区",
                5: "广东省深圳市福田区", 6: "深圳市福田区", 7: "广东省 深圳市 福田区 "}[style]
        community = "" if r.random() < 0.1 else a["community"]
        text = head + a["street"] + community + rest
        if r.random() < 0.03:
            text = text.replace(a["estate"], f'{a["estate"]}(原"{a["estate"][:2]}村"),')
        return text

    def phone_text(self, p: Person) -> str:
        r = self.r
        ph = p.phone
        x = r.random()
        if ph.startswith("0755"):
            local = ph[4:]
            return r.choice([f"0755-{local}", f"(0755){local}", f"0755 {local[:4]} {local[4:]}", f"0755{local}"])
        if x < 0.6:
            return ph
        return r.choice([f"+86 {ph[:3]}-{ph[3:7]}-{ph[7:]}", f"86{ph}", f"{ph[:3]} {ph[3:7]} {ph[7:]}",
                         f"{ph[:3]}-{ph[3:7]}-{ph[7:]}", f"+86{ph}", f"{ph} / 0755-83451234"])

    def name_text(self, p: Person, dept: str) -> str:
        r = self.r
        if p.minority:
            return p.surname + r.choice(["·", "•", ".", "・", "", "·"]) + p.given
        name = p.name
        if p.rare and dept in ("civil_affairs",):
            name = name[:-1] + RARE_PINYIN[name[-1]]
        x = r.random()
        if x < 0.03:
            name = "".join(TRADITIONAL.get(c, c) for c in name)
        elif x < 0.05:
            name = " ".join(name)
        elif x < 0.07:
            name = name + r.choice([" ", "  ", "\u3000"])
        return name

    def id_text(self, p: Person, dept: str) -> tuple[str, bool]:
        """(delivered text, recoverable)."""
        r = self.r
        i = p.id18
        x = r.random()
        fw = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
        if x < 0.80:
            return i, True
        if x < 0.83:
            return i.replace("X", "x"), True
        if x < 0.86:
            return r.choice([" ", "  "]) + i if r.random() < 0.5 else i + " ", True
        if x < 0.88 and p.birth.year < 2000:
            return i[:6] + i[8:17], True
        if x < 0.90:
            return i[:6] + " " + i[6:14] + " " + i[14:], True
        if x < 0.92 and dept in ("civil_affairs", "labour"):
            return i[:-1] + ("×" if i[-1] == "X" else i[-1]), True
        if x < 0.94 and dept == "civil_affairs":
            return i.translate(fw), True
        if x < 0.95 and dept == "civil_affairs":
            return i[:10] + "\u3000" + i[10:], True
        if x < 0.96 and dept == "civil_affairs":
            return i[:6] + "-" + i[6:14] + "-" + i[14:], True
        if x < 0.97 and dept == "civil_affairs":  # one digit mistyped
            pos = r.randrange(14, 17)
            return i[:pos] + str((int(i[pos]) + 1) % 10) + i[pos + 1:], False
        if x < 0.98 and dept == "civil_affairs":  # two adjacent digits swapped
            return (i[:15] + i[16] + i[15] + i[17:], False) if i[15] != i[16] else (i, True)
        return i, True

    def record(self, dept: str, key: str, p: Person, id_text: str | None, recoverable: bool) -> None:
        self.truth.append((dept, key, p.pid, p.id18, bool(recoverable and id_text)))


def _impossible(r: random.Random, fmt: str) -> str:
    y = r.randint(1950, 2000)
    return {"ymd": f"{y}0230", "iso": f"{y}-02-30", "slash": f"{y}/2/30", "cn": f"{y}年2月30日",
            "ym": r.choice([f"{y}.13", f"{y}-00", f"{y}-13"])}[fmt]


# ---------------------------------------------------------------- the four departments

def _public_security(w: _Writer, folder: Path, ymd: str) -> int:
    r = w.r
    header = ["人员编号", "公民身份号码", "姓名", "曾用名", "性别", "民族", "出生日期", "户籍地址", "现住址", "户号",
              "与户主关系", "人口类型", "人员状态", "变动日期"]
    order = header[:]
    lines = []
    for k, p in enumerate(w.people):
        key = f"GA{3100000000 + k * 3:010d}"
        idt, ok = w.id_text(p, "public_security")
        if r.random() < 0.003:
            idt, ok = "", False
        status = r.choices(["正常", "死亡", "迁出"], [96, 2, 2])[0]
        birth = f"{p.birth:%Y%m%d}" if r.random() > 0.002 else _impossible(r, "ymd")
        row = {"人员编号": key, "公民身份号码": idt, "姓名": w.name_text(p, "public_security"),
               "曾用名": (p.surname + r.choice(GIVEN) if r.random() < 0.05 else ""), "性别": p.sex,
               "民族": p.ethnicity + (" " if r.random() < 0.01 else ""), "出生日期": birth,
               "户籍地址": w.addr_text(p.hukou), "现住址": w.addr_text(p.current), "户号": p.household,
               "与户主关系": p.relation, "人口类型": "户籍人口" if p.id18[:4] == "4403" else "流动人口",
               "人员状态": status if r.random() > 0.01 else f" {status} ",
               "变动日期": "" if status == "正常" else f"{w.extract - dt.timedelta(days=r.randint(1, 900)):%Y-%m-%d}"}
        w.record("public_security", key, p, idt, ok)
        # Quote every field, as some exporters do; doubled quotes inside.
        lines.append(",".join('"' + row[c].replace('"', '""') + '"' for c in order))
    text = ",".join(f'"{h}"' for h in header) + "\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    (folder / f"hukou_{ymd}.csv").write_bytes(text.encode("gb18030"))
    return len(lines)


def _family_planning(w: _Writer, folder: Path, ymd: str, engine: str) -> int:
    r = w.r
    header = ["个案编号", "家庭档案号", "姓名", "身份证号", "性别", "出生年月", "婚姻状况", "家庭角色", "子女数",
              "独生子女证号", "联系电话", "现居住地", "登记日期"]
    by_household: dict[str, list[Person]] = {}
    for p in w.people:
        by_household.setdefault(p.household, []).append(p)
    rows = []
    for hh, members in by_household.items():
        wife = next((m for m in members if m.relation == "配偶"), None)
        if wife is None or not (1976 <= wife.birth.year <= 2005) or r.random() < 0.15:
            continue
        kids = [m for m in members if m.relation in ("子", "女")]
        family = f"FA{r.randrange(10 ** 8):08d}"
        for p in members:
            role = {"户主": "男方", "配偶": "女方"}.get(p.relation, "子女")
            key = f"JS{5200000000 + len(rows) * 11:010d}"
            idt, ok = w.id_text(p, "family_planning")
            id_cell: object = idt
            if role == "子女" and r.random() < 0.5:
                id_cell, ok = None, False
            elif len(idt) == 15 and r.random() < 0.7:
                id_cell = int(idt)  # a 15-digit number survives a spreadsheet's number cell
            elif idt == p.id18 and p.id18[-1] != "X" and r.random() < 0.01:
                id_cell, ok = int(idt), False  # an 18-digit number does not: digits lost
            ym = r.choice([f"{p.birth:%Y-%m}", f"{p.birth:%Y.%m}", f"{p.birth.year}.{p.birth.month}"])
            if r.random() < 0.003:
                ym = _impossible(r, "ym")
            children = None if role == "子女" else (len(kids) if r.random() < 0.7 else str(len(kids)))
            phone: object = w.phone_text(p)
            if phone == p.phone and r.random() < 0.3:
                phone = int(p.phone)
            rows.append([key, family, w.name_text(p, "family_planning"), id_cell, p.sex, ym,
                         r.choice(["初婚", "初婚", "再婚"]) if role != "子女" else "未婚", role, children,
                         f"DZ{r.randrange(10 ** 6):06d}" if role == "子女" and len(kids) == 1 and r.random() < 0.3 else None,
                         phone, w.addr_text(p.current or p.hukou),
                         dt.date(2010, 1, 1) + dt.timedelta(days=r.randint(0, 5000))])
            w.record("family_planning", key, p, id_cell, ok)
    path = folder / f"jisheng_{ymd}.xlsx"
    if engine == "openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.title = "说明"
        wb.active.append(["本表由计生系统导出"])
        ws = wb.create_sheet("个案信息")
        ws.append([None] + header + [None])  # an empty first column and a trailing one
        for row in rows:
            if r.random() < 0.01:
                ws.append([])  # an empty row inside the sheet
            ws.append([None] + row)
        wb.save(path)
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        wb.add_worksheet("汇总")
        ws = wb.add_worksheet("个案信息")
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write_row(0, 0, header)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date_fmt)
                elif v is not None:
                    ws.write(i, j, v)
        wb.close()
    return len(rows)


def _civil_affairs(w: _Writer, folder: Path, ymd: str) -> int:
    r = w.r
    header = ["对象编号", "姓名", "证件号码", "性别", "出生日期", "救助类别", "残疾人证号", "月保障金额", "家庭住址",
              "所属街道", "所属社区", "联系电话", "审批日期", "状态"]
    chosen = r.sample(w.people, max(1, int(len(w.people) * 0.05)))
    lines = []
    for p in chosen:
        for kind in r.sample(["城市低保", "特困供养", "临时救助", "高龄津贴", "残疾人两项补贴"], r.choice([1, 1, 1, 2])):
            key = f"MZ{7700000000 + len(lines) * 13:010d}"
            idt, ok = w.id_text(p, "civil_affairs")
            birth = r.choice([f"{p.birth.year}/{p.birth.month}/{p.birth.day}", f"{p.birth:%Y-%m-%d}"])
            if r.random() < 0.005:
                birth = _impossible(r, r.choice(["slash", "iso"]))
            a = p.current or p.hukou
            cert = (p.id18 + f"{r.randint(1, 7)}{r.randint(1, 4)}") if kind == "残疾人两项补贴" else ""
            row = [key, w.name_text(p, "civil_affairs"), idt, p.sex, birth, kind, cert,
                   f"{r.choice([560, 780, 1120, 1300])}.00", w.addr_text(a, style=r.choice([1, 4, 6])),
                   (a["street"] or "") + (" " if r.random() < 0.05 else ""), a["community"] or "",
                   w.phone_text(p), f"{w.extract - dt.timedelta(days=r.randint(1, 3000)):%Y-%m-%d}",
                   r.choice(["在保", "在保", "停保", " 在保 "])]
            if r.random() < 0.05 and a["street"]:  # no community: '深圳市福田区福田街道' and the rest
                row[8] = f"深圳市福田区{a['street']}" + a["estate"]
            w.record("civil_affairs", key, p, idt, ok)
            lines.append(",".join(_csv_field(str(v)) for v in row))
    text = "\ufeff" + ",".join(header) + "\r\n" + "\r\n".join(lines) + "\r\n"
    (folder / f"minzheng_{ymd}.csv").write_bytes(text.encode("utf-8"))
    return len(lines)


def _csv_field(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v


def _labour(w: _Writer, folder: Path, ymd: str) -> int:
    r = w.r
    lines = []
    adults = [p for p in w.people if 16 <= (w.extract.year - p.birth.year) <= 75]
    for p in r.sample(adults, min(len(adults), int(len(w.people) * 0.55))):
        key = f"LD{9300000000 + len(lines) * 17:010d}"
        idt, ok = w.id_text(p, "labour")
        status = r.choice(["就业", "失业", "灵活就业", "退休"])
        csrq = f"{p.birth.year}年{p.birth.month}月{p.birth.day}日" if r.random() < 0.5 else f"{p.birth:%Y年%m月%d日}"
        if r.random() < 0.003:
            csrq = _impossible(r, "cn")
        obj: dict = {"GRBH": key, "XM": w.name_text(p, "labour"), "SFZH": idt,
                     "XB": r.choice([1 if p.sex == "男" else 2, "1" if p.sex == "男" else "2"]),
                     "CSRQ": csrq if r.random() > 0.05 else None, "LXDH": w.phone_text(p),
                     "HJDZ": w.addr_text(p.hukou), "JZDZ": w.addr_text(p.current),
                     "JYZT": status, "DWMC": "深圳市某某科技有限公司" if status == "就业" else "",
                     "SYDJRQ": f"{w.extract - dt.timedelta(days=r.randint(1, 400)):%Y-%m-%d}" if status == "失业" else None,
                     "CBZT": r.choice(["参保缴费", "暂停缴费", "终止参保"]),
                     "GXSJ": f"{w.extract - dt.timedelta(days=r.randint(1, 90)):%Y-%m-%d} 0{r.randint(0, 9)}:1{r.randint(0, 9)}:00"}
        if obj["LXDH"] == p.phone and r.random() < 0.3:
            obj["LXDH"] = int(p.phone)
        if r.random() < 0.2:
            obj["BZ"] = "备注"  # an unknown key
        if r.random() < 0.05:
            del obj["CSRQ"]
        items = list(obj.items())
        r.shuffle(items)
        w.record("labour", key, p, idt, ok)
        lines.append(json.dumps(dict(items), ensure_ascii=r.random() < 0.3))
        if r.random() < 0.01:
            lines.append("")  # a blank line
    text = "\ufeff" + "\n".join(lines)  # a BOM, and no newline after the last line
    (folder / f"laodong_{ymd}.jsonl").write_bytes(text.encode("utf-8"))
    return len(lines) - lines.count("")


def write_night(landing: Path, date: str, people: int, seed: int = 0, truth_path: Path | None = None,
                xlsx_engine: str | None = None) -> Night:
    """Write the four deliveries of one night under landing/<date>/ and, if asked, the truth file."""
    extract = dt.date.fromisoformat(date)
    w = _Writer(seed, people, extract)
    w.population()
    ymd = date.replace("-", "")
    night = Night(date, Path(landing), pd.DataFrame())
    writers = {"public_security": lambda f: _public_security(w, f, ymd),
               "family_planning": lambda f: _family_planning(w, f, ymd, xlsx_engine or
                                                             w.r.choice(["openpyxl", "xlsxwriter"])),
               "civil_affairs": lambda f: _civil_affairs(w, f, ymd),
               "labour": lambda f: _labour(w, f, ymd)}
    for dept, write in writers.items():
        folder = Path(landing) / date / dept
        folder.mkdir(parents=True, exist_ok=True)
        night.rows[dept] = write(folder)
    night.truth = pd.DataFrame(w.truth, columns=["department", "source_record_id", "person_id", "true_id_number",
                                                 "id_recoverable"])
    if truth_path is not None:
        Path(truth_path).parent.mkdir(parents=True, exist_ok=True)
        night.truth.to_csv(truth_path, index=False)
    return night
