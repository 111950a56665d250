"""The landing zone: which deliveries exist for which night, and their manifests.

<landing>/<YYYY-MM-DD>/<department>/<data file>   (+ optional manifest.json)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from registry.departments import DEPARTMENTS, data_file_name

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MANIFEST = "manifest.json"


class DeliveryRejected(Exception):
    """A delivery refused whole; the message names the file (and line where it helps)."""


@dataclass(frozen=True)
class Manifest:
    department: str | None
    extract_date: str | None
    file: str | None
    rows: int | None
    sha256: str | None


def available_dates(landing: Path) -> list[str]:
    """Nights (YYYY-MM-DD) with a folder in the landing zone, oldest first."""
    landing = Path(landing)
    if not landing.is_dir():
        return []
    return sorted(p.name for p in landing.iterdir() if p.is_dir() and _DATE_DIR.match(p.name))


def night_date(extract_date: str, landing: Path) -> str | None:
    """The night a run is for: the one asked for, else the latest in the landing zone that a department
    delivered for (None: none there)."""
    if extract_date:
        return extract_date
    dates = delivered_dates(landing)
    return dates[-1] if dates else None


def delivered_dates(landing: Path) -> list[str]:
    """Nights (YYYY-MM-DD) at least one department delivered a data file for, oldest first."""
    return [d for d in available_dates(landing) if any(deliveries_for(landing, d).values())]


def delivery_path(landing: Path, department: str, extract_date: str) -> Path:
    return Path(landing) / extract_date / department / data_file_name(department, extract_date)


def deliveries_for(landing: Path, extract_date: str) -> dict[str, Path | None]:
    """For one night: each department's data file if it landed, else None."""
    out: dict[str, Path | None] = {}
    for department in DEPARTMENTS:
        path = delivery_path(landing, department, extract_date)
        out[department] = path if path.is_file() else None
    return out


def earlier_deliveries(landing: Path, department: str, extract_date: str) -> list[tuple[str, Path]]:
    """(date, path) of the department's deliveries up to and including extract_date, newest first."""
    found = []
    for date in available_dates(landing):
        if date <= extract_date:
            path = delivery_path(landing, department, date)
            if path.is_file():
                found.append((date, path))
    return sorted(found, reverse=True)


def read_manifest(data_file: Path) -> Manifest | None:
    path = data_file.parent / MANIFEST
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        rows = doc.get("rows")
        return Manifest(doc.get("department"), doc.get("extract_date"), doc.get("file"),
                        int(rows) if rows is not None else None,
                        str(doc["sha256"]).lower() if doc.get("sha256") else None)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DeliveryRejected(f"{path}: manifest is unreadable ({exc})") from exc


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def check_manifest_identity(manifest: Manifest, data_file: Path, department: str, sha256: str) -> None:
    """Department, file name and checksum; the row count is checked once the file is parsed."""
    where = f"{data_file.name}: does not match its manifest.json"
    if manifest.department is not None and manifest.department != department:
        raise DeliveryRejected(f"{where}: manifest department is {manifest.department!r}, not {department!r}")
    if manifest.file is not None and manifest.file != data_file.name:
        raise DeliveryRejected(f"{where}: manifest names file {manifest.file!r}")
    if manifest.sha256 is not None and manifest.sha256 != sha256:
        raise DeliveryRejected(f"{where}: sha256 is {sha256}, manifest says {manifest.sha256} "
                               f"(file truncated or corrupt)")
