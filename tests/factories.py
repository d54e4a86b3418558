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


def make_shop_links(session: Session, *, project_id: str) -> tuple[Link, Link]:
    """The two links of the report tests' shops, committed: `dm` (spring26, linkedin, dm,
    hero, lead_42) and `nl` (newsletter-11, newsletter, email)."""
    dm = make_link(session, project_id=project_id, key="dm")
    nl = make_link(
        session,
        project_id=project_id,
        key="nl",
        campaign_id="newsletter-11",
        source="newsletter",
        medium="email",
        content=None,
        lead_id=None,
    )
    session.commit()
    return dm, nl


def customer(name: str) -> dict[str, str]:
    """A Dodo customer named `name`, with a matching id and email."""
    return {"customer_id": f"cus_{name}", "email": f"{name}@example.com", "name": name.title()}
