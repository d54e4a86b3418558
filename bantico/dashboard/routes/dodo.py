"""Project settings → Integrations → Dodo Payments: connect with an API key, see the
connection's health, sync now (in the background, with progress), disconnect."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.dashboard import jobs
from bantico.dashboard.auth import ProjectContext
from bantico.dashboard.forms import FormData
from bantico.dashboard.render import flash, project_url, redirect, render, render_fragment
from bantico.deps import SessionDep, SettingsDep
from bantico.integrations.dodo import connect as service
from bantico.integrations.dodo import webhooks
from bantico.integrations.dodo.endpoint import webhook_url
from bantico.kit.errors import BanticoError
from bantico.projects.models import Project

router = APIRouter(include_in_schema=False)
PAGE = "settings/integrations/dodo"


def sync_context(session: Session, settings: Settings, project: Project) -> dict[str, Any]:
    job = jobs.latest_job(session, project.id, jobs.DODO_SYNC)
    return {
        "job": job,
        "job_active": jobs.is_active(job),
        "job_abandoned": jobs.is_abandoned(job),
        "dodo": service.status(session, settings, project.id),
        "inbox": webhooks.inbox(session, project.id, limit=20),
    }


def _page(
    request: Request,
    session: Session,
    project: Project,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "dodo.html",
        status_code=status_code,
        section="settings",
        error=error,
        webhook_url=webhook_url(request.app.state.settings, project.id),
        **sync_context(session, request.app.state.settings, project),
    )


@router.get(f"/app/p/{{project_id}}/{PAGE}")
def dodo_page(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    return _page(request, session, scope.project)


@router.post(f"/app/p/{{project_id}}/{PAGE}")
def dodo_connect(
    request: Request,
    scope: ProjectContext,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
) -> Response:
    try:
        integration = service.connect(session, settings, scope.project, form.get("api_key", ""))
    except BanticoError as error:  # raised before connect() changes anything
        return _page(
            request, session, scope.project, status_code=error.status_code, error=error.message
        )
    session.commit()
    reconciler = getattr(request.app.state, "reconciler", None)
    if reconciler is not None:
        reconciler.wake()  # starts the backfill
    webhook = (
        "Dodo will send payments to this server by webhook."
        if integration.webhook_state == "registered"
        else "Payments will arrive by polling (see below why)."
    )
    response = redirect(project_url(scope.project, PAGE))
    flash(request, response, f"Connected to Dodo Payments in {integration.mode} mode. {webhook}")
    return response


@router.post(f"/app/p/{{project_id}}/{PAGE}/disconnect")
def dodo_disconnect(
    request: Request, scope: ProjectContext, session: SessionDep, settings: SettingsDep
) -> Response:
    response = redirect(project_url(scope.project, PAGE))
    try:
        result = service.disconnect(session, settings, scope.project.id)
    except BanticoError as error:
        flash(request, response, error.message, "error")
        return response
    note = result["note"] or "Payments already stored are kept."
    flash(request, response, f"Disconnected Dodo Payments. {note}")
    return response


@router.post(f"/app/p/{{project_id}}/{PAGE}/replay")
def dodo_replay(request: Request, scope: ProjectContext, session: SessionDep) -> Response:
    """Run the deliveries that were not handled through the handlers again."""
    results = webhooks.replay(session, scope.project.id)
    handled = sum(1 for r in results if r.get("status") == "handled")
    response = redirect(project_url(scope.project, PAGE))
    flash(
        request,
        response,
        f"Replayed {len(results)} deliveries: {handled} handled now, "
        f"{len(results) - handled} still not.",
    )
    return response


@router.post(f"/app/p/{{project_id}}/{PAGE}/sync")
def dodo_sync(
    request: Request, scope: ProjectContext, session: SessionDep, settings: SettingsDep
) -> Response:
    """Start a sync in the background (or join the running one) and show its status."""
    if not service.status(session, settings, scope.project.id)["connected"]:
        response = redirect(project_url(scope.project, PAGE))
        flash(request, response, "Connect Dodo Payments before syncing.", "error")
        return response
    job, created = jobs.create_job(session, scope.project.id, jobs.DODO_SYNC)
    session.commit()  # the background thread reads the job from its own session
    if created:
        jobs.launch_dodo_sync(request.app.state.sessionmaker, settings, job)
    if request.headers.get("hx-request"):
        return render_fragment(
            request, "_dodo_sync.html", **sync_context(session, settings, scope.project)
        )
    return redirect(project_url(scope.project, PAGE))


@router.get(f"/app/p/{{project_id}}/{PAGE}/sync")
def dodo_sync_status(
    request: Request, scope: ProjectContext, session: SessionDep, settings: SettingsDep
) -> Response:
    """The status partial that the page polls while a sync runs."""
    return render_fragment(
        request, "_dodo_sync.html", **sync_context(session, settings, scope.project)
    )
