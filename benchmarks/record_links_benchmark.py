"""The linkage stage alone (`record_links`: term frequencies, Splink scoring, household pass) on a
night already standardised, once per model file, each in its own process: an A/B of blocking rules
or parameters on the same records, without the rest of the night's noise.

    .venv/bin/python benchmarks/record_links_benchmark.py --db /tmp/cmp/1000000/run.duckdb \\
        --model old_model.json --model registry/linkage/model/model.json

`--db`: a database holding `records` (comparisons_benchmark.py --people N builds one). Prints per
model its version, seconds, links and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))


def measure(db: Path, model_path: Path, memory_limit: str) -> None:
    import duckdb

    from registry.linkage.prediction import predict_links
    from registry.linkage.training import load_model
    from registry.night import full_night

    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(str(Path(scratch) / "links.duckdb"))
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{scratch}/spill'")
        con.execute(f"ATTACH '{db}' AS source (READ_ONLY)")
        con.execute("CREATE TABLE records AS SELECT * FROM source.records")
        con.execute("DETACH source")
        model = load_model(model_path)
        started = time.perf_counter()
        links = predict_links(con, model, full_night())
        seconds = time.perf_counter() - started
        con.close()
    print(f"model {model.version}: record_links {seconds:.1f} s, {links:,} links, "
          f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a database whose `records` are standardised")
    parser.add_argument("--model", type=Path, action="append", default=[], help="a model file (repeat: A/B)")
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: measure in this process
    args = parser.parse_args(argv)
    models = args.model or [Path(__file__).parent.parent / "registry" / "linkage" / "model" / "model.json"]
    if args.one:
        measure(args.db.resolve(), models[0].resolve(), args.memory_limit)
        return 0
    for model in models:
        subprocess.run([sys.executable, __file__, "--one", "--db", str(args.db), "--model", str(model),
                        "--memory-limit", args.memory_limit], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
