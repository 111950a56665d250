"""An independent writer of department deliveries, built from DEPARTMENTS.md only.

One module, longer than most, on purpose: it is read side by side with DEPARTMENTS.md, and it keeps its
own check-character table and vocabularies rather than the library's, so that it can catch the library.

It shares no code, vocabulary or habits with registry/generate: its own names, addresses and ways of
being messy, each still within what DEPARTMENTS.md allows (CRLF line ends, everything quoted, commas and
quotes inside addresses, GB18030-only characters, XLSX from openpyxl or xlsxwriter with typed cells and the
sheet not first, JSON Lines with reordered and unknown keys, numbers, escapes, a BOM and blank lines ...).

What makes linkage hard, written its own way: children of family files with no number and a birth month
only, families and 低保 households seen by several departments, three generations under one 户号, twins
(often sharing a character of their given names), a child filed under its mother's number and a wife under
her husband's, homophones at any position of a name, traditional and variant forms (CJK compatibility
ideographs too), spaces and separators, former names used by one office and not another (and the two names
swapped in the household register), rare characters typed as pinyin, addresses a person has left. How often
each happens is drawn per seed (`Knobs`), so that two seeds are two districts.

    night = write_night(landing, "2026-11-20", people=2000, seed=5)
    later = write_next_night(landing, "2026-11-21", people=2000, seed=5, previous="2026-11-20")
    night.truth        # DataFrame: department, source_record_id, person_id, true_id_number, id_recoverable,
                       #            id_is_other_persons, irregularities (';'-separated names, see TAGS)
    night.rows         # department -> data rows written

`id_recoverable` says whether the delivered identity number determines the true one (clean, or messy only in
ways the contract lists: case, width, spaces, dashes, 15-digit form). Typos and numbers that lost digits in
a spreadsheet are not recoverable; a number of another person (`id_is_other_persons`) is not the person's.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# The names of irregularities in the truth (the linkage benchmark reports recall by them).
TAGS = ("no_id", "child_no_id", "id_typo", "shared_id", "homophone", "traditional", "spaces", "separator",
        "former_name", "pinyin", "twin", "address_outdated")

SURNAMES = ["李", "王", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
            "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田",
            "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢", "姚",
            "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖", "石", "金", "韦", "贾", "夏", "付", "方", "邹",
            "欧阳", "司马", "上官", "单", "区", "覃"]
GIVEN = list("子涵欣怡梓萱思彤雨桐浩宇俊杰宇轩博文嘉怡晨曦雅婷志强丽娟建华秀英桂芳海燕春梅国庆红霞永刚"
             "晓东明辉婉清锦程书瑶沐阳若汐亦凡昊然紫琪佳琪天佑铭泽诗涵瑞霖睿哲羽彤语嫣文轩家豪静怡隆德")
# Characters outside GBK (CJK extension A and B): only GB18030 encodes them.
RARE = ["㐀", "𠀀", "䶮", "𠮷", "㛃", "䲜", "𪚥"]
RARE_PINYIN = {"㐀": "Qiu", "𠀀": "He", "䶮": "Yan", "𠮷": "Ji", "㛃": "Jie", "䲜": "Ye", "𪚥": "Zhe"}
# Traditional forms, including less common variant forms, as some offices still type them.
TRADITIONAL = {"张": "張", "刘": "劉", "陈": "陳", "黄": "黃", "赵": "趙", "郑": "鄭", "罗": "羅", "叶": "葉",
               "钟": "鍾", "萧": "蕭", "卫": "衞", "华": "華", "伟": "偉", "国": "國", "丽": "麗", "红": "紅",
               "东": "東", "庆": "慶", "强": "強", "书": "書", "刚": "剛", "辉": "輝", "凤": "鳳", "杨": "楊",
               "韩": "韓", "冯": "馮", "邓": "鄧", "许": "許", "谢": "謝", "苏": "蘇", "吕": "呂", "姜": "姜",
               "锦": "錦", "程": "程", "晓": "曉", "涵": "涵", "轩": "軒", "铭": "銘", "诗": "詩", "语": "語"}
# Forms a converter's everyday table does not know: old and Japanese shapes, and compatibility ideographs
# (U+F900 block) that some input methods produce for the same character.
ODD_FORMS = {"德": "徳", "高": "髙", "清": "淸", "黄": "黃", "李": "\uf9e1", "林": "\uf9f4", "隆": "\uf9dc",
             "国": "囯", "静": "靜", "曾": "曽", "吕": "呂", "泽": "沢", "宇": "宇", "晓": "暁", "海": "海",
             "梅": "楳", "桂": "桂", "杰": "傑", "强": "彊", "峰": "峯", "丽": "麗"}
# Characters that sound alike, as typed by mistake at a counter.
HOMOPHONES = {"涵": "含晗函", "欣": "馨心新", "怡": "宜仪依", "宇": "雨语羽", "轩": "萱宣", "杰": "洁捷",
              "文": "雯闻", "晨": "辰臣", "曦": "希溪熙", "婷": "亭庭", "志": "智治", "强": "蔷", "丽": "莉俐",
              "娟": "鹃", "华": "桦", "英": "莹瑛", "芳": "方", "红": "虹宏", "霞": "夏", "东": "冬栋",
              "辉": "晖", "明": "鸣铭", "清": "青晴", "书": "舒", "瑶": "遥谣", "阳": "洋扬", "凡": "帆繁",
              "然": "燃", "琪": "琦淇", "泽": "则择", "佑": "右祐", "铭": "明鸣", "霖": "林琳", "睿": "瑞锐",
              "哲": "喆折", "彤": "桐童", "嫣": "烟焉", "豪": "浩毫", "静": "婧靖", "张": "章", "王": "汪",
              "林": "琳", "徐": "许", "杨": "阳", "刘": "柳", "程": "成", "韩": "寒", "曦": "熙"}
MINORITY = [("买买提", "艾力"), ("阿依古丽", "吐尔逊"), ("热依拉", "阿不都"), ("古丽娜尔", "买合木提"),
            ("艾克拜尔", "尼亚孜"), ("帕尔哈提", "司马义")]
MINORITY_SEPARATORS = ["·", "•", ".", "・", "", "·", "-", "‧", " · "]
HAN_SEPARATORS = ["-", "．", "·", "_"]
ETHNIC = ["汉族"] * 30 + ["回族", "壮族", "满族", "土家族", "苗族"]
PINYIN = {"李": "li", "王": "wang", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
          "赵": "zhao", "吴": "wu", "周": "zhou", "徐": "xu", "孙": "sun", "马": "ma", "朱": "zhu", "胡": "hu",
          "郭": "guo", "林": "lin", "子": "zi", "涵": "han", "欣": "xin", "怡": "yi", "宇": "yu", "浩": "hao",
          "俊": "jun", "杰": "jie", "轩": "xuan", "文": "wen", "晨": "chen", "曦": "xi", "婷": "ting",
          "志": "zhi", "强": "qiang", "丽": "li", "华": "hua", "明": "ming", "辉": "hui", "东": "dong"}

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


class Knobs:
    """How often each hard case happens in this seed's district: each drawn from its own range."""

    RANGES = {
        "fp_child_no_id": (0.3, 0.8), "ca_child_no_id": (0.2, 0.6), "twins": (0.05, 0.18),
        "twin_shared_char": (0.3, 0.9), "homophone": (0.01, 0.05), "homophone_second": (0.1, 0.5),
        "odd_form": (0.004, 0.025), "traditional": (0.01, 0.05), "spaces": (0.01, 0.04),
        "han_separator": (0.003, 0.015), "former": (0.02, 0.07), "former_used": (0.2, 0.6),
        "former_swapped": (0.05, 0.25), "rare": (0.005, 0.02), "rare_pinyin": (0.3, 0.9),
        "full_pinyin": (0.002, 0.01), "child_mother_id": (0.005, 0.03), "wife_husband_id": (0.002, 0.01),
        "three_generation": (0.05, 0.2), "dibao": (0.01, 0.03), "moved": (0.03, 0.1),
    }

    def __init__(self, seed: int):
        r = random.Random(f"knobs-{seed}")
        for name, (lo, hi) in self.RANGES.items():
            setattr(self, name, r.uniform(lo, hi))


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
    former: str | None = None
    twin: bool = False
    mother: "Person | None" = None
    husband: "Person | None" = None
    status: str = "正常"

    @property
    def name(self) -> str:
        return f"{self.surname}·{self.given}" if self.minority else self.surname + self.given


