"""Rendering pages: `render(request, template, **context)` fills in what every page needs —
the signed-in user, the project list for the switcher, the current project, the CSRF token,
the navigation and the flash messages — and sets the cookies that go with them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy import inspect as sa_inspect

from bantico import __version__
from bantico.dashboard.security import (
    clear_cookie,
    csrf_token,
    issue_anon_cookie,
    set_cookie,
)
from bantico.kit.html import templates

FLASH_COOKIE = "bantico_flash"
PROJECT_COOKIE = "bantico_project"  # the last project opened, for /app
STATIC_PREFIX = "/app/static"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str


# The project navigation, in order. A page's `section` names its entry.
NAV = (
    NavItem("reports", "Reports"),
    NavItem("links", "Links"),
    NavItem("payments", "Payments"),
    NavItem("troubleshooting", "Troubleshooting"),
    NavItem("install", "Install"),
    NavItem("settings", "Settings"),
)


def static_url(path: str) -> str:
    """A static file's URL, versioned so that upgrades are not hidden by browser caches."""
    return f"{STATIC_PREFIX}/{path}?v={__version__}"


def project_url(project: Any, *parts: str) -> str:
    """`/app/p/{id}/…`: the address of a page of `project` (a Project or its id)."""
    project_id = project if isinstance(project, str) else project.id
    return "/".join(["/app/p", quote(project_id, safe=""), *parts])


def html_attrs(attrs: dict[str, Any]) -> Markup:
    """`{{ {"required": True, "min": 1, "autofocus": False}|attrs }}` → ` required min="1"`:
    True gives a bare attribute, False and None leave it out, values are escaped."""
    parts = [
        name if value is True else f'{name}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False and value is not None
    ]
    return Markup("".join(f" {part}" for part in parts))


env = templates("bantico.dashboard")
env.filters["attrs"] = html_attrs
env.globals.update(static=static_url, project_url=project_url, nav_items=NAV, version=__version__)


# Flash messages travel to the next page in a cookie, signed so nothing else can plant one.


FLASH_SECONDS = 300


def _flashes(request: Request) -> URLSafeTimedSerializer:
    secret: str | None = request.app.state.settings.secret_key
    if not secret:
        state = request.app.state
        secret = getattr(state, "dashboard_flash_key", None) or secrets.token_urlsafe(32)
        state.dashboard_flash_key = secret
    return URLSafeTimedSerializer(secret, salt="bantico.dashboard.flash")


def flash(request: Request, response: Response, message: str, level: str = "success") -> None:
    """Show `message` on the next page this browser renders (level: success, info, error)."""
    messages = [*_read_flashes(request), [level, message]][-5:]
    value = _flashes(request).dumps(messages)
    set_cookie(response, request, FLASH_COOKIE, value, max_age=FLASH_SECONDS)
    request.state.flash_pending = True


def _read_flashes(request: Request) -> list[list[str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        messages = _flashes(request).loads(raw, max_age=FLASH_SECONDS)
    except BadData:  # tampered, expired, or from another key
        return []
    if not isinstance(messages, list):
        return []
    return [
        m
        for m in messages
        if isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m)
    ]


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form, the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


def _loaded(row: Any) -> bool:
    """False for rows expired by a rollback (an error page after a failed request): their
    session is gone, so the page is drawn without them."""
    return row is not None and not sa_inspect(row).expired


def base_context(request: Request) -> dict[str, Any]:
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None and not _loaded(viewer.user):
        viewer = None
    project = getattr(request.state, "project", None)
    return {
        "request": request,
        "viewer": viewer,
        "user": viewer.user if viewer else None,
        "projects": viewer.projects if viewer else [],
        "project": project if viewer and _loaded(project) else None,
        "csrf_token": csrf_token(request),
        "section": None,
    }


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A full page: `template` extends base.html and gets `context` plus the base context."""
    flashes = _read_flashes(request)
    html = env.get_template(template).render(
        {**base_context(request), "flashes": flashes, **context}
    )
    response = HTMLResponse(html, status_code=status_code)
    issue_anon_cookie(request, response)
    project: Any = getattr(request.state, "project", None)
    if _loaded(project) and request.cookies.get(PROJECT_COOKIE) != project.id:
        set_cookie(response, request, PROJECT_COOKIE, project.id, max_age=365 * 86400)
    if request.cookies.get(FLASH_COOKIE) and not getattr(request.state, "flash_pending", False):
        clear_cookie(response, request, FLASH_COOKIE)
    return response


def render_fragment(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A partial for htmx (no layout, flash messages left for the next full page). Templates
    see `oob=True`, so they may add `hx-swap-oob` elements to refresh other parts."""
    html = env.get_template(template).render({**base_context(request), "oob": True, **context})
    response = HTMLResponse(html, status_code=status_code)
    issue_anon_cookie(request, response)
    return response
