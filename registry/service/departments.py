"""The department API, /api/v1: departments read the golden registry as their policy allows.

A department's credential (`registry access grant`) travels as `Authorization: Bearer <credential>`;
a missing, wrong or revoked one gets 401. Every route checks the department's policy on the server
(registry/access_policy.yaml): the lookups it may make (403 otherwise), the columns it sees, sensitive
columns only where the policy names them, its own record keys only. A record or resident it may not
see answers exactly as one that does not exist (404, same body). Every answer names the published
run it was read from (`run_id`, and the `X-Registry-Run-Id` header), and every answered request is
written to the audit first (no line, no answer).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from registry.access.credentials import Credential
from registry.access.policy import DepartmentPolicy
from registry.service.snapshot import NotPublished, Snapshot
from registry.sharing import changes, extracts
from registry.sql import table_exists
from registry.standardise import dates, id_numbers

NOT_FOUND = "no such record"
MAX_FOUND = 20
PAGE = 1000

bearer = HTTPBearer(auto_error=False, description="A department's credential from `registry access grant`.")


@dataclass(frozen=True)
class Caller:
    credential: Credential
    policy: DepartmentPolicy

    @property
    def department(self) -> str:
        return self.policy.department


async def caller(request: Request, auth: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The department whose credential came with the request, or 401."""
    credential = request.app.state.authenticate(auth.credentials if auth and auth.scheme.lower() == "bearer" else None)
    if credential is None:
        raise HTTPException(401, "a department credential is required: Authorization: Bearer <credential>",
                            headers={"WWW-Authenticate": 'Bearer realm="registry"'})
    policy = request.app.state.policy.departments.get(credential.department)
    if policy is None:   # the policy no longer names the department: nothing is allowed
        raise HTTPException(403, "this department has no access policy")
    return Caller(credential, policy)


def _allowed(who: Caller, lookup: str) -> None:
    if not who.policy.allows(lookup):
        raise HTTPException(403, f"the access policy does not allow {who.department} this lookup ({lookup})")


class _Held:
    """The current snapshot, held for the length of one request (so it never mixes two nights)."""

    def __init__(self, request: Request):
        self.registry = request.app.state.published

    def __enter__(self) -> Snapshot:
        try:
            self.snap = self.registry.acquire()
        except NotPublished:
            raise HTTPException(503, "no published registry yet: the first nightly run has not published") from None
        return self.snap

    def __exit__(self, *exc) -> None:
        self.snap.release()


def _jsonable(value: Any):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _answer(body: dict, snap: Snapshot, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=_jsonable, separators=(",", ":")),
                    status_code=status, media_type="application/json",
                    headers={"X-Registry-Run-Id": snap.run_id or ""})


async def _audit(request: Request, who: Caller, snap: Snapshot | None, *, status: int, resident_ids: list[str] | None,
                 scope: str = "records", purpose: str | None = None, query: dict | None = None,
                 columns: tuple[str, ...] = (), residents: int | None = None) -> None:
    route = request.scope.get("route")
    row = {"who": f"department:{who.department}", "department": who.department, "credential": who.credential.label,
           "client": request.client.host if request.client else None,
           "endpoint": f"{request.method} {route.path if route else request.url.path}", "status": status,
           "purpose": purpose, "query": query or None, "run_id": snap.run_id if snap else None, "scope": scope,
           "residents": residents if residents is not None else len(resident_ids or ()),
           "resident_ids": resident_ids, "sensitive": sorted(set(columns) & set(who.policy.sensitive)) or None}
    try:
        await request.app.state.audit.awrite(row)
    except Exception as exc:  # noqa: BLE001 - no audit line, no answer
        raise HTTPException(503, f"the read could not be audited, so it is not answered: {exc}") from None


def _not_found(snap: Snapshot, detail=NOT_FOUND) -> HTTPException:
    return HTTPException(404, detail, headers={"X-Registry-Run-Id": snap.run_id or ""})


class ResidentAnswer(BaseModel):
    run_id: str
    resident_id: str | None = None
    resident: dict[str, Any]
    source_record_ids: list[str] = []


class FoundAnswer(BaseModel):
    run_id: str
    normalised: dict[str, Any]
    residents: list[dict[str, Any]]
    source_record_ids: dict[str, list[str]]


class ChangesAnswer(BaseModel):
    run_id: str
    cursor: str
    more: bool
    changes: list[dict[str, Any]]


class DiscrepanciesAnswer(BaseModel):
    run_id: str
    discrepancies: list[dict[str, Any]]
    next: str | None


