"""The comparisons of two department records, built for Chinese resident data.

Each comparison is a Splink CustomComparison whose levels (most specific first) mean something
an officer can read in the evidence of a link. SQL refers to the two records as `<column>_l` and
`<column>_r`; character-level functions (`reg_*`) are registered by backend.register_functions.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_library as cl

# Departments meant to deliver one row per person (DEPARTMENTS.md); in practice they hold some
# duplicate registrations, so two of their records are *usually*, not always, two people.
# Civil affairs gives a person one row per kind of assistance.
ONE_RECORD_PER_PERSON = ("public_security", "family_planning", "labour")


def _level(sql: str, label: str, **options: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **options}


def _null(sql: str) -> dict[str, Any]:
    return _level(sql, "null", is_null_level=True)


# Levels too rare among random pairs for u-sampling to observe them get a fixed u (how often two
# different people's values would look like this), instead of Splink's placeholder.
def _rare(sql: str, label: str, u: float, **options: Any) -> dict[str, Any]:
    return _level(sql, label, u_probability=u, fix_u_probability=True, **options)


def _else(label: str = "different") -> dict[str, Any]:
    return _level("ELSE", label)


# A record whose identity number contradicts the record's own sex or birth date: the number is
# probably someone else's (a dependant filed under the household head's number) or mistyped.
_ID_CONTRADICTS_HOLDER = ("(coalesce(birth_disagrees_id_l, false) OR coalesce(sex_disagrees_id_l, false)"
                          " OR coalesce(birth_disagrees_id_r, false) OR coalesce(sex_disagrees_id_r, false))")


# Within one household file the same name means the same characters: one clerk typed the file, and
# twins' names can sound alike (夏凡瑞 / 夏凡睿). Unknown counts as not the same.
_SAME_NAME = "coalesce(name_plain_l = name_plain_r, false)"

# Both numbers pass GB 11643's check and agree with their holders: two numbers the state issued. The check
# character catches every single wrong digit and every swap of two adjacent digits, so two such numbers
# that differ are not one number mistyped.
_BOTH_ISSUED = ("id_number_form_l IN ('valid', 'converted15') AND id_number_form_r IN ('valid', 'converted15')"
                f" AND NOT {_ID_CONTRADICTS_HOLDER}")


def identity_number() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="id_number",
        comparison_description="citizen identity number (normalised, 15-digit converted)",
        comparison_levels=[
            _null("id_number_l IS NULL OR id_number_r IS NULL"),
            _level(f"id_number_l = id_number_r AND id_number_form_l = 'valid' AND id_number_form_r = 'valid'"
                   f" AND NOT {_ID_CONTRADICTS_HOLDER}", "exact, valid"),
            _rare(f"id_number_l = id_number_r AND {_ID_CONTRADICTS_HOLDER}",
                  "exact, but contradicts a holder's sex or birth date", 1e-6),
            _level("id_number_l = id_number_r", "exact after 15->18 conversion or same failing number"),
            _level("reg_ascii_mismatches(id_number_l, id_number_r) = 1", "one digit different"),
            _rare("reg_adjacent_swap(id_number_l, id_number_r)", "two adjacent digits swapped", 1e-7),
            # fixed, not estimated: one person holding two issued numbers (a number re-issued after a
            # duplicate was found) is rare everywhere; EM on a night without such people would make it
            # impossible, and twins must never be left uncertain on their numbers alone
            _level(_BOTH_ISSUED, "two different valid numbers", m_probability=2e-4, fix_m_probability=True),
            # a few dozen records in 100,000 carry such a number: u-sampling may not draw one at all
            # (then Splink leaves a placeholder u of ~0.09), so u is fixed near its rate in the data
            _rare(_ID_CONTRADICTS_HOLDER, "different, one number contradicts its holder", 5e-4),
            _else(),
        ],
    )


def name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="name on characters and on sound, with the night's term frequencies (张伟 is common)",
        comparison_levels=[
            _null("name_plain_l IS NULL OR name_plain_r IS NULL"),
            _level("name_l = name_r", "exact", tf_adjustment_column="name", tf_adjustment_weight=1.0),
            _rare("name_plain_l = name_plain_r", "equal without separator", 1e-4),
            # homophones anywhere in the name, names written in pinyin, a rare character typed in pinyin
            _level("name_pinyin_l = name_pinyin_r", "same pinyin (homophone or pinyin-written)",
                   tf_adjustment_column="name_pinyin", tf_adjustment_weight=0.5),
            # ... where one name holds a character whose reading is unknown (赵𠮷 / 赵Ji)
            _rare("reg_pinyin_equal(name_pinyin_l, name_pinyin_r)", "same pinyin but for an unknown reading", 1e-5),
            # the former name (曾用名) of either record is the other's name, in characters or in sound
            _level("former_name_l = name_r OR name_l = former_name_r OR reg_pinyin_equal(former_name_pinyin_l, "
                   "name_pinyin_r) OR reg_pinyin_equal(name_pinyin_l, former_name_pinyin_r)", "former name"),
            _level("reg_char_mismatches(name_plain_l, name_plain_r) = 1"
                   " OR reg_syllable_mismatches(name_pinyin_l, name_pinyin_r) = 1",
                   "one character or one syllable different"),
            _else(),
        ],
    )


def birth_date() -> cl.CustomComparison:
    months = "abs(reg_birth_months(birth_year_l, birth_month_l) - reg_birth_months(birth_year_r, birth_month_r))"
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date (family planning knows year and month only)",
        comparison_levels=[
            _null("birth_year_l IS NULL OR birth_year_r IS NULL OR birth_month_l IS NULL OR birth_month_r IS NULL"),
            _level("birth_date_l = birth_date_r", "exact"),
            _level("birth_year_l = birth_year_r AND birth_month_l = birth_month_r"
                   " AND (birth_date_precision_l = 'month' OR birth_date_precision_r = 'month')",
                   "same year and month (one side month only)"),
            _level("birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                   "day and month swapped"),
            _level("birth_year_l = birth_year_r AND birth_month_l = birth_month_r", "same year and month, day differs"),
            _level(f"{months} <= 12", "within a year"),
            _else(),
        ],
    )


def sex() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[_null("sex_l IS NULL OR sex_r IS NULL"), _level("sex_l = sex_r", "same"), _else()],
    )


def phone() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[_null("phone_l IS NULL OR phone_r IS NULL"), _level("phone_l = phone_r", "same"),
                           _else()],
    )


def _any_address_pair(condition: str) -> str:
    """True when the condition holds for any pairing of the two records' hukou/current addresses."""
    pairs = [(p, q) for p in ("hukou", "current") for q in ("hukou", "current")]
    return "(" + " OR ".join("(" + condition.format(l=p, r=q) + ")" for p, q in pairs) + ")"


