"""What the departments receive from the golden registry, beyond the golden records themselves.

- discrepancies: each department's own records whose values differ from the golden value, with the
  department and rule that value came from (a table of the run, published with the registry).
- extracts: per-department Parquet files written at each publish, holding only what the policy allows.
- changes: the change feed (merged, split, retired; golden values changed; status events).
"""
