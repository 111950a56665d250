import duckdb
import pytest

from registry.linkage import MATCH_THRESHOLD, UNCERTAIN_BAND, LINK_FLOOR, load_model, train_model

from .records_factory import load_records
from .synthetic import make_records


def test_thresholds_are_ordered():
    assert 0 < LINK_FLOOR < UNCERTAIN_BAND[0] <= MATCH_THRESHOLD < UNCERTAIN_BAND[1] <= 1


def test_committed_model_is_versioned_and_its_weights_make_sense(tmp_path):
    model = load_model()
    assert len(model.version) == 12
    p = model.parameters().set_index(["comparison", "level"]).match_weight
    assert p["id_number", "exact, valid"] > 10 > 0 > p["id_number", "different"]
    assert p["name", "exact"] > p["name", "one character or one syllable different"]
    assert p["birth_date", "exact"] > p["birth_date", "within a year"]
    assert p["department_household", "same department, same household, names differ"] < 0   # twins, siblings
    # two numbers the state issued, and different: twins are never left uncertain on their numbers alone
    assert p["id_number", "two different valid numbers"] < -10
    # a more specific agreement never weighs less than a looser one
    address = ["same address", "same building and room (unit or community left out)", "same community",
               "same street", "same district"]
    assert all(p["address", a] >= p["address", b] - 1e-9 for a, b in zip(address, address[1:]))
    household = model.household_parameters()["levels"]
    assert household["name"]["same"][0] > household["name"]["same"][1]       # one person agrees on the name
    assert household["birth"]["different"][0] < household["birth"]["different"][1]
    chart = model.save_match_weights_chart(tmp_path / "weights.html")
    assert "vega" in chart.read_text(encoding="utf-8").lower()


@pytest.mark.slow
def test_training_is_reproducible_with_a_fixed_seed():
    def train():
        con = duckdb.connect()
        load_records(con, make_records(3000, seed=3).drop(columns=["person_id"]).to_dict("records"))
        return train_model(con, seed=7, max_u_pairs=1e6, max_em_pairs=1e5)
    assert train().version == train().version
