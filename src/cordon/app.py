"""create_app(): builds the FastAPI application and mounts every slice's api and pages once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cordon import __version__, clock
from cordon.audit import api as audit_api
from cordon.audit import service as audit_service
from cordon.auth import api as auth_api
from cordon.cases import api as cases_api
from cordon.clock import api as clock_api
from cordon.codes import api as codes_api
from cordon.config import Settings, get_settings
from cordon.db import engine_for, make_session_factory, transaction
from cordon.errors import (
    CordonError,
    TooManyAttempts,
    ValidationFailed,
    pydantic_problem,
)
from cordon.geo import api as geo_api
from cordon.jobs import api as jobs_api
from cordon.people import api as people_api
from cordon.screening import api as screening_api
from cordon.security.crypto import FieldCipher
from cordon.trace import api as trace_api
from cordon.web import i18n
from cordon.web import pages as web_pages
from cordon.web.auditlog import AuditBatcher
from cordon.web.deps import LoginRequired, client_addr
from cordon.web.headers import SecurityHeadersMiddleware
from cordon.web.limits import BodyLimitMiddleware
from cordon.web.messages import error_text, field_problems, problem_text
from cordon.web.ratelimit import make_limiter
from cordon.worker import make_runner

log = logging.getLogger("cordon")

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
# Swagger UI served from our own static files (web/static/VENDOR.md), so /docs works offline.
SWAGGER_STATIC = "/static/vendor/swagger-ui"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def localised(exc: CordonError, request: Request) -> dict[str, Any]:
    """An error's answer with ``message`` and each problem's in the client's language
    (Accept-Language, ``?lang=``, the language cookie, else the default, Chinese); ``error``
    and the fields stay machine-readable."""
    _ = i18n.api_gettext(request)
    body = exc.as_dict()
    body["message"] = error_text(_, exc)
    for shown, problem in zip(body["problems"], exc.problems, strict=True):
        shown["message"] = problem_text(_, problem)
    return body


def _problem_response(request: Request, exc: CordonError) -> Response:
    if isinstance(exc, LoginRequired) and not _is_api(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    headers = {}
    if isinstance(exc, TooManyAttempts) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if _is_api(request):
        return JSONResponse(localised(exc, request), status_code=exc.status_code, headers=headers)
    response = web_pages.error_page(request, exc)
    response.headers.update(headers)
    return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CordonError)
    async def cordon_error(request: Request, exc: CordonError) -> Response:
        if exc.denied is not None:
            # The request's transaction was rolled back; the attempt is still recorded. A public
            # lookup's miss goes to the batched trail like its hits (no write on its path).
            if getattr(request.state, "audit_batched", False):
                request.app.state.audit.record_denied(
                    denied=exc.denied, client_addr=client_addr(request)
                )
                return _problem_response(request, exc)
            with transaction(request.app.state.session_factory) as session:
                audit_service.record_denied(
                    session=session, denied=exc.denied, client_addr=client_addr(request)
                )
        return _problem_response(request, exc)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # A safety net: values the schemas let through but the database refuses.
        log.warning("database refused a value: %s", exc.orig)
        body = {
            "error": "validation_failed",
            "message": "a value cannot be stored",
            "problems": [{"field": "body", "message": str(exc.orig).splitlines()[0]}],
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # Two requests raced to create the same thing; the loser is told, nothing is half-done.
        log.warning("integrity error: %s", exc.orig)
        body = {
            "error": "conflict",
            "message": "the record conflicts with an existing one",
            "problems": [],
        }
        return JSONResponse(body, status_code=409)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        # SQLite's busy timeout ran out behind another writer: a clear "try again", not a 500.
        if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
            raise exc
        log.warning("database busy: %s", exc.orig)
        body = {"error": "busy", "message": "the database is busy; try again", "problems": []}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        keyed = []
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
            keyed.append(pydantic_problem(".".join(loc) or "body", error))
        if not _is_api(request):
            failed = ValidationFailed("the request is not valid", problems=keyed)
            return web_pages.error_page(request, failed, status=422)
        body: dict[str, Any] = localised(ValidationFailed("", problems=keyed), request)
        body["message"] = field_problems(i18n.api_gettext(request), keyed)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or exc.status_code not in (403, 404):
            body = {"error": "http_error", "message": str(exc.detail), "problems": []}
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        return web_pages.error_page(request, CordonError(str(exc.detail)), status=exc.status_code)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The in-process job workers run while the app serves (none with jobs_workers=0).
        runner = app.state.jobs
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            app.state.audit.close()  # a worker's queued audit entries, written before it exits
            app.state.limiter.close()

    clock.bind(clock.path_in(settings.data_dir))  # shared with the other workers and the CLI
    app = FastAPI(
        title="Cordon",
        version=__version__,
        description="Outbreak command platform for border cities.",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=lifespan,
    )
    engine = engine_for(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.audit = AuditBatcher(app.state.session_factory, interval_ms=settings.audit_batch_ms)
    app.state.limiter = make_limiter(
        data_dir=settings.data_dir, redis_url=settings.redis_url, busy_ms=settings.sqlite_busy_ms
    )
    app.state.cipher = FieldCipher(
        field_key=settings.secret("field_key"), lookup_key=settings.secret("lookup_key")
    )
    app.state.jobs = make_runner(
        factory=app.state.session_factory,
        settings=settings,
        cipher=app.state.cipher,
        threads=settings.jobs_workers,
    )
    _install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)  # outermost

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="Cordon API",
            swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    for module in (
        auth_api,
        people_api,
        geo_api,
        audit_api,
        cases_api,
        trace_api,
        codes_api,
        screening_api,
        clock_api,
        jobs_api,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    web_pages.mount(app)
    app.mount("/static", StaticFiles(packages=[("cordon.web", "static")]), name="static")
    return app