Who = Annotated[Caller, Depends(caller)]


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["departments"])

    @r.get("/me", summary="The caller's department, columns and allowed lookups (no personal data)")
    async def me(who: Who, request: Request) -> dict:
        return {"department": who.department, "credential": who.credential.label, "columns": list(who.policy.columns),
                "sensitive": who.policy.sensitive, "lookups": sorted(who.policy.lookups),
                "own_record_keys": who.policy.own_crosswalk, "run_id": request.app.state.published.run_id}

    @r.get("/records/{department}/{source_record_id}", response_model=ResidentAnswer,
           summary="The resident one of the caller's own records belongs to, in the caller's columns",
           responses={404: {"description": "No such record of the caller's department (or not the caller's)"}})
    async def record(department: str, source_record_id: str, who: Who, request: Request) -> Response:
        _allowed(who, "record")
        with _Held(request) as snap:
            row = (snap.record_row(department, source_record_id)
                   if department == who.department and who.policy.own_crosswalk else None)
            if row is None:
                await _audit(request, who, snap, status=404, resident_ids=[],
                             query={"department": department, "source_record_id": source_record_id})
                raise _not_found(snap)
            [resident] = snap.rows([row], who.policy.columns)
            await _audit(request, who, snap, status=200, resident_ids=[resident["resident_id"]],
                         query={"source_record_id": source_record_id}, columns=who.policy.columns)
            return _answer({"run_id": snap.run_id, "resident_id": resident["resident_id"], "resident": resident,
                            "source_record_ids": snap.keys_of(who.department, row)}, snap)

    @r.get("/residents/{resident_id}", response_model=ResidentAnswer, summary="One resident, in the caller's columns",
           responses={404: {"description": "No such resident (a merged one names `merged_into`)"}})
    async def resident(resident_id: str, who: Who, request: Request) -> Response:
        _allowed(who, "resident")
        with _Held(request) as snap:
            row = snap.resident_row(resident_id) if len(resident_id) <= 64 else None
            if row is None:
                await _audit(request, who, snap, status=404, resident_ids=[], query={"resident_id": resident_id[:64]})
                if resident_id in snap.retired:
                    raise _not_found(snap, {"message": "resident retired", "merged_into": snap.retired[resident_id]})
                raise _not_found(snap, "no such resident")
            [found] = snap.rows([row], who.policy.columns)
            await _audit(request, who, snap, status=200, resident_ids=[resident_id], columns=who.policy.columns)
            keys = snap.keys_of(who.department, row) if who.policy.own_crosswalk else []
            return _answer({"run_id": snap.run_id, "resident_id": resident_id, "resident": found,
                            "source_record_ids": keys}, snap)

    @r.get("/residents", response_model=FoundAnswer,
           summary="Find residents by identity number, or by name and birth date, for a stated purpose")
    async def find(who: Who, request: Request,
                   purpose: Annotated[str, Query(min_length=2, max_length=200,
                                                 description="Why the caller looks the person up (audited)")],
                   id_number: Annotated[str | None, Query(max_length=40,
                                                          description="Any form the departments write")] = None,
                   name: Annotated[str | None, Query(max_length=64)] = None,
                   birth_date: Annotated[str | None, Query(
                       max_length=20, description="YYYY-MM-DD, YYYYMMDD, YYYY年M月D日, or YYYY-MM")] = None,
                   ) -> Response:
        if id_number is not None and (name is not None or birth_date is not None):
            raise HTTPException(422, "find by id_number, or by name and birth_date, not both")
        if id_number is not None:
            _allowed(who, "id_number")
            normalised, form = id_numbers.classify(id_number)
            if normalised is None:
                raise HTTPException(422, f"id_number is not an identity number ({form})")
            query = {"id_number": normalised}
        elif name is not None and birth_date is not None:
            _allowed(who, "name_birth_date")
            year, month, day, precision = dates.parse(birth_date)
            if precision not in ("day", "month"):
                raise HTTPException(422, f"birth_date {birth_date!r} is not a date ({precision})")
            query = {"name": name, "birth_date": f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")}
        else:
            raise HTTPException(422, "give id_number, or name and birth_date")
        with _Held(request) as snap:
            if id_number is not None:
                rows = snap.id_number_rows(query["id_number"])
            else:
                rows, query["name"] = await run_in_threadpool(_find_by_name, snap, name, year, month, day)
            rows = rows[:MAX_FOUND]
            found = snap.rows(rows, who.policy.columns)
            ids = [f["resident_id"] for f in found]
            await _audit(request, who, snap, status=200, resident_ids=ids, purpose=purpose, query=query,
                         columns=who.policy.columns if found else ())
            keys = {f["resident_id"]: snap.keys_of(who.department, row) for f, row in zip(found, rows)} \
                if who.policy.own_crosswalk else {}
            return _answer({"run_id": snap.run_id, "normalised": query, "residents": found,
                            "source_record_ids": keys}, snap)

    @r.get("/export.parquet", response_class=FileResponse,
           summary="The caller's whole view: every resident in its columns, with its own record keys, as Parquet",
           responses={200: {"content": {"application/vnd.apache.parquet": {}}}})
    async def export(who: Who, request: Request) -> FileResponse:
        _allowed(who, "export")
        with _Held(request) as snap:
            path = await run_in_threadpool(_extract, request.app.state, snap, who.policy)
            await _audit(request, who, snap, status=200, resident_ids=None, scope="export",
                         residents=snap.residents.num_rows, columns=who.policy.columns)
            name = f"{who.department}-{snap.extract_date or 'registry'}.parquet"
            return FileResponse(path, media_type="application/vnd.apache.parquet", filename=name,
                                headers={"X-Registry-Run-Id": snap.run_id or ""})

    @r.get("/changes", response_model=ChangesAnswer,
           summary="What changed for the caller since a cursor (from the first published night without one)")
    async def changes_since(who: Who, request: Request,
                            since: Annotated[str | None, Query(max_length=400)] = None,
                            limit: Annotated[int, Query(ge=1, le=changes.MAX_LIMIT)] = PAGE) -> Response:
        _allowed(who, "changes")
        try:
            cursor = changes.Cursor.decode(since) if since else None
        except changes.CursorError as exc:
            raise HTTPException(400, str(exc)) from None
        with _Held(request) as snap:
            found, nxt, more = await run_in_threadpool(
                lambda: changes.feed(snap.cursor(), "pub", who.policy, cursor, limit))
            ids = sorted({c["resident_id"] for c in found})
            await _audit(request, who, snap, status=200, resident_ids=ids, query={"since": since, "limit": limit},
                         columns=who.policy.columns if any(c["kind"] == "changed" for c in found) else ())
            return _answer({"run_id": snap.run_id, "cursor": nxt.encode(), "more": more, "changes": found}, snap)

    @r.get("/discrepancies", response_model=DiscrepanciesAnswer,
           summary="The caller's own records whose values differ from the golden record, and where that came from")
    async def discrepancies(who: Who, request: Request,
                            after: Annotated[str | None, Query(max_length=200,
                                                               description="`next` of the previous page")] = None,
                            attribute: Annotated[str | None, Query(max_length=64)] = None,
                            limit: Annotated[int, Query(ge=1, le=changes.MAX_LIMIT)] = PAGE) -> Response:
        _allowed(who, "discrepancies")
        with _Held(request) as snap:
            rows = await run_in_threadpool(_discrepancies, snap, who.policy, after, attribute, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            await _audit(request, who, snap, status=200, resident_ids=sorted({r["resident_id"] for r in rows}),
                         query={"after": after, "attribute": attribute, "limit": limit},
                         columns=tuple({r["attribute"] for r in rows}))
            nxt = f"{rows[-1]['source_record_id']}|{rows[-1]['attribute']}" if more else None
            return _answer({"run_id": snap.run_id, "discrepancies": rows, "next": nxt}, snap)

    return r


# Reads that go to DuckDB (run in the thread pool) --------------------------------------------------

def _find_by_name(snap: Snapshot, name: str, year: int, month: int, day: int | None) -> tuple[list[int], str]:
    """Rows of residents with this name (normalised as the registry normalises names) and birth date."""
    from registry.standardise.names import build_name_lookup

    cur = snap.cursor()
    cur.execute("CREATE OR REPLACE TEMP TABLE _asked AS SELECT ?::VARCHAR AS name_raw", [name])
    build_name_lookup(cur, "_asked", "_asked_name")
    normal = cur.execute("SELECT name, name_plain FROM _asked_name").fetchall()
    if not normal or normal[0][0] is None:
        return [], name
    full, plain = normal[0]
    birth = "p.birth_date = make_date(?, ?, ?)" if day else "p.birth_year = ? AND p.birth_month = ?"
    params = [full, plain, year, month] + ([day] if day else [])
    ids = [r for r, in cur.execute(f"""SELECT resident_id FROM pub.residents p
                                       WHERE (p.name = ? OR replace(p.name, '·', '') = ?) AND {birth}
                                       ORDER BY resident_id LIMIT {MAX_FOUND}""", params).fetchall()]
    return [snap.resident_row(i) for i in ids], full


_extract_lock = threading.Lock()


def _extract(state, snap: Snapshot, dept: DepartmentPolicy):
    """The department's extract of the snapshot's run (written at publish; made now if it is missing)."""
    path = extracts.extract_path(state.home, dept.department, snap.run_id)
    if not path.exists():
        with _extract_lock:
            if not path.exists():
                extracts.write_extract(snap.cursor(), "pub", state.home, dept, snap.run_id, snap.extract_date)
    return path


def _discrepancies(snap: Snapshot, dept: DepartmentPolicy, after: str | None, attribute: str | None,
                   limit: int) -> list[dict]:
    cur = snap.cursor()
    if not table_exists(cur, "discrepancies", database="pub"):
        raise HTTPException(503, "this published registry predates discrepancies: the next nightly run publishes them")
    key, _, attr = (after or "").partition("|")
    visible = [c for c in dept.columns if c != "resident_id"]
    sql = """SELECT source_record_id, resident_id, attribute, record_value, golden_value, golden_department, golden_rule
             FROM pub.discrepancies WHERE department = ? AND list_contains(?, attribute)
               AND (source_record_id, attribute) > (?, ?)"""
    params: list = [dept.department, visible, key, attr]
    if attribute:
        sql += " AND attribute = ?"
        params.append(attribute)
    cur2 = cur.execute(sql + f" ORDER BY source_record_id, attribute LIMIT {int(limit)}", params)
    names = [d[0] for d in cur2.description]
    return [dict(zip(names, r)) for r in cur2.fetchall()]
