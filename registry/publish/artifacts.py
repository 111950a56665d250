"""What publish writes into the new registry file besides its tables: one artifact per module
(registry.publish.context.Artifact), registered below with one line.

Each artifact is prepared on the run database before any file is written (where it refuses, with a
PublishError, nothing under HOME/published is touched), then written through the new file's own
connection while the file is finished, before it is checkpointed and swapped in. Every view of the
file is dropped before the artifacts write (an incremental build starts from yesterday's file).
"""

from __future__ import annotations

from registry.publish.access import DepartmentViews
from registry.publish.context import Artifact
from registry.publish.linkage_health import LinkageHealth
from registry.sharing.discrepancies import DepartmentDiscrepancies
from registry.sharing.extracts import DepartmentExtracts

ARTIFACTS: tuple[Artifact, ...] = (
    DepartmentViews(),
    DepartmentDiscrepancies(),   # the published table `discrepancies`, computed on the run database
    DepartmentExtracts(),        # HOME/extracts/<department>/registry-<run_id>.parquet
    LinkageHealth(),             # the published table `linkage_health`: every night's health figures
)
