"""The review page: a Starlette app serving plain HTML/CSS/JS from static/ and a small JSON API.

GET  /api/items?kind=&street=&community=&status=   items (open by default; status=all for every item), facets,
                                                    warnings (lines of the decisions file that are skipped)
GET  /api/items/{item_id}                           one item with its evidence
POST /api/items/{item_id}/decision                  {"decision", "value", "by", "reason"} -> the decision and the item
Decisions go through registry.review.decisions, exactly as `registry review decide` does.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from registry.home import Home
from registry.package_files import package_file
from registry.review import MissingDecisionField, ReviewError, UnknownItem, published
from registry.review.decisions import record_decision

STATIC = package_file("review", "web", "static")


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status_code=status,
                    media_type="application/json")


# The library's decision fields as the page's JSON fields.
FIELDS = {"decided_by": "by", "reason": "reason", "value": "value", "decision": "decision"}


def _error(e: ReviewError) -> Response:
    """A review error in the page's words: its JSON field names for the library's fields."""
    body = {"error": str(e)}
    if isinstance(e, MissingDecisionField):
        body = {"error": f"{FIELDS.get(e.field, e.field)} is required: {e.why}", "field": FIELDS.get(e.field, e.field)}
    elif e.field is not None:
        body["field"] = FIELDS.get(e.field, e.field)
    return _json(body, 404 if isinstance(e, UnknownItem) else 400)


def create_app(home: Home) -> Starlette:
    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    def items(request: Request) -> Response:
        q = request.query_params
        status = q.get("status") or "open"
        try:
            df = published.list_items(home, kind=q.get("kind") or None, street=q.get("street") or None,
                                      community=q.get("community") or None,
                                      status=None if status == "all" else status, limit=int(q.get("limit") or 500))
            rows = json.loads(df.to_json(orient="records", force_ascii=False))
            return _json({"items": rows, "facets": published.facets(home),
                          "warnings": published.decision_file_problems(home)})
        except ReviewError as e:
            return _error(e)

    def item(request: Request) -> Response:
        try:
            return _json(published.get_item(home, request.path_params["item_id"]))
        except ReviewError as e:
            return _error(e)

    async def decide(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        try:
            body = await request.json()
        except ValueError:
            return _json({"error": "the request body must be JSON"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "the request body must be a JSON object"}, 400)
        try:
            row = await run_in_threadpool(
                record_decision, home, item_id=item_id, decision=str(body.get("decision") or ""),
                value=body.get("value"), decided_by=str(body.get("by") or ""), reason=str(body.get("reason") or ""))
            current = await run_in_threadpool(published.get_item, home, item_id)
        except ReviewError as e:
            return _error(e)
        return _json({"decision": row, "item": current})

    return Starlette(routes=[
        Route("/", index),
        Route("/api/items", items),
        Route("/api/items/{item_id}", item),
        Route("/api/items/{item_id}/decision", decide, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ])