@dataclass
class Row:
    """One delivered record: its key, its person, its cells (or JSON object), what it went through."""
    department: str
    key: str
    person: Person
    cells: object
    id_text: object
    recoverable: bool
    other_persons: bool
    tags: set


@dataclass
class Night:
    date: str
    landing: Path
    truth: pd.DataFrame
    rows: dict[str, int] = field(default_factory=dict)


class _Writer:
    def __init__(self, seed: int, people: int, extract: dt.date):
        self.r = random.Random(seed)
        self.k = Knobs(seed)
        self.n = people
        self.extract = extract
        # the people are born before the first of the extract's month: one seed writes the same people
        # (births, numbers, and every random draw after them) on every night of a month
        self.born_before = extract.replace(day=1)
        self.people: list[Person] = []
        self._orders: set[str] = set()
        self.rows: dict[str, list[Row]] = {}
        self.issued: dict[str, int] = {}      # keys issued per department (a removed record's key is not reused)
        self.engine = None

    def key(self, dept: str, prefix: str, base: int, step: int) -> str:
        k = self.issued.get(dept, 0)
        self.issued[dept] = k + 1
        return f"{prefix}{base + k * step:010d}"

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

    def _given(self) -> str:
        return "".join(self.r.choice(GIVEN) for _ in range(self.r.choice([1, 2, 2, 2])))

    def _person(self, household: str, relation: str, sex: str, birth: dt.date, surname: str | None,
                hukou: dict, current: dict | None, code: str, given: str | None = None) -> Person:
        r = self.r
        minority = surname is None and r.random() < 0.02
        if minority:
            given, sur = r.choice(MINORITY)
            surname, given = given, sur
            ethnicity = "维吾尔族"
        else:
            surname = surname or r.choice(SURNAMES)
            given = given or self._given()
            ethnicity = r.choice(ETHNIC)
        rare = False
        if not minority and r.random() < self.k.rare:
            given = given[:-1] + r.choice(RARE)
            rare = True
        phone = (f"1{r.choice('3456789')}{r.randrange(10 ** 9):09d}" if r.random() < 0.85
                 else f"0755{r.randrange(2, 9)}{r.randrange(10 ** 6, 10 ** 7)}")
        p = Person(f"P{len(self.people):07d}", surname, given, sex, birth, self._id(code, birth, sex), ethnicity,
                   hukou, current, phone, household, relation, minority, rare)
        age = (self.extract - birth).days / 365.25
        # draws never depend on the extract date: the same seed writes the same people on any night
        draw = r.random()
        if not minority and age > 18 and draw < self.k.former:
            p.former = surname + self._given()
        self.people.append(p)
        return p

    def population(self, first_household: int = 0) -> None:
        r = self.r
        h = first_household
        while len(self.people) < self.n:
            h += 1
            self.household(h)

    def household(self, h: int) -> list[Person]:
        r = self.r
        household = f"{440304000000 + h * 7:012d}"
        local = r.random() < 0.7
        code = HOME_PROVINCES[r.randrange(3)][0] if local else r.choice(HOME_PROVINCES[3:])[0]
        hukou = self._address(local)
        current = None if local or r.random() < 0.3 else self._address(True)
        head_birth = dt.date(r.randint(1945, 1998), r.randint(1, 12), r.randint(1, 28))
        head = self._person(household, "户主", "男", head_birth, None, hukou, current, code)
        members = [head]
        if r.random() < self.k.three_generation and head_birth.year > 1960:
            elder = dt.date(head_birth.year - r.randint(22, 34), r.randint(1, 12), r.randint(1, 28))
            members.append(self._person(household, r.choice(["父亲", "母亲"]), "男", elder, head.surname
                                        if not head.minority else None, hukou, current, code))
            if members[-1].relation == "母亲":
                members[-1].sex = "女"
                members[-1].id18 = self._id(code, elder, "女")
                members[-1].surname = r.choice(SURNAMES)
        if r.random() < 0.8:
            wife_birth = head_birth + dt.timedelta(days=r.randint(-1500, 1500))
            wife = self._person(household, "配偶", "女", wife_birth, None, hukou, current, code)
            wife.husband = head
            members.append(wife)
            kids = r.choice([0, 1, 1, 2, 2, 3])
            first_kid = min(self.born_before - dt.timedelta(days=200), head_birth + dt.timedelta(days=r.randint(8000, 13000)))
            twins = kids >= 2 and r.random() < self.k.twins
            first_given = None
            for k in range(kids):
                is_twin = twins and k == 1
                birth = first_kid if is_twin else first_kid + dt.timedelta(days=k * r.randint(400, 1500))
                if birth >= self.born_before:
                    break
                sex = r.choice("男女")
                given = None
                if is_twin and first_given and len(first_given) == 2 and r.random() < self.k.twin_shared_char:
                    given = first_given[0] + r.choice([c for c in GIVEN if c != first_given[1]])
                kid = self._person(household, "子" if sex == "男" else "女", sex, birth,
                                   head.surname if not head.minority else None, hukou, current, code, given)
                kid.mother = wife
                if is_twin:
                    kid.twin = members[-1].twin = True
                first_given = first_given or kid.given
                members.append(kid)
        return members

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

    def where(self, p: Person, tags: set) -> dict:
        """The address an office has for a person: sometimes one the person has left."""
        if self.r.random() < self.k.moved:
            tags.add("address_outdated")
            return self._address(True)
        return p.current or p.hukou

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

    def name_text(self, p: Person, dept: str, tags: set, base: str | None = None) -> str:
        r = self.r
        k = self.k
        clean_office = dept == "public_security"
        if p.minority:
            sep = r.choice(MINORITY_SEPARATORS)
            if sep != "·":
                tags.add("separator")
            return p.surname + sep + p.given
        name = base or p.name
        if not clean_office and p.former and base is None and r.random() < k.former_used:
            name = p.former
            tags.add("former_name")
        if p.rare and not clean_office and r.random() < k.rare_pinyin:
            for c in RARE:
                if c in name:
                    py = RARE_PINYIN[c]
                    name = name.replace(c, r.choice([py, py.upper(), py.lower()]))
                    tags.add("pinyin")
        scale = 0.2 if clean_office else 1.0
        if r.random() < k.homophone * scale:
            for _ in range(2 if r.random() < k.homophone_second else 1):
                spots = [i for i, c in enumerate(name) if c in HOMOPHONES]
                if spots:
                    i = r.choice(spots)
                    name = name[:i] + r.choice(HOMOPHONES[name[i]]) + name[i + 1:]
                    tags.add("homophone")
        x = r.random()
        if x < k.traditional * scale:
            out = "".join(TRADITIONAL.get(c, c) for c in name)
            if out != name:
                tags.add("traditional")
            name = out
        elif x < (k.traditional + k.odd_form) * scale:
            spots = [i for i, c in enumerate(name) if c in ODD_FORMS and ODD_FORMS[c] != c]
            if spots:
                i = r.choice(spots)
                name = name[:i] + ODD_FORMS[name[i]] + name[i + 1:]
                tags.add("traditional")
        y = r.random()
        if y < k.spaces * scale:
            name = r.choice([" ".join(name), name[:len(p.surname)] + " " + name[len(p.surname):],
                             name + r.choice([" ", "  ", "\u3000"]), "\u3000".join(name)])
            tags.add("spaces")
        elif y < (k.spaces + k.han_separator) * scale:
            name = name[:len(p.surname)] + r.choice(HAN_SEPARATORS) + name[len(p.surname):]
            tags.add("spaces")
        if not clean_office and not p.rare and r.random() < k.full_pinyin and all(c in PINYIN for c in p.name):
            sur = PINYIN[p.surname] if p.surname in PINYIN else ""
            giv = "".join(PINYIN[c] for c in p.given)
            if sur:
                name = r.choice([f"{sur.upper()} {giv.capitalize()}", f"{sur.capitalize()}{giv}", f"{sur} {giv}".upper()])
                tags.add("pinyin")
        return name

    def id_text(self, p: Person, dept: str, tags: set) -> tuple[str, bool]:
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
        if x < 0.97 and dept in ("civil_affairs", "labour"):  # one digit mistyped
            pos = r.randrange(6, 17)
            tags.add("id_typo")
            return i[:pos] + str((int(i[pos]) + 1) % 10) + i[pos + 1:], False
        if x < 0.98 and dept in ("civil_affairs", "family_planning"):  # two adjacent digits swapped
            if i[15] != i[16]:
                tags.add("id_typo")
                return i[:15] + i[16] + i[15] + i[17:], False
        return i, True

    def row(self, dept: str, key: str, p: Person, cells, id_text, ok: bool, tags: set, other: bool = False) -> Row:
        if not id_text:
            tags.add("no_id")
            if (self.extract - p.birth).days < 16 * 365:
                tags.add("child_no_id")
        if other:
            tags.add("shared_id")
        if p.twin:
            tags.add("twin")
        row = Row(dept, key, p, cells, id_text, bool(ok and id_text) and not other, other, tags)
        self.rows.setdefault(dept, []).append(row)
        return row


