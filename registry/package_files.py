"""Files that ship inside the installed packages (the suites in `expectations`; rules, policy, model,
gazetteer, generator vocabularies and web pages in `registry`), found through the package wherever it
is installed, never through the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_file(*parts: str, package: str = "registry") -> Path:
    """The path on disk of a file shipped in a package, e.g. package_file("access_policy.yaml").

    The package is installed as files (a wheel, or an editable checkout), so the resource is a real path:
    DuckDB and the web server read these files by name."""
    resource = resources.files(package).joinpath(*parts)
    if not isinstance(resource, Path):  # a zipped install: nothing on disk to hand to DuckDB
        raise RuntimeError(f"{package}/{'/'.join(parts)} is not on disk ({resource!r}): install the package "
                           "as files (pip install), not as a zip")
    return resource
