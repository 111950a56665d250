"""Dagster definitions of the nightly merge: a thin layer over the registry library."""