def _impossible(r: random.Random, fmt: str) -> str:
    y = r.randint(1950, 2000)
    return {"ymd": f"{y}0230", "iso": f"{y}-02-30", "slash": f"{y}/2/30", "cn": f"{y}年2月30日",
            "ym": r.choice([f"{y}.13", f"{y}-00", f"{y}-13"])}[fmt]


# ---------------------------------------------------------------- the four departments: rows

PS_HEADER = ["人员编号", "公民身份号码", "姓名", "曾用名", "性别", "民族", "出生日期", "户籍地址", "现住址", "户号",
             "与户主关系", "人口类型", "人员状态", "变动日期"]
FP_HEADER = ["个案编号", "家庭档案号", "姓名", "身份证号", "性别", "出生年月", "婚姻状况", "家庭角色", "子女数",
             "独生子女证号", "联系电话", "现居住地", "登记日期"]
CA_HEADER = ["对象编号", "姓名", "证件号码", "性别", "出生日期", "救助类别", "残疾人证号", "月保障金额", "家庭住址",
             "所属街道", "所属社区", "联系电话", "审批日期", "状态"]


def _ps_row(w: _Writer, p: Person) -> Row:
    r = w.r
    key = w.key("public_security", "GA", 3100000000, 3)
    tags: set = set()
    idt, ok = w.id_text(p, "public_security", tags)
    if r.random() < 0.003:
        idt, ok = "", False
    status = r.choices(["正常", "死亡", "迁出"], [96, 2, 2])[0]
    p.status = status
    birth = f"{p.birth:%Y%m%d}" if r.random() > 0.002 else _impossible(r, "ymd")
    name, former = w.name_text(p, "public_security", tags), (p.former or "")
    if p.former and r.random() < w.k.former_swapped:  # the clerk put the names in each other's columns
        name, former = former, p.name
        tags.add("former_name")
    elif not p.former and r.random() < 0.03:
        former = p.surname + r.choice(GIVEN)        # an old name no other office knows
    row = {"人员编号": key, "公民身份号码": idt, "姓名": name, "曾用名": former, "性别": p.sex,
           "民族": p.ethnicity + (" " if r.random() < 0.01 else ""), "出生日期": birth,
           "户籍地址": w.addr_text(p.hukou), "现住址": w.addr_text(p.current), "户号": p.household,
           "与户主关系": p.relation, "人口类型": "户籍人口" if p.id18[:4] == "4403" else "流动人口",
           "人员状态": status if r.random() > 0.01 else f" {status} ",
           "变动日期": "" if status == "正常" else f"{w.extract - dt.timedelta(days=r.randint(1, 900)):%Y-%m-%d}"}
    return w.row("public_security", key, p, row, idt, ok, tags)