def address() -> cl.CustomComparison:
    both_missing = "({s}hukou_address_{x} IS NULL AND {s}current_address_{x} IS NULL)"
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="best agreement of any pairing of hukou and current addresses",
        comparison_levels=[
            _null(both_missing.format(s="", x="l") + " OR " + both_missing.format(s="", x="r")),
            _level(_any_address_pair("{l}_address_l = {r}_address_r"), "same address"),
            # the same flat written with the unit or the community left out on one side: without this
            # level such a pair only agrees on the street, which among random pairs is common
            _level(_any_address_pair("{l}_district_l = {r}_district_r AND {l}_street_l = {r}_street_r"
                                     " AND {l}_dwelling_l = {r}_dwelling_r"),
                   "same building and room (unit or community left out)"),
            _level(_any_address_pair("{l}_district_l = {r}_district_r AND {l}_street_l = {r}_street_r"
                                     " AND {l}_community_l = {r}_community_r"), "same community"),
            _level(_any_address_pair("{l}_district_l = {r}_district_r AND {l}_street_l = {r}_street_r"),
                   "same street"),
            _level(_any_address_pair("{l}_district_l = {r}_district_r"), "same district"),
            _else(),
        ],
    )


def department_household() -> cl.CustomComparison:
    one_record = ", ".join(f"'{d}'" for d in ONE_RECORD_PER_PERSON)
    return cl.CustomComparison(
        output_column_name="department_household",
        comparison_description="two records of one department: same household means two members (twins!)",
        comparison_levels=[
            _null("department_l IS NULL OR department_r IS NULL"),
            # fixed, not estimated: a household file lists each member once, so two of its records with
            # different names are two members (siblings, twins) even when surname, birth and address agree
            _level(f"department_l = department_r AND household_id_l = household_id_r AND NOT ({_SAME_NAME})",
                   "same department, same household, names differ", m_probability=1e-6, fix_m_probability=True),
            _level("department_l = department_r AND household_id_l = household_id_r",
                   "same department, same household (registered twice)"),
            _level(f"department_l = department_r AND department_l IN ({one_record})",
                   "same department (one record per person)"),
            _level("department_l = department_r", "same department (several records per person)"),
            _else("different departments"),
        ],
    )


def all_comparisons() -> list[cl.CustomComparison]:
    return [identity_number(), name(), birth_date(), sex(), phone(), address(), department_household()]
