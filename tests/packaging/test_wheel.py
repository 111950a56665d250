"""The wheel carries every file the package reads at run time, and the package finds them through itself.

The whole installed path (wheel built, installed in a new virtual environment, two nights merged) is
`make installed-night`, which CI runs; this test is its quick guard."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("registry", "pipelines", "expectations")


def _data_files() -> set[str]:
    """Every file of the packages that is not Python source: what the package reads at run time."""
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc") \
                    and path.name != "README.md":
                files.add(path.relative_to(ROOT).as_posix())
    return files


@pytest.mark.slow
def test_the_wheel_ships_every_data_file_of_the_package(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
                    str(src)], check=True, capture_output=True)
    wheel, = (tmp_path / "dist").glob("resident_registry-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())

    wanted = _data_files()
    assert {"expectations/civil_affairs_delivery.json", "registry/access_policy.yaml",
            "registry/residents/survivorship.yaml", "registry/linkage/model/model.json",
            "registry/standardise/gazetteer.csv"} <= wanted
    assert wanted - shipped == set()


def test_no_module_reads_files_from_the_source_tree():
    """Files are found through the package (registry.package_files), never relative to a checkout."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "__file__" in text and path.name != "package_files.py":
                offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_every_shipped_file_is_found_through_the_package():
    from registry.generate.vocab import DATA
    from registry.linkage.model import MODEL_PATH
    from registry.publish.access import ACCESS_POLICY
    from registry.quality import EXPECTATIONS_DIR
    from registry.residents.survivorship import RULES_PATH
    from registry.review.web import STATIC
    from registry.standardise.addresses import GAZETTEER

    registry, expectations = (Path(__import__(p).__file__).parent for p in ("registry", "expectations"))
    for path in (DATA, MODEL_PATH, ACCESS_POLICY, RULES_PATH, STATIC, GAZETTEER):
        assert path.exists() and registry in path.parents, path
    assert EXPECTATIONS_DIR == expectations and (EXPECTATIONS_DIR / "published_registry.json").exists()
