"""Campaigns and leads exist as soon as something names them; names are optional."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.db import insert_ignoring_conflicts
from bantico.links.models import Campaign, Lead


def ensure_labels(
    session: Session, project_id: str, *, campaign_id: str | None, lead_id: str | None
) -> None:
    if campaign_id:
        session.execute(
            insert_ignoring_conflicts(session, Campaign).values(
                project_id=project_id, key=campaign_id
            )
        )
    if lead_id:
        session.execute(
            insert_ignoring_conflicts(session, Lead).values(project_id=project_id, key=lead_id)
        )
