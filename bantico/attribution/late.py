"""Late context: identity, links or leads that arrive after a payment re-resolve the payments
they can improve. Each re-run is kept in the payment's trace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution
from bantico.attribution.service import attribute
from bantico.payments.models import Payment


def _rerun(session: Session, reason: str, *conditions: Any) -> int:
    payments = (
        session.execute(
            select(Payment)
            .join(Attribution, Attribution.payment_id == Payment.id)
            .where(*conditions)
        )
        .scalars()
        .all()
    )
    for payment in payments:
        attribute(session, payment, reason)
    return len(payments)


def after_identify(session: Session, project_id: str, email: str | None) -> int:
    if not email:
        return 0
    return _rerun(
        session,
        f"late identify() of {email}",
        Attribution.project_id == project_id,
        Attribution.customer_email_key == email,
        Attribution.method.in_(("none", "identify")),
    )


def after_link(session: Session, project_id: str, link_id: str) -> int:
    return _rerun(
        session,
        f"link {link_id} created or changed",
        Attribution.project_id == project_id,
        Attribution.metadata_link_id == link_id,
    )


def after_labels(
    session: Session, project_id: str, campaign_id: str | None, lead_id: str | None
) -> int:
    count = 0
    if lead_id:
        count += _rerun(
            session,
            f"lead {lead_id} created",
            Attribution.project_id == project_id,
            Attribution.metadata_lead_id == lead_id,
        )
    if campaign_id:
        count += _rerun(
            session,
            f"campaign {campaign_id} created",
            Attribution.project_id == project_id,
            Attribution.metadata_campaign_id == campaign_id,
        )
    return count