def _public_security(w: _Writer) -> None:
    for p in w.people:
        _ps_row(w, p)


def _fp_row(w: _Writer, p: Person, family: str, role: str, kids: int) -> Row:
    r = w.r
    key = w.key("family_planning", "JS", 5200000000, 11)
    tags: set = set()
    idt, ok = w.id_text(p, "family_planning", tags)
    id_cell: object = idt
    other = False
    if role == "子女" and p.mother is not None and r.random() < w.k.child_mother_id:
        id_cell, ok, other = p.mother.id18, False, True      # the child filed under its mother's number
    elif role == "子女" and r.random() < w.k.fp_child_no_id:
        id_cell, ok = None, False
    elif len(idt) == 15 and r.random() < 0.7:
        id_cell = int(idt)  # a 15-digit number survives a spreadsheet's number cell
    elif idt == p.id18 and p.id18[-1] != "X" and r.random() < 0.01:
        id_cell, ok = int(idt), False  # an 18-digit number does not: digits lost
    ym = r.choice([f"{p.birth:%Y-%m}", f"{p.birth:%Y.%m}", f"{p.birth.year}.{p.birth.month}"])
    if r.random() < 0.003:
        ym = _impossible(r, "ym")
    children = None if role == "子女" else (kids if r.random() < 0.7 else str(kids))
    phone: object = w.phone_text(p.mother if role == "子女" and p.mother else p)
    if isinstance(phone, str) and phone.isdigit() and len(phone) == 11 and r.random() < 0.3:
        phone = int(phone)
    cells = [key, family, w.name_text(p, "family_planning", tags), id_cell, p.sex, ym,
             r.choice(["初婚", "初婚", "再婚"]) if role != "子女" else "未婚", role, children,
             f"DZ{r.randrange(10 ** 6):06d}" if role == "子女" and kids == 1 and r.random() < 0.3 else None,
             phone, w.addr_text(w.where(p, tags)),
             dt.date(2010, 1, 1) + dt.timedelta(days=r.randint(0, 5000))]
    return w.row("family_planning", key, p, cells, id_cell, ok, tags, other)


