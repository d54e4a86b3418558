"""`/` and `/app`: send each visitor to the right first page, and the project switcher."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.accounts.service import has_users
from bantico.dashboard.auth import CurrentUser, OptionalLogin, ProjectContext
from bantico.dashboard.render import NAV, PROJECT_COOKIE, project_url, redirect, render
from bantico.deps import SessionDep

router = APIRouter(include_in_schema=False)
SECTIONS = {item.key for item in NAV}


@router.get("/")
def root(request: Request, session: SessionDep, login: OptionalLogin) -> Response:
    """Setup first, then the dashboard or the login page."""
    if not has_users(session):
        return render(request, "setup_needed.html")
    return redirect("/app" if login else "/login")


@router.get("/app")
def app_home(request: Request, viewer: CurrentUser) -> Response:
    if not viewer.projects:
        return redirect("/app/projects/new")
    last = request.cookies.get(PROJECT_COOKIE)
    project = next((p for p in viewer.projects if p.id == last), viewer.projects[0])
    return redirect(project_url(project, "reports"))


@router.get("/app/switch")
def switch_project(viewer: CurrentUser, project: str = "", section: str = "reports") -> Response:
    """The switcher's form: the same section of another project."""
    chosen = next((p for p in viewer.projects if p.id == project), None)
    if chosen is None:
        return redirect("/app")
    return redirect(project_url(chosen, section if section in SECTIONS else "reports"))


@router.get("/app/p/{project_id}")
def project_home(scope: ProjectContext) -> Response:
    return redirect(project_url(scope.project, "reports"))
