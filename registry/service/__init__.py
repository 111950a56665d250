"""`registry serve`: the officers' pages and the department API, in one FastAPI application.

    /api/v1/...        the department API (registry.service.departments), credentials as Bearer tokens
    /login, /api/session   officers sign in and out (registry.service.officers)
    /, /api/items...   the review page (registry.review.web), for signed-in officers
    /docs, /openapi.json   the API's OpenAPI documentation (Swagger UI served locally)

Every request first passes the guard (registry.service.guard: Host, Origin and content type of
changes, body size, security headers). The published registry is read through one snapshot at a time
(registry.service.snapshot), switched when a nightly run publishes. Another page for officers joins
with `OFFICER_ROUTERS`: a module path whose `router(home)` returns an APIRouter; it is mounted with the
officers' sign-in required on every route (a signed-out officer opening a page is sent to /login;
state-changing routes add `Depends(officer_change)` for the CSRF token).
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.access.audit import AuditLog
from registry.access.credentials import Authenticator
from registry.access.policy import load_policy
from registry.access.users import Directory
from registry.home import Home
from registry.service import departments, officers
from registry.service.guard import MAX_BODY, Guard, service_names
from registry.service.snapshot import PublishedRegistry

# Officers' pages mounted behind the sign-in, in this order: module -> its router(home).
OFFICER_ROUTERS: list[str] = ["registry.review.web", "registry.service.admin", "registry.charts.web"]


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    allowed_hosts: list[str] = field(default_factory=list)     # extra Host names (e.g. behind a proxy)
    public_origins: list[str] = field(default_factory=list)    # e.g. https://registry.district.gov.cn
    max_body: int = MAX_BODY
    policy_path: str | None = None


def create_app(home: Home, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    home = home.ensure()
    policy = load_policy(settings.policy_path)
    hosts, origins = service_names(settings.host, settings.port, settings.allowed_hosts, settings.public_origins)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.audit = AuditLog(home)
        app.state.published = PublishedRegistry(home, policy).start()
        try:
            yield
        finally:
            app.state.published.stop()
            app.state.audit.close()

    app = FastAPI(title="Resident Registry", version="1",
                  description="The golden registry of residents, for the district's departments (/api/v1) "
                              "and its quality officers. A department authenticates with `Authorization: "
                              "Bearer <credential>` (`registry access grant DEPARTMENT`).",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.home = home
    app.state.policy = policy
    app.state.authenticate = Authenticator(home)
    app.state.sessions = officers.Sessions(Directory(home))
    app.state.secure_cookies = any(o.startswith("https://") for o in settings.public_origins)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"detail": exc.errors(), "error": f"invalid request: {problems}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # A signed-out officer opening a page is sent to the sign-in page; an API call gets the 401.
        if (exc.status_code == 401 and request.method == "GET" and not request.url.path.startswith("/api/")
                and "text/html" in request.headers.get("accept", "")):
            return RedirectResponse("/login", status_code=303)
        return await http_exception_handler(request, exc)

    app.include_router(departments.router())
    app.include_router(officers.router())
    for module in OFFICER_ROUTERS:
        app.include_router(importlib.import_module(module).router(home), dependencies=[Depends(officers.officer)])

    from registry.review.web import static_files
    app.mount("/static", static_files(), name="static")
    app.mount("/service-static", _static(officers.STATIC), name="service-static")
    _docs(app)
    app.add_middleware(Guard, allowed_hosts=hosts, allowed_origins=origins, max_body=settings.max_body)
    return app


def _static(folder):
    from starlette.staticfiles import StaticFiles

    return StaticFiles(directory=folder)


def _docs(app: FastAPI) -> None:
    """Swagger UI from the swagger-ui-bundle package: the district's network reaches no CDN."""
    import swagger_ui_bundle

    app.mount("/docs/assets", _static(swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="Resident Registry API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon-32x32.png")
