"""The funnel link_clicked → page_view → pricing_view → signup_started → signup_completed →
payment_completed: how many visitors reached each step, in that order, inside the range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import CTE, Subquery

from bantico.attribution.models import Attribution
from bantico.payments.models import Payment
from bantico.reports.filters import COLUMNS, Filters
from bantico.reports.models import FUNNEL_EVENTS, FunnelClick, RollupVisitor
from bantico.reports.rollup import watermark
from bantico.tracking.models import Event

STEPS = (*FUNNEL_EVENTS, "payment_completed")
# Each step in words, for people.
STEP_LABELS = {
    "link_clicked": "Clicked a link",
    "page_view": "Viewed a page",
    "pricing_view": "Viewed pricing",
    "signup_started": "Started signing up",
    "signup_completed": "Signed up",
    "payment_completed": "Paid",
}


@dataclass(frozen=True)
class Step:
    name: str
    visitors: int


FRESH_LIMIT = 5_000  # visitors with events not rolled up yet, beyond which all is read raw


def funnel(
    session: Session, filters: Filters, dimension: str | None = None, value: str | None = None
) -> list[Step]:
    """Each step keeps the visitors whose first such event comes at or after their previous
    step. A payment completes the funnel when it is attributed to the visitor (and, for one link
    or campaign, credited to it).

    Visitors whose events are all rolled up are counted from `funnel_clicks` (their first
    click in the range and how far it went); the others, whose newest events the rollup has not
    reached, from the events, as if there were no rollup."""
    for _ in range(5):
        last_rolled = watermark(session)
        fresh = _fresh_visitors(session, filters.project_id, last_rolled)
        if len(fresh) > FRESH_LIMIT:
            return from_events(session, filters, dimension, value)
        rolled = _from_rollup(session, filters, dimension, value, fresh)
        counted = from_events(session, filters, dimension, value, fresh) if fresh else None
        if watermark(session) == last_rolled:
            break
    if counted is None:
        return rolled
    return [Step(a.name, a.visitors + b.visitors) for a, b in zip(rolled, counted, strict=True)]


def _fresh_visitors(session: Session, project_id: str, last_rolled: int) -> list[str]:
    """Visitors with events after the rollup's progress, or marked for a recount."""
    found = {
        visitor
        for visitor, project in session.execute(
            select(Event.visitor_id, Event.project_id).where(Event.id > last_rolled)
        )
        if visitor and project == project_id
    }
    found.update(
        session.execute(
            select(RollupVisitor.visitor_id).where(RollupVisitor.project_id == project_id)
        ).scalars()
    )
    return sorted(found)


def _from_rollup(
    session: Session,
    filters: Filters,
    dimension: str | None,
    value: str | None,
    fresh: list[str],
) -> list[Step]:
    chain = {None: "", "link": "link_", "campaign": "campaign_"}[dimension]
    table: Any = FunnelClick.__table__
    steps = [table.c[f"{chain}{name}_at"] for name in STEPS[1:-1]]
    previous = table.c[f"{chain}prev_clicked_at"]
    conditions = [
        table.c.project_id == filters.project_id,
        table.c.clicked_at >= filters.since,
        table.c.clicked_at < filters.until,
        # The visitor's first click in the range (of the link or campaign, if one is asked for).
        or_(previous.is_(None), previous < filters.since),
    ]
    if dimension is not None:
        conditions.append(table.c[COLUMNS[dimension]] == value)
    if fresh:
        conditions.append(table.c.visitor_id.not_in(fresh))
    counts = session.execute(
        select(func.count(), *[func.count().filter(at < filters.until) for at in steps]).where(
            *conditions
        )
    ).one()
    # The last step: those of them with a payment at or after their signup. From each one's
    # attributions (by visitor) to their payments by id: SQLite, without statistics, would
    # otherwise scan the range's payments for each visitor.
    signed_up = (
        select(table.c.visitor_id, steps[-1].label("at"))
        .where(*conditions, steps[-1] < filters.until)
        .subquery()
    )
    payment = (
        select(Payment.id)
        .where(
            Payment.id == Attribution.payment_id,
            *_counted(filters),
            Payment.created_at >= signed_up.c.at,
        )
        .correlate(Attribution, signed_up)  # two levels up: not found on its own
    )
    paid = select(Attribution.payment_id).where(
        Attribution.project_id == filters.project_id,
        Attribution.visitor_id == signed_up.c.visitor_id,
        payment.exists(),
    )
    if dimension is not None:
        paid = paid.where(getattr(Attribution, COLUMNS[dimension]) == value)
    payments = session.execute(
        select(func.count()).select_from(signed_up).where(paid.exists())
    ).scalar_one()
    return [Step(name, int(count)) for name, count in zip(STEPS, [*counts, payments], strict=True)]


def _counted(filters: Filters) -> list[ColumnElement[bool]]:
    """The payments a funnel counts: revenue of the mode, made inside the range."""
    return [
        Payment.mode == filters.mode,
        Payment.counts_as_revenue.is_(True),
        Payment.created_at >= filters.since,
        Payment.created_at < filters.until,
    ]


def _paid(
    filters: Filters, dimension: str | None, value: str | None
) -> Select[str | None, datetime]:
    conditions = [
        Payment.project_id == filters.project_id,
        *_counted(filters),
        Attribution.visitor_id.is_not(None),
    ]
    if dimension is not None:
        conditions.append(getattr(Attribution, COLUMNS[dimension]) == value)
    return (
        select(Attribution.visitor_id.label("visitor_id"), Payment.created_at.label("at"))
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(*conditions)
    )


def from_events(
    session: Session,
    filters: Filters,
    dimension: str | None = None,
    value: str | None = None,
    visitors: list[str] | None = None,
) -> list[Step]:
    """The funnel counted from the events alone (for `visitors` only, if given)."""

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
        if visitors is not None:
            found.append(Event.visitor_id.in_(visitors))
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

    paid = _paid(filters, dimension, value)
    if visitors is not None:
        paid = paid.where(Attribution.visitor_id.in_(visitors))
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
