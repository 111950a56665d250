"""Errors of the library, in the domain's words: what went wrong for whom, never which flag or form
field to use. The command line (registry/commands) and the web pages map them to their own flags and
fields; Dagster shows the message as it is."""

from __future__ import annotations


class RegistryError(Exception):
    """Something the registry refused or could not do; the message says what, for a person."""


class NightRefused(RegistryError):
    """The night may not run as asked (a date before the latest merged night, no deliveries at all);
    nothing was changed."""


class ShrinkHeldBack(RegistryError):
    """Tonight would retire more residents than the shrink guard allows (registry.shrink); the night
    stops before its publish unless the shrink is accepted."""


class RollbackRefused(RegistryError):
    """The latest night cannot be taken back (a run is going, nothing before it, its predecessor no
    longer kept); nothing was changed."""


class DeliveryStopsNight(RegistryError):
    """A department's delivery for the night was rejected, or there is none at all: the night stops
    unless publishing with the previous delivery standing was accepted (NightPlan.accept_rejected)."""

    def __init__(self, message: str, *, department: str, status: str):
        super().__init__(message)
        self.department = department
        self.status = status


class PublishError(RegistryError):
    """The registry was not published; the previous one is untouched. `checks`: the blocking checks'
    results when they are why (registry.publish.checks.CheckResult)."""

    def __init__(self, message: str, *, checks: list | None = None):
        super().__init__(message)
        self.checks = list(checks or [])


class AccessError(RegistryError):
    """A request about who may read what (a credential, an account, the access policy) that cannot be
    carried out; nothing was changed."""
