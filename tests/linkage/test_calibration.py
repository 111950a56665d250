"""The uncertain band comes from measured calibration: its top where every bin above is one person at
least 99.9% of the time for every writer, its bottom where some writer's bins stop being worth asking."""

from registry.linkage import MATCH_THRESHOLD, UNCERTAIN_BAND
from registry.linkage.calibration import choose_band, read, uncertain_band


def _bins(*rows):
    return [{"from": lo, "to": hi, "pairs": n, "one_person": k} for lo, hi, n, k in rows]


CLEAN = _bins((0.3, 0.5, 100, 1), (0.5, 0.9, 50, 20), (0.9, 0.99, 40, 30), (0.99, 0.999, 60, 60),
              (0.999, 1.0, 10000, 9999))


def test_the_top_is_where_every_writer_is_right_999_times_in_1000():
    assert choose_band({"generator": CLEAN}) == (0.5, 0.99)
    # the other writer's links at 0.99-0.999 are one person 57 times in 60: the top moves up for both
    other = _bins((0.3, 0.5, 100, 0), (0.5, 0.9, 50, 25), (0.9, 0.99, 40, 39), (0.99, 0.999, 60, 57),
                  (0.999, 1.0, 10000, 10000))
    assert choose_band({"generator": CLEAN, "independent": other}) == (0.5, 0.999)


def test_the_bottom_is_where_asking_stops_finding_one_person():
    rows = _bins((0.1, 0.3, 100, 12), (0.3, 0.5, 100, 30), (0.5, 0.9, 50, 20), (0.9, 1.0, 1000, 1000))
    assert choose_band({"w": rows})[0] == 0.1
    rows[0]["one_person"] = 2                                   # 2 in 100 below 0.3: not worth asking
    assert choose_band({"w": rows})[0] == 0.3


def test_a_bin_too_small_to_judge_is_asked_about():
    rows = _bins((0.5, 0.9, 50, 20), (0.9, 0.99, 40, 30), (0.99, 0.999, 5, 5), (0.999, 1.0, 10000, 10000))
    assert choose_band({"w": rows}) == (0.5, 0.999)


def test_the_committed_band_is_the_committed_calibration_s_and_holds_the_threshold():
    assert UNCERTAIN_BAND == uncertain_band() == choose_band(read()["writers"])
    assert set(read()["writers"]) == {"generator", "independent"}
    assert UNCERTAIN_BAND[0] <= MATCH_THRESHOLD < UNCERTAIN_BAND[1]
