"""Log in, log out, and the account page (password, other sessions)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.accounts import sessions
from bantico.accounts.limits import AddressLimiter, TooManyAttempts
from bantico.accounts.service import WrongCredentials, authenticate, change_password, has_users
from bantico.dashboard.auth import CurrentUser, OptionalLogin, safe_next
from bantico.dashboard.forms import FormData
from bantico.dashboard.render import flash, redirect, render
from bantico.dashboard.security import ANON_COOKIE, SESSION_COOKIE, clear_cookie, set_cookie
from bantico.deps import SessionDep
from bantico.kit.errors import BanticoError

router = APIRouter(include_in_schema=False)


def _limiter(request: Request) -> AddressLimiter:
    limiter: AddressLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = AddressLimiter()
    return limiter


def _address(request: Request) -> str:
    # In memory only, never stored (docs/product.md §2, privacy).
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(
    request: Request, session: SessionDep, login: OptionalLogin, next: str = ""
) -> Response:
    if not has_users(session):
        return redirect("/")
    if login is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", values={"email": "", "next": safe_next(next)}, error=None)


@router.post("/login")
def login_submit(request: Request, session: SessionDep, form: FormData) -> Response:
    values = {"email": form.get("email", "").strip(), "next": safe_next(form.get("next"))}
    limiter = _limiter(request)
    try:
        attempt = limiter.attempt(_address(request))
        user = authenticate(session, values["email"], form.get("password", ""))
    except TooManyAttempts as error:
        refused = render(request, "login.html", status_code=429, values=values, error=error.message)
        refused.headers["retry-after"] = str(error.retry_after)
        return refused
    except WrongCredentials as error:
        return render(request, "login.html", status_code=401, values=values, error=error.message)
    limiter.forgive(_address(request), attempt)
    raw = sessions.start(session, user)
    response = redirect(values["next"])
    set_cookie(
        response, request, SESSION_COOKIE, raw, max_age=int(sessions.LIFETIME.total_seconds())
    )
    clear_cookie(response, request, ANON_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        sessions.revoke(session, raw)
    response = redirect("/login")
    clear_cookie(response, request, SESSION_COOKIE)
    flash(request, response, "You are logged out.", "info")
    return response


def _account(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    errors: dict[str, str] | None = None,
) -> Response:
    others = sessions.active_count(session, viewer.user.id) - 1
    return render(
        request,
        "account.html",
        status_code=422 if errors else 200,
        errors=errors or {},
        other_sessions=others,
    )


@router.get("/app/account")
def account_page(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    return _account(request, session, viewer)


@router.post("/app/account/password")
def account_password(
    request: Request, session: SessionDep, viewer: CurrentUser, form: FormData
) -> Response:
    new, confirm = form.get("new_password", ""), form.get("new_password_confirm", "")
    if new != confirm:
        errors = {"new_password_confirm": "The new passwords differ."}
        return _account(request, session, viewer, errors)
    try:
        change_password(session, viewer.user, form.get("current_password", ""), new)
    except WrongCredentials as error:
        return _account(request, session, viewer, errors={"current_password": error.message})
    except BanticoError as error:
        return _account(request, session, viewer, errors={"new_password": error.message})
    sessions.revoke_others(session, viewer.user.id, viewer.login.id)
    response = redirect("/app/account")
    flash(request, response, "Password changed. Your other sessions were logged out.")
    return response


@router.post("/app/account/sessions/revoke")
def revoke_other_sessions(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    count = sessions.revoke_others(session, viewer.user.id, viewer.login.id)
    response = redirect("/app/account")
    flash(request, response, f"Logged out {count} other session{'s' if count != 1 else ''}.")
    return response
