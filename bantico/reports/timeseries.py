"""Revenue and traffic per day, week (starting Monday) or month, in UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Integer, Text, func, literal
from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.payments.models import Payment
from bantico.reports.filters import COLUMNS, Filters
from bantico.reports.revenue import credited_revenue
from bantico.reports.traffic import traffic

Interval = Literal["day", "week", "month"]


def bucket_of(moment: datetime, interval: str) -> date:
    day = moment.astimezone(UTC).date()
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def buckets(filters: Filters, interval: str) -> list[date]:
    found, current = [], bucket_of(filters.since, interval)
    last = bucket_of(filters.until - timedelta(microseconds=1), interval)
    while current <= last:
        found.append(current)
        if interval == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7 if interval == "week" else 1)
    return found


def bucket_bounds(filters: Filters, interval: str) -> list[tuple[str, datetime, datetime]]:
    """Each bucket's first day with the part of the range it covers, as [since, until)."""
    starts = buckets(filters, interval)
    found = []
    for number, first in enumerate(starts):
        since = max(filters.since, datetime.combine(first, time.min, UTC))
        until = filters.until
        if number + 1 < len(starts):
            until = min(until, datetime.combine(starts[number + 1], time.min, UTC))
        found.append((first.isoformat(), since, until))
    return found


def bucket_sql(session: Session, column: Any, interval: str) -> Any:
    """The bucket's first day as text 'YYYY-MM-DD', computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.date_trunc(interval, func.timezone("UTC", column)), "YYYY-MM-DD")
    day = func.substr(column, 1, 10)
    if interval == "month":
        return func.substr(column, 1, 7).concat(literal("-01"))
    if interval == "week":
        weekday = (func.cast(func.strftime("%w", day), Integer()) + 6) % 7
        return func.date(day, literal("-").concat(func.cast(weekday, Text())).concat(" days"))
    return day


@dataclass
class Revenue:
    payments: float = 0.0
    gross: float = 0.0
    refunded: float = 0.0


@dataclass
class Point:
    bucket: date
    clicks: int = 0
    visitors: int = 0
    revenue: dict[str, Revenue] = field(default_factory=dict)


def timeseries(
    session: Session,
    filters: Filters,
    interval: str,
    dimension: str | None = None,
    value: str | None = None,
) -> list[Point]:
    points = {b.isoformat(): Point(b) for b in buckets(filters, interval)}
    where = (dimension, value) if dimension is not None else None
    for (key, _), counts in traffic(
        session, filters.project_id, bucket_bounds(filters, interval), where=where
    ).items():
        points[key].clicks, points[key].visitors = counts.clicks, counts.visitors

    pay_bucket = bucket_sql(session, Payment.created_at, interval)
    query = credited_revenue(filters, pay_bucket)
    if dimension is not None:
        query = query.where(getattr(Credit, COLUMNS[dimension]) == value)
    for key, cur, payments, gross, refunded in session.execute(query):
        if key in points:
            points[key].revenue[cur] = Revenue(
                float(payments or 0), float(gross or 0), float(refunded or 0)
            )
    return list(points.values())
