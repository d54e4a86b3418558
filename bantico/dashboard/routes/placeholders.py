"""Pages still to come. Replace an entry with its own module when you build the page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bantico.dashboard.auth import ProjectContext
from bantico.dashboard.render import render

router = APIRouter(include_in_schema=False)

COMING = {
    "reports": "Revenue by link, campaign, source, medium, content and lead, over time.",
    "links": "Create, copy and archive tracked links.",
    "payments": "Every payment with its attribution and a step-by-step explanation.",
    "troubleshooting": "Automatic checks of your install, metadata and Dodo connection.",
}


def _placeholder(section: str) -> None:
    label = section.capitalize()

    def page(request: Request, scope: ProjectContext) -> Response:
        return render(
            request, "coming_soon.html", section=section, title=label, about=COMING[section]
        )

    page.__name__ = f"{section}_page"
    router.add_api_route(f"/app/p/{{project_id}}/{section}", page, methods=["GET"])


for _section in COMING:
    _placeholder(_section)
