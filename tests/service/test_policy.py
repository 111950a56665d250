"""registry/access_policy.yaml as the service enforces it: what it refuses to load, and what it allows."""

from __future__ import annotations

import pytest
import yaml

from registry.access.policy import PolicyError, load_policy


def write(tmp_path, departments: dict, sensitive=("disability_level",)):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"sensitive_columns": list(sensitive), "departments": departments},
                                   allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_policy():
    policy = load_policy()
    labour, civil = policy.departments["labour"], policy.departments["civil_affairs"]
    assert "assistance_amount_total" in civil.columns and "assistance_amount_total" not in labour.columns
    assert set(civil.sensitive) == {c for c in civil.columns if c in policy.sensitive_columns}
    assert not labour.allows("name_birth_date") and labour.allows("id_number")
    assert all(d.columns[0] == "resident_id" and d.own_crosswalk for d in policy.departments.values())


def test_a_sensitive_column_needs_a_purpose(tmp_path):
    path = write(tmp_path, {"labour": {"residents_columns": ["resident_id", "name", "disability_level"],
                                       "lookups": ["record"]}})
    with pytest.raises(PolicyError, match="sensitive columns disability_level listed without a purpose"):
        load_policy(path)
    path = write(tmp_path, {"labour": {"residents_columns": ["resident_id", "name", "disability_level"],
                                       "sensitive": {"disability_level": "employment assistance"}, "lookups": ["record"]}})
    assert load_policy(path).departments["labour"].sensitive == {"disability_level": "employment assistance"}


@pytest.mark.parametrize("spec, message", [
    ({"residents_columns": ["name"]}, "must include resident_id"),
    ({"residents_columns": ["resident_id"], "lookups": ["everything"]}, "unknown lookups everything"),
    ({"residents_columns": ["resident_id"], "sensitive": {"name": "x"}}, "not in its residents_columns"),
    ({"residents_columns": ["resident_id", "shoe_size"]}, "residents has no columns shoe_size"),
])
def test_what_the_policy_refuses(tmp_path, spec, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(write(tmp_path, {"labour": spec}), residents_columns={"resident_id", "name"})


def test_nothing_is_allowed_by_default(tmp_path):
    policy = load_policy(write(tmp_path, {"labour": {"residents_columns": ["resident_id", "name"]}}))
    assert policy.departments["labour"].lookups == frozenset()
