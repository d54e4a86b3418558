"""First run: the one-time setup link creates the admin account and names the first project."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.accounts import sessions
from bantico.accounts import setup as first_run
from bantico.accounts.service import email_problem, password_problem
from bantico.dashboard.forms import FormData, project_name
from bantico.dashboard.render import flash, project_url, redirect, render
from bantico.dashboard.security import ANON_COOKIE, SESSION_COOKIE, clear_cookie, set_cookie
from bantico.deps import SessionDep
from bantico.kit.errors import BanticoError
from bantico.projects.service import first_project

router = APIRouter(include_in_schema=False)


def _refused(request: Request, error: BanticoError) -> Response:
    done = isinstance(error, first_run.SetupDone)
    return render(
        request,
        "message.html",
        status_code=error.status_code,
        title="Setup is done" if done else "This setup link does not work",
        message=error.message,
        action=("/login", "Log in") if done else None,
    )


@router.get("/setup")
def setup_page(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        first_run.check_token(session, token)
    except BanticoError as error:
        return _refused(request, error)
    existing = first_project(session)
    values = {"token": token, "email": "", "project_name": existing.name if existing else ""}
    return render(request, "setup.html", values=values, errors={}, existing=existing)


@router.post("/setup")
def setup_submit(request: Request, session: SessionDep, form: FormData) -> Response:
    token = form.get("token", "")
    values = {
        "token": token,
        "email": form.get("email", "").strip(),
        "project_name": form.get("project_name", "").strip(),
    }
    password, confirm = form.get("password", ""), form.get("password_confirm", "")
    errors = {
        name: problem
        for name, problem in (
            ("email", email_problem(values["email"])),
            ("password", password_problem(password)),
            ("password_confirm", None if confirm == password else "The passwords differ."),
            ("project_name", project_name(values["project_name"])),
        )
        if problem
    }
    try:
        if errors:
            first_run.check_token(session, token)
            existing = first_project(session)
            return render(
                request,
                "setup.html",
                status_code=422,
                values=values,
                errors=errors,
                existing=existing,
            )
        result = first_run.complete(
            session,
            token,
            email=values["email"],
            password=password,
            project_name=values["project_name"],
        )
    except BanticoError as error:
        return _refused(request, error)
    raw = sessions.start(session, result.user)
    response = redirect(project_url(result.project, "install"))
    set_cookie(
        response, request, SESSION_COOKIE, raw, max_age=int(sessions.LIFETIME.total_seconds())
    )
    clear_cookie(response, request, ANON_COOKIE)
    flash(
        request,
        response,
        "Your admin account is ready. Add the loader below to your site to start tracking.",
    )
    return response
