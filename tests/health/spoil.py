"""A spoiled delivery, as an export change would spoil it: a share of one department's identity numbers
blanked in its real file (CSV or JSON lines), the manifest rewritten to match so the delivery is accepted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from registry.departments.landing import sha256_of

# department -> (file glob, identity number column, file encoding)
_IDENTITY_COLUMN = {
    "public_security": ("hukou_*.csv", "公民身份号码", "gb18030"),
    "civil_affairs": ("minzheng_*.csv", "证件号码", "utf-8-sig"),
    "labour": ("laodong_*.jsonl", "SFZH", "utf-8"),
}


def blank_identity_numbers(night: Path, department: str, every: int = 2) -> int:
    """Blank the identity number of every `every`-th row of the department's delivery in the night's
    folder; returns how many were blanked."""
    pattern, column, encoding = _IDENTITY_COLUMN[department]
    folder = night / department
    (path,) = folder.glob(pattern)
    blanked = 0
    if path.suffix == ".csv":
        with open(path, encoding=encoding, newline="") as fh:
            rows = list(csv.reader(fh))
        at = rows[0].index(column)
        for i, row in enumerate(rows[1:]):
            if i % every == 0 and row[at]:
                row[at] = ""
                blanked += 1
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        path.write_bytes(out.getvalue().encode(encoding))
        n_rows = len(rows) - 1
    else:
        lines = path.read_text(encoding=encoding).splitlines()
        out_lines = []
        for i, line in enumerate(lines):
            try:
                obj = json.loads(line)
            except ValueError:  # a broken line the department delivered: it stays broken
                out_lines.append(line)
                continue
            if i % every == 0 and obj.get(column):
                obj[column] = ""
                blanked += 1
            out_lines.append(json.dumps(obj, ensure_ascii=False))
        path.write_text("\n".join(out_lines) + "\n", encoding=encoding)
        n_rows = len(lines)
    manifest = folder / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        meta.update(rows=n_rows, sha256=sha256_of(path))
        manifest.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return blanked
