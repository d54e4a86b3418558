"""Small keyword-only factories that build committed-ready rows through the real services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.links import schemas as link_schemas
from bantico.links import service as link_service
from bantico.links.models import Link
from bantico.projects import service as project_service


def make_project(session: Session, *, name: str = "Acme") -> project_service.NewProject:
    return project_service.create_project(session, name)


def make_link(
    session: Session,
    *,
    project_id: str,
    destination_url: str = "https://shop.example/pricing",
    campaign_id: str | None = "spring26",
    source: str | None = "linkedin",
    medium: str | None = "dm",
    content: str | None = "hero",
    lead_id: str | None = "lead_42",
    key: str | None = None,
) -> Link:
    data = link_schemas.LinkCreate(
        destination_url=destination_url,
        campaign_id=campaign_id,
        source=source,
        medium=medium,
        content=content,
        lead_id=lead_id,
        key=key,
    )
    return link_service.create_link(session, project_id, data)
