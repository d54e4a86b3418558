"""Campaigns and leads exist as soon as something names them; names are optional."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.db import insert_ignoring_conflicts
from bantico.links import hooks
from bantico.links.models import Campaign, Lead


def _ensure(
    session: Session, model: type[Campaign] | type[Lead], project_id: str, key: str | None
) -> bool:
    if not key:
        return False
    result = session.execute(
        insert_ignoring_conflicts(session, model).values(project_id=project_id, key=key)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def ensure_labels(
    session: Session, project_id: str, *, campaign_id: str | None, lead_id: str | None
) -> None:
    new_campaign = _ensure(session, Campaign, project_id, campaign_id)
    new_lead = _ensure(session, Lead, project_id, lead_id)
    if new_campaign or new_lead:
        # Payments that named them before they existed may now resolve without a warning.
        hooks.labels_created(
            session,
            project_id,
            campaign_id if new_campaign else None,
            lead_id if new_lead else None,
        )
