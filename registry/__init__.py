"""Resident Registry: one golden record per resident, linked from four departments' nightly extracts."""

__version__ = "0.1.0"
