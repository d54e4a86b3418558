"""Now: who is on the site in the last five minutes, and a feed of the latest clicks, signups and
payments, newest first.

Time is each event's `occurred_at`. The loader's events and the redirect's clicks are stamped by
the server when they arrive, so for them it is the moment they were received; only the
founder's server may send its own `occurredAt` (at most five minutes ahead, see
`bantico/tracking/service.py`), and a signup it backfills from last week is not happening now.
It is also what the events are indexed by: the counts read `(project_id, occurred_at)` and the
clicks and signups `ix_events_report_name_time` (project, name, time, bot flag), backwards from
now, `limit` rows at most; payments read `(project_id, mode, created_at)` the same way. Bots
(crawlers, link unfurlers, `HEAD` requests: bantico/links/bots.py) never count and never show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution
from bantico.links.models import Campaign, Link
from bantico.payments.models import Payment
from bantico.reports.present import money
from bantico.tracking.models import Event

WINDOW = timedelta(minutes=5)
# Server-side events may be stamped a little ahead (a clock a few minutes fast), and Dodo's
# clock is not ours: such rows are "now", not left out until their moment comes.
AHEAD = timedelta(minutes=5)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CLICK = "link_clicked"
SIGNUP = "signup_completed"


@dataclass(frozen=True)
class Item:
    kind: str  # click, signup, payment
    at: datetime
    order: int  # the row id: the later of two rows stamped alike comes first
    fields: dict[str, Any]


def _context(link_id: str | None, key: str | None, destination: str | None) -> dict[str, Any]:
    return {"linkId": link_id, "linkKey": key, "destination": destination}


def _own_link(column: Any, project_id: str) -> Any:
    # The link of this project only: a context may name another project's link id.
    return and_(Link.id == column, Link.project_id == project_id)


def _events(session: Session, project_id: str, name: str, upto: datetime, limit: int) -> list[Item]:
    """The latest human events of `name`, newest first, with their link's key."""
    query = (
        select(
            Event.id,
            Event.occurred_at,
            Event.visitor_id,
            Event.link_id,
            Event.campaign_id,
            Event.source,
            Event.medium,
            Event.content,
            Event.lead_id,
            Link.key,
            Link.destination_url,
        )
        .outerjoin(Link, _own_link(Event.link_id, project_id))
        .where(
            Event.project_id == project_id,
            Event.name == name,
            Event.occurred_at <= upto,
            Event.is_bot.is_(False),
        )
        # By time alone: the order of the index, read backwards, `limit` rows and no sort.
        .order_by(Event.occurred_at.desc())
        .limit(limit)
    )
    kind = "click" if name == CLICK else "signup"
    return [
        Item(
            kind,
            row.occurred_at,
            row.id,
            {
                "visitorId": row.visitor_id,
                **_context(row.link_id, row.key, row.destination_url),
                "campaignId": row.campaign_id,
                "source": row.source,
                "medium": row.medium,
                "content": row.content,
                "leadId": row.lead_id,
            },
        )
        for row in session.execute(query)
    ]


def _payments(
    session: Session, project_id: str, mode: str, upto: datetime, limit: int
) -> list[Item]:
    """The latest payments of `mode` (every status: a failed one is news too), newest first,
    with how each was attributed."""
    query = (
        select(
            Payment.id,
            Payment.provider_payment_id,
            Payment.created_at,
            Payment.status,
            Payment.total_amount,
            Payment.currency,
            Payment.counts_as_revenue,
            Payment.excluded_reason,
            Attribution.method,
            Attribution.visitor_id,
            Attribution.link_id,
            Attribution.campaign_id,
            Attribution.source,
            Attribution.medium,
            Link.key,
            Link.destination_url,
        )
        .outerjoin(Attribution, Attribution.payment_id == Payment.id)  # the payment's own
        .outerjoin(Link, _own_link(Attribution.link_id, project_id))
        .where(
            Payment.project_id == project_id,
            Payment.mode == mode,
            Payment.created_at <= upto,
        )
        .order_by(Payment.created_at.desc())
        .limit(limit)
    )
    return [
        Item(
            "payment",
            row.created_at,
            row.id,
            {
                "paymentId": row.provider_payment_id,
                "status": row.status,
                "countsAsRevenue": row.counts_as_revenue,
                "excludedReason": row.excluded_reason,
                "amount": money(row.total_amount, row.currency),
                "method": row.method or "none",
                "visitorId": row.visitor_id,
                **_context(row.link_id, row.key, row.destination_url),
                "campaignId": row.campaign_id,
                "source": row.source,
                "medium": row.medium,
            },
        )
        for row in session.execute(query)
    ]


def _campaign_names(session: Session, project_id: str, keys: set[str]) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.execute(
        select(Campaign.key, Campaign.name).where(
            Campaign.project_id == project_id, Campaign.key.in_(sorted(keys))
        )
    )
    return {row.key: row.name or row.key for row in rows}


def counts(session: Session, project_id: str, now: datetime) -> tuple[int, int]:
    """Distinct visitors with a human event, and human clicks, in the five minutes to `now`."""
    window = (
        Event.project_id == project_id,
        Event.occurred_at > now - WINDOW,
        Event.occurred_at <= now + AHEAD,
        Event.is_bot.is_(False),
    )
    visitors = session.execute(
        select(func.count(distinct(Event.visitor_id))).where(*window, Event.visitor_id.is_not(None))
    ).scalar_one()
    clicks = session.execute(
        select(func.count()).select_from(Event).where(*window, Event.name == CLICK)
    ).scalar_one()
    return int(visitors), int(clicks)


def live(
    session: Session,
    project_id: str,
    *,
    mode: str = "live",
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The visitors and clicks of the last five minutes, and the latest `limit` clicks, signups
    and payments of `mode` (test and live payments never mix; clicks and signups have no mode),
    newest first. Each item has its `kind`, its time `at` and its context: the link (id, key,
    destination: a link of this project only), campaign (id and name), source and medium."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_LIMIT}")
    now = now or datetime.now(UTC)
    upto = now + AHEAD
    visitors, clicks = counts(session, project_id, now)
    items = [
        *_events(session, project_id, CLICK, upto, limit),
        *_events(session, project_id, SIGNUP, upto, limit),
        *_payments(session, project_id, mode, upto, limit),
    ]
    order = {"payment": 2, "signup": 1, "click": 0}  # at the same moment: the outcome first
    items.sort(key=lambda i: (i.at, order[i.kind], i.order), reverse=True)
    latest = items[:limit]
    names = _campaign_names(
        session, project_id, {c for i in latest if (c := i.fields.get("campaignId"))}
    )
    return {
        "mode": mode,
        "now": now,
        "since": now - WINDOW,
        "windowMinutes": int(WINDOW.total_seconds() // 60),
        "visitors": visitors,
        "clicks": clicks,
        "limit": limit,
        "feed": [
            {
                "kind": item.kind,
                "at": item.at,
                **item.fields,
                "campaign": names.get(item.fields["campaignId"], item.fields["campaignId"])
                if item.fields.get("campaignId")
                else None,
            }
            for item in latest
        ],
    }
