"""The independent writer writes the hard cases of the field, its own way, and a night that follows."""

from __future__ import annotations

from collections import Counter

from tests.independent.writer import TAGS, Knobs, write_next_night, write_night


def test_its_districts_differ_by_seed_and_hold_every_hard_case(tmp_path):
    assert vars(Knobs(1)) != vars(Knobs(2))
    night = write_night(tmp_path / "landing", "2026-11-20", 3000, seed=11)
    tags = Counter(t for s in night.truth["irregularities"] for t in s.split(";") if t)
    assert set(tags) <= set(TAGS)
    for tag in ("no_id", "child_no_id", "id_typo", "shared_id", "homophone", "traditional", "spaces", "separator",
                "former_name", "twin", "address_outdated"):
        assert tags[tag] >= 1, (tag, tags)
    fp = night.truth[night.truth.department == "family_planning"]
    assert fp["irregularities"].str.contains("child_no_id").any()
    # another person's number is never counted as the person's own
    assert not (night.truth.id_is_other_persons & night.truth.id_recoverable).any()


def test_the_next_night_keeps_keys_and_brings_changes(tmp_path):
    first = write_night(tmp_path / "landing", "2026-11-20", 2000, seed=5)
    second = write_next_night(tmp_path / "landing", "2026-11-21", 2000, 5, "2026-11-20")
    a = first.truth.set_index(["department", "source_record_id"])["person_id"]
    b = second.truth.set_index(["department", "source_record_id"])["person_id"]
    both = a.index.intersection(b.index)
    assert len(both) > 0.98 * len(a)
    assert (a[both] == b[both]).all()                       # a key keeps its person
    assert len(b.index.difference(a.index)) >= 5            # births and newcomers
    assert len(a.index.difference(b.index)) >= 1            # the dead leave the other offices
