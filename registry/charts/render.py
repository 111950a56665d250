"""A chart as an image for Dagster's asset metadata: Dagster renders Markdown, and its Markdown shows an
image given as a data URL. vl-convert renders Vega-Lite offline (its own copy of Vega, no network); SVG,
a third of the size of the same chart as PNG, since every night's images stay in Dagster's event log."""

from __future__ import annotations

import base64
import logging

log = logging.getLogger(__name__)


def svg(spec: dict) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def markdown_image(spec: dict) -> str:
    """`![title](data:image/svg+xml;base64,...)`, or a line saying why the chart is missing."""
    title = str(spec.get("title", "chart")).replace("[", "(").replace("]", ")")
    try:
        data = base64.b64encode(svg(spec).encode("utf-8")).decode("ascii")
    except Exception as exc:  # noqa: BLE001 - a chart must never fail the night
        log.warning("chart %s not rendered: %s", title, exc)
        return f"*{title}: not rendered ({exc})*"
    return f"![{title}](data:image/svg+xml;base64,{data})"
