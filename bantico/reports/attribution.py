"""The attribution report: traffic and revenue grouped by link, campaign, source, medium,
content or lead, under one attribution model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.reports.filters import COLUMNS, Filters
from bantico.reports.revenue import credited_revenue
from bantico.reports.traffic import Counts, traffic


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


def _traffic(session: Session, filters: Filters, dimension: str) -> dict[str | None, Counts]:
    found = traffic(
        session, filters.project_id, [("all", filters.since, filters.until)], group_by=dimension
    )
    return {key: counts for (_, key), counts in found.items()}


def _revenue(session: Session, filters: Filters, dimension: str) -> list[tuple[Any, ...]]:
    column = getattr(Credit, COLUMNS[dimension])
    return [tuple(row) for row in session.execute(credited_revenue(filters, column))]


def attribution_report(session: Session, filters: Filters, dimension: str) -> Report:
    counted = _traffic(session, filters, dimension)
    rows: dict[tuple[str | None, str | None], Row] = {}
    for key, currency, payments, gross, refunded in _revenue(session, filters, dimension):
        rows[(key, currency)] = Row(
            key,
            currency,
            payments=float(payments or 0),
            gross=float(gross or 0),
            refunded=float(refunded or 0),
        )
    for key, counts in counted.items():
        matching = [row for (k, _), row in rows.items() if k == key]
        if not matching:
            matching = [rows.setdefault((key, None), Row(key))]
        # Traffic has no currency: it is shown on the key's first row only.
        first = matching[0]
        first.clicks, first.visitors, first.signups = counts.clicks, counts.visitors, counts.signups
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, -r.net, -r.clicks, r.key or ""))
    return Report(filters, dimension, ordered)
