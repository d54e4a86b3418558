"""Cookies, CSRF and response headers for the dashboard.

CSRF: every state-changing request (POST, PUT, PATCH, DELETE) to a dashboard route must carry
a token, in the form field `csrf_token` or the `X-CSRF-Token` header. The token is an HMAC of
the browser's own HttpOnly cookie (the login session token, or before login an anonymous
random cookie), so it is per session, needs no storage, and another site can neither read nor
forge it. `csrf_protect` is attached to every dashboard router when the app includes it.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import parse_qsl

from fastapi import Request, Response
from itsdangerous import Signer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bantico.kit import strict_input

SESSION_COOKIE = "bantico_session"
ANON_COOKIE = "bantico_anon"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
DASHBOARD_PREFIXES = ("/app", "/login", "/logout", "/setup")


class CsrfRejected(Exception):
    """A state-changing request without the right token: answered with a 403 page."""


def is_https(request: Request) -> bool:
    """HTTPS directly, or at a proxy that says so. The scheme is rewritten only for
    BANTICO_TRUSTED_PROXIES; believing the header from anyone here can only add `Secure`."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


def _signer(key: str) -> Signer:
    """Signs with the browser's secret: a token is good for that browser only."""
    return Signer(key, salt="bantico.dashboard.csrf.v1", digest_method=hashlib.sha256)


_FORMS = b"forms"


def browser_key(request: Request) -> str | None:
    """The secret this browser holds in an HttpOnly cookie (or was just given)."""
    issued: str | None = getattr(request.state, "browser_key", None)
    return issued or request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; mints the anonymous cookie when there is none."""
    key = browser_key(request)
    if key is None:
        key = request.state.browser_key = request.state.new_anon_cookie = secrets.token_urlsafe(32)
    return _signer(key).get_signature(_FORMS).decode()


def issue_anon_cookie(request: Request, response: Response) -> None:
    """Send the anonymous cookie minted by `csrf_token` during this request, if any."""
    value: str | None = getattr(request.state, "new_anon_cookie", None)
    if value:
        set_cookie(response, request, ANON_COOKIE, value)


MAX_FORM_FIELDS = 200


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form body (read once per request); the last value wins for a repeated
    field. Dashboard forms are never multipart, so python-multipart is not needed."""
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    form: dict[str, str] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            form = dict(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
        except ValueError:
            raise strict_input.MalformedInput(
                f"the form has more than {MAX_FORM_FIELDS} fields"
            ) from None
        strict_input.check_form(form)
    request.state.form = form
    return form


async def csrf_protect(request: Request) -> None:
    """Router dependency: reject state-changing requests without this browser's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or (await read_form(request)).get(CSRF_FIELD)
    key = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if not key or not sent or not _signer(key).verify_signature(_FORMS, sent.encode()):
        raise CsrfRejected


def is_dashboard_path(path: str) -> bool:
    return path == "/" or any(
        path == prefix or path.startswith(prefix + "/") for prefix in DASHBOARD_PREFIXES
    )


class DashboardHeaders:
    """Adds the strict CSP and friends to every dashboard response (pages, partials, errors,
    static files); pages also get `Cache-Control: no-store` (they may show a new secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_dashboard_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/app/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = CONTENT_SECURITY_POLICY
                headers["x-content-type-options"] = "nosniff"
                headers["x-frame-options"] = "DENY"
                headers["referrer-policy"] = "same-origin"
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
