"""Linkage health: how good tonight's linkage looks without ground truth, night after night.

    from registry.health.nightly import measure_night
    summary = measure_night(con, night, model)   # -> linkage_health (every night kept)

`linkage_health` holds one row per figure per night (figures.py: link rates by department pair,
unlinked and unlinkable records, completeness of the compared fields, match weights against the
model's, resident sizes and impossible residents, the review queue's size and age), each with its
baseline (recent nights) and a status: `warn` when thresholds.yaml says the figure moved too far.
It is published with the registry, shown in Dagster and on the officers' chart page.

Modules: figures (the SQL of each figure), linkability (self-match scores), thresholds (warnings),
nightly (measure_night), report (what `registry quality` says). The table's shape is
registry.contracts.LINKAGE_HEALTH; registry/publish/linkage_health.py publishes it.
"""
