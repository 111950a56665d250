"""Synthetic nightly deliveries of the four departments, exactly as DEPARTMENTS.md describes them,
with ground truth. `generate_night` is the one entry point (the `registry generate` command wraps it)."""

from registry.generate.night import NightSummary, generate_night

__all__ = ["NightSummary", "generate_night"]
