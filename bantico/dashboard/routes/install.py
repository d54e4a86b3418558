"""Install: the loader snippet with the project's token and checkout examples."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.dashboard import snippets
from bantico.dashboard.auth import ProjectContext
from bantico.dashboard.render import render
from bantico.deps import SettingsDep, public_base_url

router = APIRouter(include_in_schema=False)


@router.get("/app/p/{project_id}/install")
def install_page(request: Request, scope: ProjectContext, settings: SettingsDep) -> Response:
    base = public_base_url(request, settings)
    return render(
        request,
        "install.html",
        section="install",
        base_url=base,
        snippets=snippets.for_project(scope.project.token, base),
        fields=snippets.CONTEXT_FIELDS,
    )
