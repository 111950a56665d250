"""Who may read what, and the record of who did: the access policy, departments' credentials,
officers' accounts and sessions, the audit of reads, and the file modes that keep the rest private.

- policy:      registry/access_policy.yaml as the service enforces it (columns, lookups, sensitive attributes).
- credentials: departments' API credentials (`registry access`), kept only as hashes.
- users:       officers' and administrators' accounts (`registry users`), passwords hashed with scrypt.
- audit:       HOME/audit, append-only, one line per read of personal data (`registry audit`).
- files:       HOME's private folders and files (readable by the service's own user only).
"""

from __future__ import annotations

from registry.errors import AccessError

__all__ = ["AccessError"]