def _fp_family(w: _Writer, members: list[Person]) -> None:
    r = w.r
    wife = next((m for m in members if m.relation == "配偶"), None)
    if wife is None or not (1976 <= wife.birth.year <= 2005) or r.random() < 0.15:
        return
    kids = [m for m in members if m.relation in ("子", "女")]
    family = f"FA{r.randrange(10 ** 8):08d}"
    for p in members:
        if p.relation in ("父亲", "母亲"):
            continue                                   # grandparents are not in the family file
        role = {"户主": "男方", "配偶": "女方"}.get(p.relation, "子女")
        _fp_row(w, p, family, role, len(kids))


def _family_planning(w: _Writer) -> None:
    for members in _households(w.people).values():
        _fp_family(w, members)


def _households(people: list[Person]) -> dict[str, list[Person]]:
    out: dict[str, list[Person]] = {}
    for p in people:
        out.setdefault(p.household, []).append(p)
    return out


def _ca_row(w: _Writer, p: Person, kind: str, a: dict | None = None) -> Row:
    r = w.r
    key = w.key("civil_affairs", "MZ", 7700000000, 13)
    tags: set = set()
    idt, ok = w.id_text(p, "civil_affairs", tags)
    draw = r.random()
    if (w.extract - p.birth).days < 16 * 365 and draw < w.k.ca_child_no_id:
        idt, ok = "", False
    birth = r.choice([f"{p.birth.year}/{p.birth.month}/{p.birth.day}", f"{p.birth:%Y-%m-%d}"])
    if r.random() < 0.005:
        birth = _impossible(r, r.choice(["slash", "iso"]))
    a = a or w.where(p, tags)
    cert = (p.id18 + f"{r.randint(1, 7)}{r.randint(1, 4)}") if kind == "残疾人两项补贴" else ""
    cells = [key, w.name_text(p, "civil_affairs", tags), idt, p.sex, birth, kind, cert,
             f"{r.choice([560, 780, 1120, 1300])}.00", w.addr_text(a, style=r.choice([1, 4, 6])),
             (a["street"] or "") + (" " if r.random() < 0.05 else ""), a["community"] or "",
             w.phone_text(p), f"{w.extract - dt.timedelta(days=r.randint(1, 3000)):%Y-%m-%d}",
             r.choice(["在保", "在保", "停保", " 在保 "])]
    if r.random() < 0.05 and a["street"]:  # no community: '深圳市福田区福田街道' and the rest
        cells[8] = f"深圳市福田区{a['street']}" + a["estate"]
    return w.row("civil_affairs", key, p, cells, idt, ok, tags)


