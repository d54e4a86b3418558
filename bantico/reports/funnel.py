"""The funnel link_clicked → page_view → pricing_view → signup_started → signup_completed →
payment_completed: how many visitors reached each step, in that order, inside the range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bantico.attribution.models import Attribution
from bantico.payments.models import Payment
from bantico.reports.filters import COLUMNS, Filters
from bantico.tracking.models import Event

STEPS = (
    "link_clicked",
    "page_view",
    "pricing_view",
    "signup_started",
    "signup_completed",
    "payment_completed",
)


@dataclass(frozen=True)
class Step:
    name: str
    visitors: int


def funnel(
    session: Session, filters: Filters, dimension: str | None = None, value: str | None = None
) -> list[Step]:
    """Each step keeps the visitors whose first such event comes at or after their previous
    step. A payment completes the funnel when it is attributed to the visitor (and, for one link
    or campaign, credited to it)."""

    def events(name: str) -> Select[str | None, datetime]:
        conditions = [
            Event.project_id == filters.project_id,
            Event.name == name,
            Event.is_bot.is_(False),
            Event.visitor_id.is_not(None),
            Event.occurred_at >= filters.since,
            Event.occurred_at < filters.until,
        ]
        if dimension is not None:
            conditions.append(getattr(Event, COLUMNS[dimension]) == value)
        return select(Event.visitor_id.label("visitor_id"), Event.occurred_at.label("at")).where(
            *conditions
        )

    payment_conditions = [
        Payment.project_id == filters.project_id,
        Payment.mode == filters.mode,
        Payment.counts_as_revenue.is_(True),
        Payment.created_at >= filters.since,
        Payment.created_at < filters.until,
        Attribution.visitor_id.is_not(None),
    ]
    if dimension is not None:
        payment_conditions.append(getattr(Attribution, COLUMNS[dimension]) == value)
    payments = (
        select(Attribution.visitor_id.label("visitor_id"), Payment.created_at.label("at"))
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(*payment_conditions)
    )
    sources = [events(name) for name in STEPS[:-1]] + [payments]

    first = sources[0].subquery()
    reached = (
        select(first.c.visitor_id, func.min(first.c.at).label("at"))
        .group_by(first.c.visitor_id)
        .cte("step_0")
    )
    counts = [reached]
    for number, source in enumerate(sources[1:], start=1):
        step = source.subquery()
        reached = (
            select(step.c.visitor_id, func.min(step.c.at).label("at"))
            .join(
                reached, and_(reached.c.visitor_id == step.c.visitor_id, step.c.at >= reached.c.at)
            )
            .group_by(step.c.visitor_id)
            .cte(f"step_{number}")
        )
        counts.append(reached)
    totals = select(*[select(func.count()).select_from(c).scalar_subquery() for c in counts])
    row = session.execute(totals).one()
    return [Step(name, int(count)) for name, count in zip(STEPS, row, strict=True)]
