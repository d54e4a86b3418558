"""New project."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.dashboard.auth import CurrentUser
from bantico.dashboard.forms import FormData, project_name
from bantico.dashboard.render import render
from bantico.deps import SessionDep
from bantico.projects.service import create_project

router = APIRouter(include_in_schema=False)


@router.get("/app/projects/new")
def new_project_page(request: Request, viewer: CurrentUser) -> Response:
    return render(request, "project_new.html", values={"name": ""}, errors={})


@router.post("/app/projects/new")
def new_project(
    request: Request, session: SessionDep, viewer: CurrentUser, form: FormData
) -> Response:
    name = form.get("name", "").strip()
    problem = project_name(name)
    if problem:
        return render(
            request,
            "project_new.html",
            status_code=422,
            values={"name": name},
            errors={"name": problem},
        )
    created = create_project(session, name)
    viewer.projects.append(created.project)
    request.state.project = created.project
    # Rendered, not redirected: the secret key is shown this once and never stored in clear.
    return render(
        request,
        "project_created.html",
        status_code=201,
        section="settings",
        secret_key=created.secret_key,
    )