def _civil_affairs(w: _Writer) -> None:
    r = w.r
    chosen = r.sample(w.people, max(1, int(len(w.people) * 0.04)))
    for p in chosen:
        for kind in r.sample(["特困供养", "临时救助", "高龄津贴", "残疾人两项补贴"], r.choice([1, 1, 1, 2])):
            _ca_row(w, p, kind)
    # 城市低保 is granted to a household: every member has a row, at the household's address
    for members in _households(w.people).values():
        if r.random() < w.k.dibao:
            a = members[0].current or members[0].hukou
            for p in members:
                _ca_row(w, p, "城市低保", a)


def _labour_row(w: _Writer, p: Person) -> Row:
    r = w.r
    key = w.key("labour", "LD", 9300000000, 17)
    tags: set = set()
    idt, ok = w.id_text(p, "labour", tags)
    other = False
    if p.husband is not None and r.random() < w.k.wife_husband_id:
        idt, ok, other = p.husband.id18, False, True      # the wife registered under her husband's number
    status = r.choice(["就业", "失业", "灵活就业", "退休"])
    csrq = f"{p.birth.year}年{p.birth.month}月{p.birth.day}日" if r.random() < 0.5 else f"{p.birth:%Y年%m月%d日}"
    if r.random() < 0.003:
        csrq = _impossible(r, "cn")
    obj: dict = {"GRBH": key, "XM": w.name_text(p, "labour", tags), "SFZH": idt,
                 "XB": r.choice([1 if p.sex == "男" else 2, "1" if p.sex == "男" else "2"]),
                 "CSRQ": csrq if r.random() > 0.05 else None, "LXDH": w.phone_text(p),
                 "HJDZ": w.addr_text(p.hukou), "JZDZ": w.addr_text(w.where(p, tags) if p.current else None),
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
    return w.row("labour", key, p, obj, idt, ok, tags, other)


def _labour(w: _Writer) -> None:
    r = w.r
    adults = [p for p in w.people if 16 <= (w.extract.year - p.birth.year) <= 75]
    for p in r.sample(adults, min(len(adults), int(len(w.people) * 0.55))):
        _labour_row(w, p)


# ---------------------------------------------------------------- the files

def _csv_field(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v


def _write_ps(rows: list[Row], folder: Path, ymd: str) -> int:
    lines = [",".join('"' + row.cells[c].replace('"', '""') + '"' for c in PS_HEADER) for row in rows]
    text = ",".join(f'"{h}"' for h in PS_HEADER) + "\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    (folder / f"hukou_{ymd}.csv").write_bytes(text.encode("gb18030"))
    return len(lines)


def _write_fp(rows: list[Row], folder: Path, ymd: str, engine: str, r: random.Random) -> int:
    path = folder / f"jisheng_{ymd}.xlsx"
    if engine == "openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.title = "说明"
        wb.active.append(["本表由计生系统导出"])
        ws = wb.create_sheet("个案信息")
        ws.append([None] + FP_HEADER + [None])  # an empty first column and a trailing one
        for row in rows:
            if r.random() < 0.01:
                ws.append([])  # an empty row inside the sheet
            ws.append([None] + row.cells)
        wb.save(path)
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        wb.add_worksheet("汇总")
        ws = wb.add_worksheet("个案信息")
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write_row(0, 0, FP_HEADER)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row.cells):
                if isinstance(v, dt.date):
                    ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date_fmt)
                elif v is not None:
                    ws.write_string(i, j, v) if isinstance(v, str) else ws.write(i, j, v)
        wb.close()
    return len(rows)


