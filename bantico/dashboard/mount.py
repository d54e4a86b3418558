"""Wiring the dashboard into the app: every router (each with the CSRF check), the static
files, the security headers and the HTML error pages."""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bantico.accounts.limits import AddressLimiter
from bantico.dashboard.auth import LoginRequired, PageError
from bantico.dashboard.render import STATIC_PREFIX, render
from bantico.dashboard.routes import ROUTERS
from bantico.dashboard.security import (
    CsrfRejected,
    DashboardHeaders,
    csrf_protect,
    is_dashboard_path,
)
from bantico.kit.errors import BanticoError


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    target = "/login?next=" + quote(error.next_url, safe="/")
    if request.headers.get("hx-request"):  # htmx follows HX-Redirect with a full page load
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _csrf_rejected(request: Request, _: Exception) -> HTMLResponse:
    return render(
        request,
        "message.html",
        status_code=403,
        title="This form has expired",
        message="The form was sent without this browser's security token: it is old, or it "
        "came from another site. Go back, reload the page and try again. (Cookies must be "
        "allowed for this site.)",
        action=None,
    )


async def _page_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, PageError)
    return render(
        request,
        "message.html",
        status_code=error.status_code,
        title=error.title,
        message=error.message,
        action=("/app", "Back to the dashboard"),
    )


def _html_errors_on_pages(app: FastAPI) -> None:
    """A BanticoError that escapes a dashboard route becomes a page, not the API's JSON.
    Call after the app registered its own handler (create_app does)."""
    api_handler = app.exception_handlers.get(BanticoError)

    async def handler(request: Request, error: Exception) -> Response:
        assert isinstance(error, BanticoError)
        if api_handler is None or is_dashboard_path(request.url.path):
            return render(
                request,
                "message.html",
                status_code=error.status_code,
                title="Something needs attention",
                message=error.message,
                action=("/app", "Back to the dashboard"),
            )
        response = api_handler(request, error)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(BanticoError, handler)


def add_dashboard(app: FastAPI) -> None:
    """Include every dashboard router (each with the CSRF check), the static files, the
    security headers and the error pages."""
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(csrf_protect)])
    app.mount(
        STATIC_PREFIX,
        StaticFiles(packages=[("bantico.dashboard", "static")]),
        name="dashboard-static",
    )
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(PageError, _page_error)
    _html_errors_on_pages(app)
    app.add_middleware(DashboardHeaders)
    app.state.login_limiter = AddressLimiter()
