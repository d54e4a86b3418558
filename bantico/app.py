"""The ASGI application: `create_app()` wires settings, the database and every domain's routes."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bantico import __version__
from bantico.config import Settings, get_settings
from bantico.dashboard.mount import add_dashboard
from bantico.db import make_engine, make_sessionmaker
from bantico.diagnostics import routes as diagnostics_routes
from bantico.ingest.fastpath import FastPath, FastRoutes
from bantico.integrations.dodo import routes as dodo_routes
from bantico.integrations.dodo.scheduler import Reconciler
from bantico.kit.body_size import BodySizeLimit
from bantico.kit.errors import BanticoError
from bantico.kit.request_log import RequestIds, request_id, route_of
from bantico.kit.strict_input import NoNulInUrls, StrictJsonBodies
from bantico.links import redirect as link_redirect
from bantico.links import routes as link_routes
from bantico.payments import routes as payment_routes
from bantico.reports import routes as report_routes
from bantico.reports.rollup import RollupWorker
from bantico.tracking import loader as tracking_loader
from bantico.tracking import routes as tracking_routes
from bantico.wiring import connect_hooks

log = logging.getLogger("bantico")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _describe(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = [str(p) for p in item.get("loc", ()) if p != "body"]
        if item.get("type") == "json_invalid":
            return "body is not valid JSON"
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc) or 'body'}: {message}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    connect_hooks()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        reconciler = None
        if settings.dodo_sync_interval_seconds > 0:
            reconciler = Reconciler(app.state.sessionmaker, settings)
            reconciler.start()
        app.state.reconciler = reconciler
        rollups = None
        if settings.report_rollup_interval_seconds > 0:
            rollups = RollupWorker(app.state.sessionmaker, settings.report_rollup_interval_seconds)
            rollups.start()
        app.state.rollups = rollups
        yield
        if rollups is not None:
            rollups.stop()
        if reconciler is not None:
            reconciler.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Bantico",
        version=__version__,
        description="Self-hostable attribution: tracked links, the bantico.js loader and "
        "Dodo Payments revenue. Authenticate `/api/v1` calls with a project secret key.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.exception_handler(BanticoError)
    async def _bantico_error(_: Request, error: BanticoError) -> JSONResponse:
        return _error(error.status_code, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        message = _describe(error)
        status = 400 if message == "body is not valid JSON" else 422
        return _error(status, "malformed" if status == 400 else "invalid", message)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, error: OperationalError) -> JSONResponse:
        # One line: the statement and its parameters stay out of the log.
        log.error(
            "db.unavailable id=%s route=%s error=%s",
            request_id.get(),
            route_of(request.scope),
            type(error.orig).__name__,
        )
        return _error(503, "database_unavailable", "the database is unavailable; try again")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    # The two busiest routes come first: routes are matched in order.
    app.include_router(link_redirect.router)
    app.include_router(tracking_routes.router)
    app.include_router(tracking_loader.router)
    app.include_router(link_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(report_routes.router)
    app.include_router(diagnostics_routes.router)
    app.include_router(dodo_routes.router)
    add_dashboard(app)  # pages, static files, CSP headers, HTML error pages: bantico/dashboard/
    app.add_middleware(StrictJsonBodies)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIds)
    # The two busiest endpoints are answered in front of the routing
    # (bantico/ingest/fastpath.py); the routes above stay for the OpenAPI document and as the
    # fallback. Added last: outermost.
    if settings.trusted_proxy_list:
        # The client's address and scheme from the named proxies' headers, and only theirs.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.state.fast_routes = fast_routes = FastRoutes()
    fast_routes.add_prefix(("GET", "HEAD"), "/l/", link_redirect.follow_link_asgi)
    fast_routes.add(("POST",), "/api/collect", tracking_routes.collect_asgi)
    app.add_middleware(FastPath, routes=fast_routes)
    app.add_middleware(NoNulInUrls)
    return app


def serving_app() -> FastAPI:
    """The app as `bantico serve` runs it, in each of its worker processes."""
    application = create_app()
    # Everything loaded so far lives as long as the process: keep the collector off it, which
    # takes about a fifth of the CPU time of a redirect (docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    return application
