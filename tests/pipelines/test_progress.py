"""`registry run` shows what the night is doing while it does it; `--quiet` keeps stderr for errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.independent.writer import write_night

pytestmark = pytest.mark.slow

DATE = "2026-11-20"
STAGES = ("civil_affairs_delivery", "labour_delivery", "public_security_delivery", "family_planning_delivery",
          "standardised_records", "linkage_model", "record_links", "person_clusters", "residents",
          "review_queue", "published_registry")
REGISTRY = str(Path(sys.executable).parent / "registry")


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress")
    write_night(root / "landing", DATE, 600, seed=41)
    return root / "landing"


def test_each_stage_is_reported_as_it_starts_and_ends_while_the_run_goes_on(landing, tmp_path):
    home = tmp_path / "home"
    proc = subprocess.Popen([REGISTRY, "run", "--home", str(home), "--landing", str(landing), "--date", DATE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, running_when = [], {}
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        running_when[len(lines) - 1] = proc.poll() is None
    out = proc.stdout.read()
    assert proc.wait(timeout=600) == 0, "\n".join(lines)

    first_stage = next(i for i, l in enumerate(lines) if "civil_affairs_delivery started" in l)
    assert running_when[first_stage], "the first stage's line came only after the run had ended"
    for stage in STAGES:
        start = [i for i, l in enumerate(lines) if re.search(rf"\] {stage} started$", l)]
        end = [i for i, l in enumerate(lines) if re.search(rf"\] {stage} done in \d+\.\d s", l)]
        assert len(start) == 1 and len(end) == 1 and start[0] < end[0], (stage, lines)
    # elapsed seconds since the run began, never going back; the figures the stages produced
    elapsed = [float(m.group(1)) for l in lines if (m := re.match(r"\[\s*(\d+\.\d) s\] ", l))]
    assert len(elapsed) == len(lines) and elapsed == sorted(elapsed)
    assert any(re.search(r"residents done in .*: [\d,]+ residents$", l) for l in lines)
    assert any(re.search(r"check civil_affairs_delivery passed", l) for l in lines)
    # the summary stays, on stdout
    assert out.startswith(f"Nightly merge {DATE} (full) published")


def test_quiet_prints_nothing_but_the_summary(landing, tmp_path):
    home = tmp_path / "home"
    done = subprocess.run([REGISTRY, "run", "--home", str(home), "--landing", str(landing), "--date", DATE,
                           "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"Nightly merge {DATE} (full) published")
