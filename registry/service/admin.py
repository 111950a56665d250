"""Administrators' routes: the audit from the browser (`registry audit` in a terminal).

GET /api/audit?department=&officer=&resident=&since=&until=&limit=   rows of the audit, newest last
Officers without the admin role get 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool

from registry.access import audit
from registry.home import Home
from registry.service.officers import Officer, admin


def _date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise HTTPException(422, f"not a date YYYY-MM-DD: {text!r}") from None


def router(home: Home) -> APIRouter:
    r = APIRouter(tags=["administrators"])

    @r.get("/api/audit", summary="Who read what (administrators only)")
    async def read_audit(request: Request, who: Officer = Depends(admin),
                         department: Annotated[str | None, Query(max_length=64)] = None,
                         officer: Annotated[str | None, Query(max_length=64)] = None,
                         resident: Annotated[str | None, Query(max_length=64)] = None,
                         since: Annotated[str | None, Query(max_length=10)] = None,
                         until: Annotated[str | None, Query(max_length=10)] = None,
                         limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> dict:
        rows = await run_in_threadpool(audit.query, home, department=department, resident=resident,
                                       who=f"officer:{officer}" if officer else None, since=_date(since),
                                       until=_date(until))
        return {"reads": rows[-limit:], "total": len(rows)}

    return r
