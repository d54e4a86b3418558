"""The attribution report: traffic and revenue grouped by link, campaign, source, medium,
content or lead, under one attribution model."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.payments.models import Payment
from bantico.reports.filters import COLUMNS, Filters
from bantico.tracking.models import Event


@dataclass
class Row:
    key: str | None
    currency: str | None = None
    clicks: int = 0
    visitors: int = 0
    signups: int = 0
    payments: float = 0.0
    gross: float = 0.0
    refunded: float = 0.0

    @property
    def net(self) -> float:
        return self.gross - self.refunded


@dataclass
class Report:
    filters: Filters
    dimension: str
    rows: list[Row] = field(default_factory=list)


def _traffic(session: Session, filters: Filters, column: Any) -> dict[str | None, dict[str, int]]:
    in_range = (
        Event.project_id == filters.project_id,
        Event.occurred_at >= filters.since,
        Event.occurred_at < filters.until,
        Event.is_bot.is_(False),
    )
    found: dict[str | None, dict[str, int]] = defaultdict(dict)
    for key, clicks, signups in session.execute(
        select(
            column,
            func.count().filter(Event.name == "link_clicked"),
            func.count().filter(Event.name == "signup_completed"),
        )
        .where(*in_range, Event.name.in_(("link_clicked", "signup_completed")))
        .group_by(column)
    ):
        found[key].update(clicks=clicks, signups=signups)
    # Unique visitors: the distinct (key, visitor) pairs first, then counted per key. Over
    # hundreds of thousands of events this is one pass that PostgreSQL can hash, where
    # COUNT(DISTINCT) per group makes it sort every event of the range.
    pairs = (
        select(column.label("key"), Event.visitor_id)
        .where(*in_range, Event.visitor_id.is_not(None))
        .distinct()
        .subquery()
    )
    for key, visitors in session.execute(select(pairs.c.key, func.count()).group_by(pairs.c.key)):
        found[key]["visitors"] = visitors
    return found


def _revenue(session: Session, filters: Filters, dimension: str) -> list[tuple[Any, ...]]:
    column = getattr(Credit, COLUMNS[dimension])
    currency = func.coalesce(Payment.settlement_currency, Payment.currency)
    settled = func.coalesce(Payment.settlement_amount, Payment.total_amount)
    return list(
        session.execute(
            select(
                column,
                currency,
                func.sum(Credit.weight),
                func.sum(Credit.weight * settled),
                func.sum(Credit.weight * Payment.refunded_settlement),
            )
            .join(Payment, Payment.id == Credit.payment_id)
            .where(
                Credit.project_id == filters.project_id,
                Credit.model == filters.model,
                Payment.mode == filters.mode,
                Payment.counts_as_revenue.is_(True),
                Payment.created_at >= filters.since,
                Payment.created_at < filters.until,
            )
            .group_by(column, currency)
        ).all()
    )


def attribution_report(session: Session, filters: Filters, dimension: str) -> Report:
    traffic = _traffic(session, filters, getattr(Event, COLUMNS[dimension]))
    rows: dict[tuple[str | None, str | None], Row] = {}
    for key, currency, payments, gross, refunded in _revenue(session, filters, dimension):
        rows[(key, currency)] = Row(
            key,
            currency,
            payments=float(payments or 0),
            gross=float(gross or 0),
            refunded=float(refunded or 0),
        )
    for key, counts in traffic.items():
        matching = [row for (k, _), row in rows.items() if k == key]
        if not matching:
            matching = [rows.setdefault((key, None), Row(key))]
        # Traffic has no currency: it is shown on the key's first row only.
        first = matching[0]
        first.clicks, first.visitors = counts.get("clicks", 0), counts.get("visitors", 0)
        first.signups = counts.get("signups", 0)
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, -r.net, -r.clicks, r.key or ""))
    return Report(filters, dimension, ordered)
