"""The officers' chart page, one router of `registry serve` (mounted behind the officers' sign-in by
registry.service.create_app, OFFICER_ROUTERS):

GET /charts                  the page (static/charts.html)
GET /api/charts              the night, its warnings, the audited night's estimates and every chart
                             (Vega-Lite specifications; figures only, no personal data: nothing to audit)
GET /charts/static/{name}    the page's script and style
GET /charts/vendor/{name}    vega.js, vega-lite.js, vega-embed.js from the installed Splink package
"""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from registry.charts import data, vendor
from registry.home import Home
from registry.package_files import package_file
from registry.review import ReviewError

STATIC = package_file("charts", "static")
PAGE_FILES = {"charts.js": "text/javascript", "charts.css": "text/css"}


def router(home: Home) -> APIRouter:
    r = APIRouter(tags=["charts"])

    @r.get("/charts", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "charts.html", media_type="text/html")

    @r.get("/api/charts", summary="Linkage health and accuracy charts (Vega-Lite)")
    async def charts() -> Response:
        try:
            body = await run_in_threadpool(data.page, home)
        except ReviewError as exc:   # nothing published yet
            return Response(json.dumps({"error": str(exc)}), status_code=404, media_type="application/json")
        return Response(json.dumps(body, ensure_ascii=False, default=float), media_type="application/json")

    @r.get("/charts/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in PAGE_FILES:
            raise HTTPException(404)
        return FileResponse(STATIC / name, media_type=PAGE_FILES[name])

    @r.get("/charts/vendor/{name}", include_in_schema=False)
    def script(name: str) -> FileResponse:
        try:
            path = vendor.script_path(name)
        except KeyError:
            raise HTTPException(404) from None
        return FileResponse(path, media_type="text/javascript")

    return r
