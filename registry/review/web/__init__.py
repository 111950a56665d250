"""The review page: plain HTML/CSS/JS from static/ and a small JSON API, for signed-in officers.

GET  /                                              the page (the sign-in page first, when signed out)
GET  /api/items?kind=&street=&community=&status=   items (open by default; status=all for every item), facets,
                                                    warnings (lines of the decisions file that are skipped)
GET  /api/items/{item_id}                           one item with its evidence
POST /api/items/{item_id}/decision                  {"decision", "value", "reason"} -> the decision and the item
Decisions go through registry.review.decisions, exactly as `registry review decide` does, in the name
of the signed-in officer (a typed name is refused). Reading items is audited like any read of personal
data. Sign-in, sessions and CSRF: registry.service.officers; the app: registry.service.create_app.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.home import Home
from registry.package_files import package_file
from registry.review import MissingDecisionField, ReviewError, UnknownItem, published
from registry.review.decisions import record_decision
from registry.service.officers import Officer, officer, officer_change

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


class DecisionBody(BaseModel):
    """What an officer decides. Who decides is the signed-in officer: a `by` field is refused."""
    model_config = ConfigDict(extra="forbid")
    decision: Literal["same", "different", "value", "dismiss"]
    value: str | None = Field(None, max_length=200)
    reason: str = Field("", max_length=2000)


async def _audit(request: Request, who: Officer, endpoint: str, resident_ids: list[str], query: dict | None = None):
    await request.app.state.audit.awrite({
        "who": f"officer:{who.name}", "officer": who.name, "endpoint": endpoint,
        "client": request.client.host if request.client else None, "status": 200, "query": query or None,
        "scope": "records", "residents": len(resident_ids), "resident_ids": resident_ids})


def router(home: Home) -> APIRouter:
    r = APIRouter(tags=["review"])

    @r.get("/", include_in_schema=False)
    def index(who: Officer = Depends(officer)) -> Response:
        return FileResponse(STATIC / "index.html")

    @r.get("/api/items", summary="Review items and the filters' facets")
    async def items(request: Request, who: Officer = Depends(officer)) -> Response:
        q = request.query_params
        status = q.get("status") or "open"
        try:
            limit = min(int(q.get("limit") or 500), 5000)
        except ValueError:
            return _json({"error": "limit must be a number"}, 400)
        try:
            df = await run_in_threadpool(
                published.list_items, home, kind=q.get("kind") or None, street=q.get("street") or None,
                community=q.get("community") or None, status=None if status == "all" else status, limit=limit)
            rows = json.loads(df.to_json(orient="records", force_ascii=False))
            facets = await run_in_threadpool(published.facets, home)
        except ReviewError as e:
            return _error(e)
        await _audit(request, who, "GET /api/items", sorted({r["resident_id"] for r in rows if r.get("resident_id")}),
                     {k: v for k, v in q.items()})
        warnings = await run_in_threadpool(published.decision_file_problems, home)
        return _json({"items": rows, "facets": facets, "warnings": warnings})

    @r.get("/api/items/{item_id}", summary="One review item with its evidence")
    async def item(item_id: str, request: Request, who: Officer = Depends(officer)) -> Response:
        try:
            found = await run_in_threadpool(published.get_item, home, item_id)
        except ReviewError as e:
            return _error(e)
        await _audit(request, who, "GET /api/items/{item_id}", [found["resident_id"]] if found.get("resident_id") else [],
                     {"item_id": item_id})
        return _json(found)

    @r.post("/api/items/{item_id}/decision", summary="Decide a review item, as the signed-in officer")
    async def decide(item_id: str, body: DecisionBody, request: Request,
                     who: Officer = Depends(officer_change)) -> Response:
        try:
            row = await run_in_threadpool(
                record_decision, home, item_id=item_id, decision=body.decision, value=body.value,
                decided_by=who.name, reason=body.reason)
            current = await run_in_threadpool(published.get_item, home, item_id)
        except ReviewError as e:
            return _error(e)
        return _json({"decision": row, "item": current})

    return r


def static_files():
    from starlette.staticfiles import StaticFiles

    return StaticFiles(directory=STATIC)


def create_app(home: Home):
    """The whole `registry serve` application on HOME (registry.service.create_app)."""
    from registry.service import create_app as create

    return create(home)

