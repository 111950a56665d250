"""The registry's configuration, HOME/registry.yaml, read in one place; and how much of the machine a
night's databases may use.

    database:
      memory_limit: 6GB            # default: a quarter of this machine's memory (GB = 1000^3, GiB = 1024^3)
      threads: 2                   # default: every core
      temp_directory: /fast/spill  # default: the run's scratch folder, removed with it
    linkage:
      engine: spark                # see registry.linkage.engines

DuckDB spills what exceeds `memory_limit` to `temp_directory`, so a night of any size runs within it
(slower once it spills). The limit is per database instance: the night's own connection and each
parsing worker (those get a share of it) respect it; what Python holds beside (a validation chunk,
Splink's settings) comes on top.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry.home import Home

CONFIG_FILE = "registry.yaml"
MEMORY_SHARE = 0.25  # of the machine's memory, for DuckDB, when the configuration says nothing
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


class ConfigError(ValueError):
    """HOME/registry.yaml cannot be read, or says something the registry cannot do."""


def config_section(home: "Home", name: str) -> dict[str, Any]:
    """One top-level section of HOME/registry.yaml ({} when the file or the section is absent)."""
    path = home.root / CONFIG_FILE
    if not path.exists():
        return {}
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    section = (document.get(name) or {}) if isinstance(document, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: '{name}' must be a mapping")
    return section


def machine_memory() -> int:
    """Bytes of physical memory on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _bytes(size: str) -> int:
    match = _SIZE.fullmatch(str(size))
    if not match:
        raise ConfigError(f"memory_limit {size!r}: write a size such as 6GB or 512MB")
    unit = match.group(2).upper()  # as DuckDB reads them: GB is 1000^3 bytes, GiB 1024^3
    base, power = (1024, ("KIB", "MIB", "GIB", "TIB").index(unit)) if "I" in unit else \
        (1000, ("KB", "MB", "GB", "TB").index(unit))
    return int(float(match.group(1)) * base ** (power + 1))


@dataclass(frozen=True)
class DatabaseSettings:
    """How much memory and how many threads a night's DuckDB may use, and where it spills."""

    memory_limit: int = 0      # bytes; 0: MEMORY_SHARE of the machine's memory
    threads: int = 0           # 0: every core
    temp_directory: str = ""   # empty: the caller's scratch folder

    @classmethod
    def load(cls, home: "Home") -> "DatabaseSettings":
        section = config_section(home, "database")
        try:
            threads = int(section.get("threads") or 0)
        except (TypeError, ValueError):
            raise ConfigError(f"{home.root / CONFIG_FILE}: database.threads must be a whole number") from None
        limit = section.get("memory_limit")
        try:
            return cls(memory_limit=_bytes(limit) if limit else 0, threads=max(threads, 0),
                       temp_directory=str(section.get("temp_directory") or ""))
        except ConfigError as exc:
            raise ConfigError(f"{home.root / CONFIG_FILE}: database.{exc}") from None

    @property
    def memory_bytes(self) -> int:
        return self.memory_limit or int(machine_memory() * MEMORY_SHARE)

    def config(self, scratch: Path, share: float = 1.0, threads: int | None = None) -> dict[str, Any]:
        """DuckDB's configuration for a database instance given `share` of the memory (a parsing worker
        gets a part of it); it spills under `scratch` unless a temp_directory is configured."""
        spill = Path(self.temp_directory) / scratch.name if self.temp_directory else scratch
        # at least 256 MiB: with less, DuckDB cannot pin the blocks a night's queries need
        return {"memory_limit": f"{max(int(self.memory_bytes * share) // 2 ** 20, 256)}MiB",
                "threads": threads or self.threads or os.cpu_count() or 1,
                "temp_directory": str(spill),
                "preserve_insertion_order": False}
