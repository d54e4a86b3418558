"""The funnel link_clicked → page_view → pricing_view → signup_started → signup_completed →
payment_completed: how many visitors reached each step, in that order, inside the range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import CTE, Subquery

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

    def conditions(name: str) -> list[ColumnElement[bool]]:
        found = [
            Event.project_id == filters.project_id,
            Event.name == name,
            Event.is_bot.is_(False),
            Event.visitor_id.is_not(None),
            Event.occurred_at >= filters.since,
            Event.occurred_at < filters.until,
        ]
        if dimension is not None:
            found.append(getattr(Event, COLUMNS[dimension]) == value)
        return found

    probe = session.get_bind().dialect.name == "sqlite"
    counts = [
        select(Event.visitor_id.label("visitor_id"), func.min(Event.occurred_at).label("at"))
        .where(*conditions(STEPS[0]))
        .group_by(Event.visitor_id)
        .cte("step_0")
    ]
    for number, name in enumerate(STEPS[1:-1], start=1):
        if probe:
            step = _probed(counts[-1], conditions(name))
        else:
            events = select(Event.visitor_id, Event.occurred_at.label("at")).where(
                *conditions(name)
            )
            step = _joined(counts[-1], events.subquery())
        counts.append(step.cte(f"step_{number}"))

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
    paid = (
        select(Attribution.visitor_id.label("visitor_id"), Payment.created_at.label("at"))
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(*payment_conditions)
    )
    counts.append(_joined(counts[-1], paid.subquery()).cte(f"step_{len(STEPS) - 1}"))
    totals = select(*[select(func.count(c.c.at)).scalar_subquery() for c in counts])
    row = session.execute(totals).one()
    return [Step(name, int(count)) for name, count in zip(STEPS, row, strict=True)]


# Two shapes of one step, with the same result: the visitors of the previous step (`prior`),
# each with the time of their first event of the step at or after their previous step's time,
# or, for the probe, with a null time (never counted, never probed again) when there is none.
# PostgreSQL is given the join, which its planner runs as a hash join over the step's events or
# as index probes, whichever its statistics say is cheaper. SQLite has no hash join and no
# statistics: given the join it walks every event of the step, most of them from visitors who
# never reached the previous step, so it is given one index probe per visitor instead
# (ix_events_report_name_visitor: project, name, visitor, time).


def _joined(prior: CTE, events: Subquery) -> Select[str | None, datetime | None]:
    return (
        select(events.c.visitor_id, func.min(events.c.at).label("at"))
        .join(prior, and_(prior.c.visitor_id == events.c.visitor_id, events.c.at >= prior.c.at))
        .group_by(events.c.visitor_id)
    )


def _probed(
    prior: CTE, conditions: list[ColumnElement[bool]]
) -> Select[str | None, datetime | None]:
    first = (
        select(Event.occurred_at)
        .where(*conditions, Event.visitor_id == prior.c.visitor_id, Event.occurred_at >= prior.c.at)
        .order_by(Event.occurred_at)
        .limit(1)
        .scalar_subquery()
    )
    # Filtering out the visitors without such an event here would run the probe twice.
    return select(prior.c.visitor_id, first.label("at")).where(prior.c.at.is_not(None))
