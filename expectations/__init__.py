"""The Great Expectations suites, one JSON file each (README.md): a package so that they ship in the wheel
and are found through it (registry.quality reads them with importlib.resources)."""
