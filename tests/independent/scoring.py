"""What the acceptance checks measure on a night from the independent writer, after `registry run`.

    figures = measure(home, night)
    figures["accounted"]   department -> (written, standardised, quarantined whole)   must add up
    figures["id"]          recoverable, equal, share (standardised id_number == true one, where recoverable)
    figures["linkage"]     registry.evaluate's metrics against the writer's truth

Run as a script to write a night, run it and print the figures:
    .venv/bin/python -m tests.independent.scoring --people 20000 --out /tmp/h9
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from registry.evaluate import score


def measure(home: Path, night) -> dict:
    state = duckdb.connect(str(Path(home) / "state" / "registry_state.duckdb"), read_only=True)
    try:
        state.register("truth", night.truth)
        accounted = {}
        for dept, written in night.rows.items():
            standardised = state.execute("SELECT count(*) FROM records WHERE department = ?", [dept]).fetchone()[0]
            quarantined = state.execute(
                """SELECT count(DISTINCT line) FROM quarantine WHERE department = ? AND split_part(reason, ':', 1) IN
                   ('wrong_field_count', 'unparseable_row', 'invalid_json', 'not_a_json_object',
                    'missing_record_key', 'duplicate_record_key')""", [dept]).fetchone()[0]
            accounted[dept] = (written, standardised, quarantined)
        recoverable, equal = state.execute(
            """SELECT count(*), count(*) FILTER (WHERE r.id_number = t.true_id_number)
               FROM truth t JOIN records r ON r.department = t.department
                                          AND r.source_record_id = t.source_record_id
               WHERE t.id_recoverable""").fetchone()
        wrong = state.execute(
            """SELECT r.department, r.id_number_raw, r.id_number, t.true_id_number
               FROM truth t JOIN records r ON r.department = t.department AND r.source_record_id = t.source_record_id
               WHERE t.id_recoverable AND r.id_number IS DISTINCT FROM t.true_id_number LIMIT 20""").fetchall()
        # a standardised number that is valid but not the person's: worse than none (unless the office
        # delivered another person's number: that is the data, not the standardisation)
        false_valid = state.execute(
            """SELECT count(*) FROM truth t JOIN records r ON r.department = t.department
                                        AND r.source_record_id = t.source_record_id
               WHERE r.id_number_valid AND r.id_number <> t.true_id_number
                 AND NOT t.id_is_other_persons""").fetchone()[0]
    finally:
        state.close()
    pub = duckdb.connect(str(Path(home) / "published" / "registry.duckdb"), read_only=True)
    try:
        pub.register("truth", night.truth)
        pub.execute("""CREATE TEMP VIEW scored AS SELECT c.department || ':' || c.source_record_id AS record,
                              c.resident_id AS predicted, t.person_id AS truth
                       FROM crosswalk c JOIN truth t USING (department, source_record_id)""")
        linkage = score("scored", pub)
    finally:
        pub.close()
    return {"accounted": accounted,
            "id": {"recoverable": recoverable, "equal": equal, "share": equal / recoverable if recoverable else 1.0,
                   "false_valid": false_valid, "examples_wrong": wrong},
            "linkage": linkage}


def main(argv=None) -> int:
    from registry.cli import main as registry
    from tests.independent.writer import write_night

    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--date", default="2026-11-20")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/h9"))
    args = ap.parse_args(argv)
    landing, home = args.out / "landing", args.out / "home"
    t0 = time.perf_counter()
    night = write_night(landing, args.date, args.people, args.seed, truth_path=args.out / "truth.csv")
    t1 = time.perf_counter()
    rc = registry(["run", "--home", str(home), "--landing", str(landing), "--date", args.date, "--full-rebuild"])
    t2 = time.perf_counter()
    if rc != 0:
        print("registry run failed", rc)
        return rc
    figures = measure(home, night)
    print(json.dumps({"people": args.people, "write_s": round(t1 - t0, 1), "run_s": round(t2 - t1, 1),
                      **figures}, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