def _write_ca(rows: list[Row], folder: Path, ymd: str) -> int:
    lines = [",".join(_csv_field(str(v)) for v in row.cells) for row in rows]
    text = "\ufeff" + ",".join(CA_HEADER) + "\r\n" + "\r\n".join(lines) + "\r\n"
    (folder / f"minzheng_{ymd}.csv").write_bytes(text.encode("utf-8"))
    return len(lines)


def _write_labour(rows: list[Row], folder: Path, ymd: str, r: random.Random) -> int:
    lines = []
    for row in rows:
        items = list(row.cells.items())
        r.shuffle(items)
        lines.append(json.dumps(dict(items), ensure_ascii=r.random() < 0.3))
        if r.random() < 0.01:
            lines.append("")  # a blank line
    text = "\ufeff" + "\n".join(lines)  # a BOM, and no newline after the last line
    (folder / f"laodong_{ymd}.jsonl").write_bytes(text.encode("utf-8"))
    return len(rows)


def _write(w: _Writer, landing: Path, date: str, truth_path: Path | None) -> Night:
    ymd = date.replace("-", "")
    night = Night(date, Path(landing), pd.DataFrame())
    fr = random.Random(f"files-{len(w.people)}")
    writers = {"public_security": lambda f, rows: _write_ps(rows, f, ymd),
               "family_planning": lambda f, rows: _write_fp(rows, f, ymd, w.engine, fr),
               "civil_affairs": lambda f, rows: _write_ca(rows, f, ymd),
               "labour": lambda f, rows: _write_labour(rows, f, ymd, fr)}
    truth = []
    for dept, write in writers.items():
        folder = Path(landing) / date / dept
        folder.mkdir(parents=True, exist_ok=True)
        rows = w.rows.get(dept, [])
        night.rows[dept] = write(folder, rows)
        truth += [(dept, row.key, row.person.pid, row.person.id18, row.recoverable, row.other_persons,
                   ";".join(sorted(row.tags))) for row in rows]
    night.truth = pd.DataFrame(truth, columns=["department", "source_record_id", "person_id", "true_id_number",
                                               "id_recoverable", "id_is_other_persons", "irregularities"])
    if truth_path is not None:
        Path(truth_path).parent.mkdir(parents=True, exist_ok=True)
        night.truth.to_csv(truth_path, index=False)
    return night


