"""Project settings: name, pricing path, attribution window, Global Privacy Control, and the
project's secret API keys (created — shown once —, listed by hint, revoked)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.dashboard.auth import PageError, ProjectContext
from bantico.dashboard.forms import FormData, check_project_settings
from bantico.dashboard.render import flash, project_url, redirect, render
from bantico.db import utcnow
from bantico.deps import SessionDep
from bantico.integrations.dodo import connect as dodo
from bantico.projects.models import Project, SecretKey
from bantico.projects.service import SECRET_KEY_PREFIX, create_secret_key

router = APIRouter(include_in_schema=False)


def current_values(project: Project) -> dict[str, str]:
    return {
        "name": project.name,
        "pricing_path": project.pricing_path,
        "attribution_window_days": str(project.attribution_window_days),
        "gpc": "honour" if project.honour_gpc else "ignore",
    }


def _page(
    request: Request,
    session: Session,
    project: Project,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    keys = session.execute(
        select(SecretKey)
        .where(SecretKey.project_id == project.id)
        .order_by(SecretKey.revoked_at.is_not(None), SecretKey.created_at.desc())
    ).scalars()
    page: dict[str, Any] = {
        "values": current_values(project),
        "errors": {},
        "new_key": None,
        **context,
    }
    return render(
        request,
        "settings.html",
        status_code=status_code,
        section="settings",
        keys=list(keys),
        key_prefix=SECRET_KEY_PREFIX,
        dodo=dodo.status(session, request.app.state.settings, project.id),
        **page,
    )


@router.get("/app/p/{project_id}/settings")
def settings_page(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    return _page(request, session, scope.project)


@router.post("/app/p/{project_id}/settings")
def save_settings(
    request: Request, scope: ProjectContext, session: SessionDep, form: FormData
) -> Response:
    checked = check_project_settings(form)
    if not checked.ok:
        return _page(
            request,
            session,
            scope.project,
            status_code=422,
            values=checked.values,
            errors=checked.errors,
        )
    for name, value in checked.clean.items():
        setattr(scope.project, name, value)
    response = redirect(project_url(scope.project, "settings"))
    flash(request, response, "Settings saved.")
    return response


@router.post("/app/p/{project_id}/settings/keys")
def create_key(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    raw = create_secret_key(session, scope.project)
    # Rendered, not redirected: the key is shown this once and only its hash is kept.
    return _page(request, session, scope.project, status_code=201, new_key=raw)


@router.post("/app/p/{project_id}/settings/keys/{key_id}/revoke")
def revoke_key(
    request: Request, scope: ProjectContext, session: SessionDep, key_id: str
) -> Response:
    key = session.get(SecretKey, key_id)
    if key is None or key.project_id != scope.project.id:
        raise PageError(404, "Key not found", "This project has no such secret key.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    response = redirect(project_url(scope.project, "settings") + "#keys")
    flash(request, response, f"Revoked the key ending in {key.hint}. It stops working at once.")
    return response
