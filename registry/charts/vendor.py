"""The charting scripts a page needs, served from the installed Splink package (never a CDN): Splink ships
Vega, Vega-Lite and vega-embed for its own offline charts."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# name served -> file in splink/internals/files/external_js (versions as Splink 5.0.0 ships them)
SCRIPTS: dict[str, str] = {
    "vega.js": "vega@5.31.0",
    "vega-lite.js": "vega-lite@5.2.0",
    "vega-embed.js": "vega-embed@6.20.2",
}


def script_path(name: str) -> Path:
    """The file of a served script; KeyError for any other name."""
    return Path(str(files("splink").joinpath("internals", "files", "external_js", SCRIPTS[name])))
