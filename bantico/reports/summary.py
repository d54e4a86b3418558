"""The headline figures of a range, against the previous range of the same length: how the
month went at a glance (visitors, clicks, signups, paying customers, net revenue, conversion
and revenue per visitor)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import distinct, func, literal, select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution
from bantico.payments.models import Payment
from bantico.reports.filters import Filters
from bantico.reports.revenue import credited_revenue
from bantico.reports.traffic import traffic

FIGURES = (
    "visitors",
    "clicks",
    "signups",
    "payingCustomers",
    "netRevenue",
    "conversionRate",
    "revenuePerVisitor",
)


@dataclass
class Figures:
    visitors: int = 0
    clicks: int = 0
    signups: int = 0
    paying_customers: int = 0
    paying_visitors: int = 0
    net: dict[str, float] = field(default_factory=dict)  # by settlement currency, minor units

    def main_currency(self, fallback: str) -> str:
        return max(self.net, key=lambda c: self.net[c]) if self.net else fallback

    def values(self, currency: str, live: bool) -> dict[str, float | None]:
        """Each headline figure (net revenue and revenue per visitor in `currency`). Visits
        have no mode, so in test mode the two figures that divide by them are not given."""
        net = self.net.get(currency, 0.0)
        per_visitor = live and self.visitors > 0
        return {
            "visitors": self.visitors,
            "clicks": self.clicks,
            "signups": self.signups,
            "payingCustomers": self.paying_customers,
            "netRevenue": net,
            "conversionRate": self.paying_visitors / self.visitors if per_visitor else None,
            "revenuePerVisitor": net / self.visitors if per_visitor else None,
        }


def figures(session: Session, filters: Filters) -> Figures:
    counts = traffic(session, filters.project_id, [("range", filters.since, filters.until)])
    seen = counts.get(("range", None))
    found = Figures()
    if seen is not None:
        found.visitors, found.clicks, found.signups = seen.visitors, seen.clicks, seen.signups
    net: dict[str, float] = defaultdict(float)
    for _, currency, _, gross, refunded in session.execute(
        credited_revenue(filters, literal("all"))
    ):
        net[currency] += float(gross or 0) - float(refunded or 0)
    found.net = dict(net)
    counted = (
        Payment.project_id == filters.project_id,
        Payment.mode == filters.mode,
        Payment.counts_as_revenue.is_(True),
        Payment.created_at >= filters.since,
        Payment.created_at < filters.until,
    )
    customer = func.coalesce(
        Payment.customer_id, Payment.customer_email, Payment.provider_payment_id
    )
    found.paying_customers = session.execute(
        select(func.count(distinct(customer))).where(*counted)
    ).scalar_one()
    found.paying_visitors = session.execute(
        select(func.count(distinct(Attribution.visitor_id)))
        .join(Payment, Payment.id == Attribution.payment_id)
        .where(*counted, Attribution.visitor_id.is_not(None))
    ).scalar_one()
    return found


def previous(filters: Filters) -> Filters:
    """The range of the same length just before."""
    length = filters.until - filters.since
    return replace(filters, since=filters.since - length, until=filters.since)


def change(now: float | None, before: float | None) -> float | None:
    """The relative change, or None when there is nothing to compare with."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def summary(session: Session, filters: Filters) -> dict[str, Any]:
    now, before = figures(session, filters), figures(session, previous(filters))
    currency = now.main_currency(before.main_currency("USD"))
    live = filters.mode == "live"
    current, earlier = now.values(currency, live), before.values(currency, live)
    return {
        "currency": currency,
        "previousFrom": previous(filters).since,
        "previousTo": previous(filters).until,
        "figures": {
            name: {
                "value": current[name],
                "previous": earlier[name],
                "change": change(current[name], earlier[name]),
            }
            for name in FIGURES
        },
        "otherCurrencies": {c: v for c, v in now.net.items() if c != currency},
    }
