import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from registry.cli import main
from registry.evaluate import score


def frame(rows):
    return pd.DataFrame(rows, columns=["record", "predicted", "truth"])


def test_perfect_clustering_scores_one():
    m = score(frame([("a", "1", "x"), ("b", "1", "x"), ("c", "2", "y")]))
    assert (m["pairwise_f1"], m["bcubed_f1"], m["true_pairs"]) == (1.0, 1.0, 1)


def test_over_merge_and_split_are_counted_by_cluster_size():
    # truth: {a,b,c} {d}; predicted: {a,b} {c,d}
    m = score(frame([("a", "1", "x"), ("b", "1", "x"), ("c", "2", "x"), ("d", "2", "y")]))
    assert (m["true_pairs"], m["predicted_pairs"], m["true_positive_pairs"]) == (3, 2, 1)
    assert m["pairwise_precision"] == pytest.approx(0.5)
    assert m["pairwise_recall"] == pytest.approx(1 / 3)
    # B-cubed precision per record: a 1, b 1, c 1/2, d 1/2 ; recall: a 2/3, b 2/3, c 1/3, d 1
    assert m["bcubed_precision"] == pytest.approx(0.75)
    assert m["bcubed_recall"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)


def test_registry_evaluate_reads_the_published_crosswalk(tmp_path: Path, capsys):
    (tmp_path / "published").mkdir()
    con = duckdb.connect(str(tmp_path / "published" / "registry.duckdb"))
    con.execute("CREATE TABLE crosswalk (department VARCHAR, source_record_id VARCHAR, resident_id VARCHAR,"
                " match_probability DOUBLE)")
    con.execute("INSERT INTO crosswalk VALUES ('labour','LD1','R1',1), ('public_security','GA1','R1',1),"
                " ('labour','LD2','R2',1)")
    con.close()
    truth = tmp_path / "truth.csv"
    truth.write_text("department,source_record_id,person_id\nlabour,LD1,P1\npublic_security,GA1,P1\n"
                     "labour,LD2,P1\nlabour,LD3,P2\n", encoding="utf-8")
    assert main(["evaluate", "--home", str(tmp_path), "--truth", str(truth)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["true_pairs"] == 3 and result["true_positive_pairs"] == 1
    assert result["truth_records_not_published"] == 1
    assert "pairwise" in out[0] or any("pairwise" in line for line in out)
