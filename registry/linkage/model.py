"""The linkage model's settings: comparisons, blocking rules and every threshold, in one place."""

from __future__ import annotations

from splink import SettingsCreator, block_on

from registry.linkage.backend import dwelling_sql
from registry.linkage.comparisons import all_comparisons
from registry.package_files import package_file

# Lowest match probability of a pair kept in `links` (the rest is noise nobody looks at).
LINK_FLOOR = 0.01
# Pairs at or above this probability join two records into one resident.
MATCH_THRESHOLD = 0.9
# The review queue's uncertain band is chosen from measured calibration: registry/linkage/calibration.py.

MODEL_PATH = package_file("linkage", "model", "model.json")

# Columns of `records` the model reads (the rest of `records` never enters Splink).
MODEL_COLUMNS = (
    "record_uid", "department", "id_number", "id_number_form", "sex_disagrees_id", "birth_disagrees_id",
    "name", "name_plain", "name_pinyin", "surname", "given_name", "former_name", "former_name_pinyin",
    "sex", "birth_date", "birth_year", "birth_month", "birth_day", "birth_date_precision",
    "phone", "household_id",
    "hukou_address", "hukou_district", "hukou_street", "hukou_community",
    "current_address", "current_district", "current_street", "current_community",
)


# Columns derived from `records` for the model (name -> SQL over `records`): the flat of each
# address, compared by the address comparison when the unit or community is left out.
DERIVED_COLUMNS = {
    "hukou_dwelling": dwelling_sql("hukou_rest"),
    "current_dwelling": dwelling_sql("current_rest"),
}


def blocking_rules() -> list:
    """Several rules, so a record with a missing or mistyped number is still compared. Each rule
    pairs a name with a birth field, a place or a near-unique value, so that common names (张伟) make
    no block that grows with the square of the population."""
    return [
        block_on("id_number"),
        # a homophone anywhere in the name; family planning's children are known to the month
        block_on("name_pinyin", "birth_year", "birth_month"),
        block_on("surname", "birth_date", "current_street"),
        block_on("given_name", "birth_date"),
        block_on("phone", "birth_year"),
        # no number and no birth date (labour rows): the name within a community, on any address
        "l.name_pinyin = r.name_pinyin AND l.current_community = r.current_community"
        " AND l.current_street = r.current_street",
        "l.name_pinyin = r.name_pinyin AND l.hukou_community = r.hukou_community AND l.hukou_street = r.hukou_street",
        "l.name_pinyin = r.name_pinyin AND l.current_community = r.hukou_community AND l.current_street = r.hukou_street",
        "l.name_pinyin = r.name_pinyin AND l.hukou_community = r.current_community AND l.hukou_street = r.current_street",
        # a mistyped number keeps its first 14 or its last 12 characters intact (division code +
        # birth date, birth date + order code + check); everyone born on one day in one county
        # shares the first 14, so that rule also asks for the surname
        block_on("substr(id_number, 1, 14)", "surname"),
        block_on("substr(id_number, 7, 12)"),
        # ... and a mistyped year its last 10 (the birth month and day, order code and check)
        block_on("substr(id_number, 9, 10)"),
        # one office knows the person by the name the other keeps as the former name (曾用名), in
        # sound, born the same year or (labour rows without a birth date) living in the same community
        "l.former_name_pinyin = r.name_pinyin AND l.birth_year = r.birth_year",
        "l.name_pinyin = r.former_name_pinyin AND l.birth_year = r.birth_year",
        "l.former_name_pinyin = r.name_pinyin AND l.current_community = r.current_community"
        " AND l.current_street = r.current_street",
        "l.name_pinyin = r.former_name_pinyin AND l.current_community = r.current_community"
        " AND l.current_street = r.current_street",
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_uid",
        comparisons=all_comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=1e-6,
    )
