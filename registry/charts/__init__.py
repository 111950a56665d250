"""The registry's charts: health over the nights, tonight's distributions, the model's match weights, the
audit sample's calibration and accuracy.

    specs   Vega-Lite specifications from plain rows (one function per chart)
    data    the rows, read from a HOME (published registry, audit samples, committed model)
    render  a specification as an image for Dagster's metadata (vl-convert, offline)
    vendor  the Vega, Vega-Lite and vega-embed scripts Splink ships in its package, for pages served offline
"""
