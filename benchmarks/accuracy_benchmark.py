"""Do the audit sample's 95% intervals hold the truth? Coverage over generated nights and sample seeds.

For each generated night (generator seeds; `--hard` also blanks every identity number of labour and civil
affairs, so the registry makes more mistakes), `registry run` once; then for each sample size and seed, on
a copy of that home: `registry review sample --size N --seed S`, every item decided from the ground truth
through `registry review decide`, `registry quality --json`, and `registry evaluate` for the truth. Prints
one line per repeat and a summary: how often each interval held the true figure, mean widths, time.

    .venv/bin/python benchmarks/accuracy_benchmark.py --people 20000 --nights 3 --seeds 4 --sizes 200,500
    .venv/bin/python benchmarks/accuracy_benchmark.py --writer independent --people 10000 --nights 2 --seeds 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from registry.cli import main  # noqa: E402

DATE = "2026-11-20"


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"registry {' '.join(argv)} exited {code}: {out.getvalue()[-500:]}")
    return out.getvalue()


def _night(root: Path, people: int, seed: int, hard: bool, writer: str) -> tuple[Path, Path]:
    home, truth = root / f"night-{writer}-{seed}{'-hard' if hard else ''}", root / f"truth-{writer}-{seed}.csv"
    if (home / "published" / "registry.duckdb").exists():
        return home, truth
    landing = home / "landing"
    if writer == "independent":  # tests/independent/writer.py: written from DEPARTMENTS.md alone
        from tests.independent.writer import write_night

        write_night(landing, DATE, people, seed=seed, truth_path=truth)
    else:
        _run(["generate", "--people", str(people), "--date", DATE, "--out", str(landing), "--seed", str(seed),
              "--truth", str(truth)])
    if hard:
        from tests.health.spoil import blank_identity_numbers

        for department in ("labour", "civil_affairs"):
            blank_identity_numbers(landing / DATE, department, every=1)
    _run(["run", "--home", str(home), "--date", DATE, "--quiet"])
    return home, truth


def _copy(home: Path, to: Path) -> Path:
    if to.exists():
        shutil.rmtree(to)
    shutil.copytree(home, to, ignore=shutil.ignore_patterns("landing", "dagster", "versions", "models"))
    shutil.rmtree(to / "review", ignore_errors=True)
    return to


def _decide_all(home: Path, truth: dict[str, str]) -> int:
    pairs = {}
    for path in (home / "review" / "audit_samples").glob("*.json"):
        for item in json.loads(path.read_text(encoding="utf-8"))["items"]:
            pairs[item["item_id"]] = (item["record_l"], item["record_r"])
    listed = json.loads(_run(["review", "list", "--home", str(home), "--kind", "audit_sample", "--json"]))
    for item in listed:
        left, right = pairs[item["item_id"]]
        _run(["review", "decide", item["item_id"], "--home", str(home),
              "--same" if truth[left] == truth[right] else "--different", "--by", "benchmark",
              "--reason", "ground truth"])
    return len(listed)


def main_(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=20000)
    p.add_argument("--nights", type=int, default=3, help="generator seeds (nights)")
    p.add_argument("--seeds", type=int, default=4, help="sample seeds per night and size")
    p.add_argument("--sizes", default="200,500")
    p.add_argument("--hard", action="store_true", help="blank labour's and civil affairs' identity numbers")
    p.add_argument("--writer", choices=("generate", "independent"), default="generate",
                   help="the nights' writer: `registry generate`, or the independent writer of tests/independent")
    p.add_argument("--work", default="/tmp/accuracy_benchmark")
    args = p.parse_args(argv)
    root = Path(args.work)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    started = time.perf_counter()
    for night_seed in range(101, 101 + args.nights):
        home, truth_file = _night(root, args.people, night_seed, args.hard, args.writer)
        truth_frame = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
        truth = dict(zip(truth_frame["department"] + ":" + truth_frame["source_record_id"], truth_frame["person_id"]))
        evaluated = json.loads(_run(["evaluate", "--home", str(home), "--truth", str(truth_file)]).splitlines()[-1])
        for size in (int(s) for s in args.sizes.split(",")):
            for seed in range(1, args.seeds + 1):
                scratch = _copy(home, root / "scratch")
                clock = time.perf_counter()
                _run(["review", "sample", "--home", str(scratch), "--size", str(size), "--seed", str(seed)])
                decided = _decide_all(scratch, truth)
                seconds = time.perf_counter() - clock
                q = json.loads(_run(["quality", "--home", str(scratch), "--json"]))
                row = {"night": night_seed, "size": size, "seed": seed, "decided": decided,
                       "true_precision": evaluated["pairwise_precision"], "precision": q["precision"],
                       "precision_lo": q["precision_ci"][0], "precision_hi": q["precision_ci"][1],
                       "true_recall": evaluated["pairwise_recall"], "recall": q["recall"],
                       "recall_lo": q["recall_ci"][0], "recall_hi": q["recall_ci"][1], "seconds": round(seconds, 1)}
                row["precision_held"] = row["precision_lo"] <= row["true_precision"] <= row["precision_hi"]
                row["recall_held"] = row["recall_lo"] <= row["true_recall"] <= row["recall_hi"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    df = pd.DataFrame(rows)
    summary = df.groupby("size").agg(
        repeats=("seed", "count"), precision_held=("precision_held", "mean"), recall_held=("recall_held", "mean"),
        precision_width=("precision_hi", lambda s: (s - df.loc[s.index, "precision_lo"]).mean()),
        recall_width=("recall_hi", lambda s: (s - df.loc[s.index, "recall_lo"]).mean()),
        seconds_per_repeat=("seconds", "mean"))
    print(summary.to_string())
    print(f"true precision {df['true_precision'].min():.5f}-{df['true_precision'].max():.5f}, "
          f"recall {df['true_recall'].min():.5f}-{df['true_recall'].max():.5f}; people {args.people}, "
          f"writer {args.writer}; "
          f"total {time.perf_counter() - started:.0f} s; peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