def _first_night(seed: int, people: int, date: str, xlsx_engine: str | None) -> _Writer:
    w = _Writer(seed, people, dt.date.fromisoformat(date))
    w.population()
    w.engine = xlsx_engine or w.r.choice(["openpyxl", "xlsxwriter"])
    _public_security(w)
    _family_planning(w)
    _civil_affairs(w)
    _labour(w)
    return w


def write_night(landing: Path, date: str, people: int, seed: int = 0, truth_path: Path | None = None,
                xlsx_engine: str | None = None) -> Night:
    """Write the four deliveries of one night under landing/<date>/ and, if asked, the truth file."""
    return _write(_first_night(seed, people, date, xlsx_engine), landing, date, truth_path)


def write_next_night(landing: Path, date: str, people: int, seed: int, previous: str,
                     truth_path: Path | None = None, xlsx_engine: str | None = None) -> Night:
    """The night after `previous` (written by write_night with the same people and seed): the same
    records and keys, with births, deaths, newcomers, changed phones and some names put right."""
    w = _first_night(seed, people, previous, xlsx_engine)
    w.extract = dt.date.fromisoformat(date)
    r = random.Random(f"next-{seed}-{date}")
    w.r = r
    n = len(w.people)
    # deaths: the register keeps the person with a status; the other offices drop them
    alive = [row for row in w.rows["public_security"] if row.cells["人员状态"].strip() == "正常"]
    for row in r.sample(alive, max(2, n // 2500)):
        row.cells["人员状态"] = "死亡"
        row.cells["变动日期"] = f"{w.extract:%Y-%m-%d}"
        for dept in ("civil_affairs", "labour"):
            w.rows[dept] = [x for x in w.rows[dept] if x.person is not row.person]
    # births into families on file: a register row and a family-file row, no number in the file yet
    families = {}
    for row in w.rows["family_planning"]:
        families.setdefault(row.cells[1], []).append(row)
    young = [rows for rows in families.values()
             if any(x.cells[7] == "女方" and x.person.birth.year >= 1985 for x in rows)]
    for rows in r.sample(young, min(len(young), max(2, n // 2500))):
        mother = next(x.person for x in rows if x.cells[7] == "女方")
        father = next((x.person for x in rows if x.cells[7] == "男方"), None)
        sex = r.choice("男女")
        baby = w._person(mother.household, "子" if sex == "男" else "女", sex,
                         w.extract - dt.timedelta(days=r.randint(3, 20)), (father or mother).surname,
                         mother.hukou, mother.current, mother.id18[:6])
        baby.mother = mother
        _ps_row(w, baby)
        _fp_row(w, baby, rows[0].cells[1], "子女", sum(1 for x in rows if x.cells[7] == "子女") + 1)
    # newcomers: whole households registering tonight
    last = max(int(p.household) for p in w.people)
    for h in range(3):
        for p in w.household((last - 440304000000) // 7 + 1 + h):
            _ps_row(w, p)
            if 16 <= (w.extract.year - p.birth.year) <= 60 and r.random() < 0.5:
                _labour_row(w, p)
    # changed phones and names put right in the labour file
    for row in r.sample(w.rows["labour"], max(3, len(w.rows["labour"]) // 400)):
        row.person.phone = f"1{r.choice('3456789')}{r.randrange(10 ** 9):09d}"
        row.cells["LXDH"] = row.person.phone
    for row in w.rows["labour"]:
        if row.tags & {"homophone", "traditional", "spaces"} and r.random() < 0.1:
            row.cells["XM"] = row.person.name
            row.tags -= {"homophone", "traditional", "spaces"}
    return _write(w, landing, date, truth_path)
