"""Attributing payments: run the cascade, keep the result and every run's trace, share credit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bantico.attribution.credit import store_credits
from bantico.attribution.models import Attribution
from bantico.attribution.resolve import CAMEL, resolve
from bantico.db import utcnow
from bantico.payments.models import Payment
from bantico.projects.models import Project
from bantico.tracking.foreign_ids import count_foreign
from bantico.tracking.schemas import normalise_email

MAX_RUNS = 20
# What the cascade reads of a payment: a change to one of them re-runs it.
ATTRIBUTION_INPUTS = frozenset(
    {
        "payment_metadata",
        "customer_email",
        "customer_id",
        "subscription_id",
        "subscription_ids",
        "created_at",
    }
)


def on_payment_stored(
    session: Session, payment: Payment, via: str, changed: frozenset[str]
) -> None:
    """Attribute a payment when it first arrives, and again when what the cascade reads of it
    changed (the `payments.hooks.payment_stored` handler)."""
    if session.get(Attribution, payment.id) is None:
        attribute(session, payment, f"payment received by {via}")
    elif inputs := changed & ATTRIBUTION_INPUTS:
        attribute(session, payment, f"payment details changed ({', '.join(sorted(inputs))})")


def attribute(session: Session, payment: Payment, reason: str) -> Attribution:
    """(Re-)attribute one payment. Each run is appended to the trace; the newest decides."""
    project = session.get(Project, payment.project_id)
    assert project is not None
    out = resolve(session, project, payment)
    now = utcnow()
    run: dict[str, Any] = {
        "at": now.isoformat(),
        "reason": reason,
        "method": out.method,
        "confidence": out.confidence,
        "context": {CAMEL[k]: v for k, v in out.context.items()},
        "visitorId": out.visitor_id,
        "steps": out.steps,
        "warnings": out.warnings,
    }
    attribution = session.get(Attribution, payment.id)
    first_run = attribution is None
    if attribution is None:
        attribution = Attribution(payment_id=payment.id, project_id=payment.project_id, trace=[])
        session.add(attribution)
    attribution.method, attribution.confidence = out.method, out.confidence
    for name, value in out.context.items():
        setattr(attribution, name, value)
    attribution.visitor_id = out.visitor_id
    attribution.customer_email_key = normalise_email(payment.customer_email)
    attribution.metadata_link_id = out.read.link_id
    attribution.metadata_lead_id = out.read.lead_id
    attribution.metadata_campaign_id = out.read.campaign_id
    attribution.warnings = out.warnings
    attribution.trace = [*(attribution.trace or []), run][-MAX_RUNS:]
    attribution.resolved_at = now
    session.flush()
    if first_run and out.foreign_link_id:  # once per payment, not once per re-attribution
        count_foreign(session, payment.project_id, "metadata linkId", out.foreign_link_id)
    store_credits(session, payment.project_id, payment.id, out)
    session.flush()
    return attribution
