"""Who is asking: typed dependencies for dashboard routes.

- `CurrentUser`: the signed-in admin (a `Viewer`: user, login session, all projects), or a
  redirect to /login.
- `ProjectContext`: `CurrentUser` plus the project named by the `{project_id}` path parameter
  (every admin sees every project), or a 404 page.

Both leave what they found on `request.state`, where `render()` picks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from bantico.accounts import sessions
from bantico.accounts.models import LoginSession, User
from bantico.dashboard.security import SESSION_COOKIE
from bantico.deps import SessionDep
from bantico.projects.models import Project


class LoginRequired(Exception):
    """Answered with a redirect to /login?next=… (or HX-Redirect for htmx requests)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """An expected problem shown as a page in plain words (404 unknown project, …)."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message


@dataclass(frozen=True)
class Viewer:
    user: User
    login: LoginSession
    projects: list[Project]


@dataclass(frozen=True)
class ProjectScope:
    viewer: Viewer
    project: Project

    @property
    def user(self) -> User:
        return self.viewer.user


def optional_login(request: Request, session: SessionDep) -> sessions.Login | None:
    raw = request.cookies.get(SESSION_COOKIE)
    return sessions.resolve(session, raw) if raw else None


OptionalLogin = Annotated[sessions.Login | None, Depends(optional_login)]


def all_projects(session: SessionDep) -> list[Project]:
    return list(session.execute(select(Project).order_by(Project.created_at, Project.id)).scalars())


def current_user(request: Request, login: OptionalLogin, session: SessionDep) -> Viewer:
    if login is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/app")
    viewer = Viewer(login.user, login.session, all_projects(session))
    request.state.viewer = viewer
    return viewer


CurrentUser = Annotated[Viewer, Depends(current_user)]


def project_context(request: Request, project_id: str, viewer: CurrentUser) -> ProjectScope:
    project = next((p for p in viewer.projects if p.id == project_id), None)
    if project is None:
        raise PageError(
            404, "Project not found", "There is no project at this address. Pick one above."
        )
    request.state.project = project
    return ProjectScope(viewer, project)


ProjectContext = Annotated[ProjectScope, Depends(project_context)]


def safe_next(value: str | None, default: str = "/app") -> str:
    """Only same-site paths, so `?next=` cannot send anyone to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
