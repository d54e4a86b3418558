"""Clicks, signups and unique visitors over a range, per key or per time bucket, read from the
daily rollup (bantico/reports/models.py) for whole days and from `events` for the rest.

A range [since, until) splits into its whole UTC days, which the rollup answers, and what it
does not: the partial days at either end and every event the rollup has not reached yet
(after its `last_event_id`). Those few events are read and counted here; each of their
visitors counts for a key and bucket unless the rollup already has that visitor with that key
on one of the bucket's whole days. The result is exact, whatever the rollup's progress.

Unique visitors are the visitors of the site's own events (page views, signups, custom events)
carrying the key; a tracked-link click counts as a click, and its visitor through the landing
the loader records with it. Bot traffic counts nowhere.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, String, column, func, select, values
from sqlalchemy.orm import Session

from bantico.reports.filters import COLUMNS
from bantico.reports.models import ANY, NONE, TrafficDay, VisitorDay
from bantico.reports.rollup import chunks, watermark
from bantico.tracking.models import Event

Bucket = tuple[str, datetime, datetime]  # label, since, until (exclusive)


@dataclass
class Counts:
    clicks: int = 0
    signups: int = 0
    visitors: int = 0


def whole_days(since: datetime, until: datetime) -> tuple[date, date] | None:
    """The first and last UTC day lying entirely inside [since, until), if any."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    first = since.date() if since.timetz() == time(0, tzinfo=UTC) else since.date() + timedelta(1)
    last = until.date() - timedelta(days=1)
    return (first, last) if first <= last else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def traffic(
    session: Session,
    project_id: str,
    buckets: list[Bucket],
    *,
    group_by: str | None = None,
    where: tuple[str, str | None] | None = None,
) -> dict[tuple[str, str | None], Counts]:
    """Counts per (bucket label, key) for contiguous `buckets` whose inner bounds are UTC
    midnights. `group_by` names a dimension (link, campaign, …) whose value is the key (None
    for events without one); without it the key is None. `where` keeps one value of a
    dimension. One of the two at most."""
    assert group_by is None or where is None
    found: dict[tuple[str, str | None], Counts] = defaultdict(Counts)
    if not buckets:
        return found
    dimension = group_by or (where[0] if where else None)
    name = COLUMNS[dimension] if dimension else None
    spans = {label: whole_days(since, until) for label, since, until in buckets}
    for _ in range(5):
        last_rolled = watermark(session)
        found = defaultdict(Counts)
        _from_rollup(session, project_id, buckets, spans, name, group_by is not None, where, found)
        _from_events(session, project_id, buckets, spans, name, group_by, where, last_rolled, found)
        # A catch-up that committed meanwhile may have rolled up events also read above as
        # not rolled up (each statement may see newer commits): count again.
        if watermark(session) == last_rolled:
            break
    return found


def _from_rollup(
    session: Session,
    project_id: str,
    buckets: list[Bucket],
    spans: dict[str, tuple[date, date] | None],
    name: str | None,
    grouped: bool,
    where: tuple[str, str | None] | None,
    found: dict[tuple[str, str | None], Counts],
) -> None:
    rows = [(label, span[0], span[1]) for label, span in spans.items() if span is not None]
    if not rows:
        return
    bounds = (
        values(
            column("bucket", String()), column("first", Date()), column("last", Date()), name="b"
        )
        .data(rows)
        .cte("bounds")
    )
    table: Any = TrafficDay.__table__
    key = table.c.value if grouped else None
    query = (
        select(
            bounds.c.bucket,
            *([key] if key is not None else []),
            func.sum(table.c.clicks),
            func.sum(table.c.signups),
            # A visitor row counts when the visitor had no row with that value earlier in the
            # bucket: its previous day is before the bucket's first (see TrafficDay).
            func.sum(table.c.visitors).filter(table.c.prev < bounds.c.first),
        )
        .select_from(bounds)
        .join(
            table,
            (table.c.project_id == project_id)
            & (table.c.dimension == (name or ANY))
            & (table.c.day >= bounds.c.first)
            & (table.c.day <= bounds.c.last),
        )
        .group_by(bounds.c.bucket, *([key] if key is not None else []))
    )
    if where is not None:
        query = query.where(table.c.value == (where[1] or NONE))
    for row in session.execute(query):
        value = (row[1] or None) if key is not None else None
        counts = found[(row[0], value)]
        clicks, signups, visitors = row[-3:]
        counts.clicks += int(clicks or 0)
        counts.signups += int(signups or 0)
        counts.visitors += int(visitors or 0)


def _from_events(
    session: Session,
    project_id: str,
    buckets: list[Bucket],
    spans: dict[str, tuple[date, date] | None],
    name: str | None,
    group_by: str | None,
    where: tuple[str, str | None] | None,
    last_rolled: int,
    found: dict[tuple[str, str | None], Counts],
) -> None:
    since, until = buckets[0][1], buckets[-1][2]
    rolled = [span for span in spans.values() if span is not None]
    key_column = getattr(Event, name) if name else None
    columns = [Event.occurred_at, Event.visitor_id, Event.name]
    columns += [key_column] if key_column is not None else []
    conditions = [Event.project_id == project_id, Event.is_bot.is_(False)]
    if where is not None and key_column is not None:
        conditions.append(key_column == where[1] if where[1] is not None else key_column.is_(None))
    if rolled:
        first, last = _midnight(rolled[0][0]), _midnight(rolled[-1][1] + timedelta(days=1))
        edges = [(since, first), (last, until)]
    else:
        first = last = until
        edges = [(since, until)]
    events: list[Any] = []
    for start, end in edges:
        if start < end:
            events += session.execute(
                select(*columns).where(
                    *conditions, Event.occurred_at >= start, Event.occurred_at < end
                )
            ).all()
    if rolled:
        # Not rolled up yet: by id, which is short; the project and range are checked here
        # rather than in SQL, so that SQLite reads by id and not by a project-wide index.
        tail: Any = session.execute(
            select(*columns, Event.project_id, Event.is_bot).where(Event.id > last_rolled)
        ).all()
        events += [
            row[: len(columns)]
            for row in tail
            if row.project_id == project_id
            and not row.is_bot
            and first <= row.occurred_at < last
            and (where is None or _value(row[3]) == where[1])
        ]
    if not events:
        return
    starts = [bucket[1] for bucket in buckets]
    labels = [bucket[0] for bucket in buckets]
    seen: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for event in events:
        label = labels[bisect.bisect_right(starts, event[0]) - 1]
        value = _value(event[3]) if group_by is not None else None
        counts = found[(label, value)]
        if event[2] == "link_clicked":
            counts.clicks += 1
            continue
        counts.signups += event[2] == "signup_completed"
        if event[1]:
            seen[(label, value)].add(event[1])
    if not seen:
        return
    known = _rolled_days(session, project_id, seen, name if group_by else None, where, rolled)
    for (label, value), visitors in seen.items():
        span = spans[label]
        for visitor in visitors:
            days = known.get((visitor, value), ())
            if span is None or not any(span[0] <= day <= span[1] for day in days):
                found[(label, value)].visitors += 1


def _value(value: str | None) -> str | None:
    return value or None


def _rolled_days(
    session: Session,
    project_id: str,
    seen: dict[tuple[str, str | None], set[str]],
    grouped: str | None,
    where: tuple[str, str | None] | None,
    rolled: list[tuple[date, date]],
) -> dict[tuple[str, str | None], list[date]]:
    """The rolled-up whole days of these visitors, per (visitor, value of the `grouped`
    column, or None), only those with the `where` value if one is given."""
    if not rolled:
        return {}
    table: Any = VisitorDay.__table__
    visitors = {visitor for group in seen.values() for visitor in group}
    value_column = table.c[grouped] if grouped else None
    known: dict[tuple[str, str | None], list[date]] = defaultdict(list)
    for chunk in chunks(visitors):
        query = select(
            table.c.visitor_id,
            table.c.day,
            *([value_column] if value_column is not None else []),
        ).where(
            table.c.project_id == project_id,
            table.c.visitor_id.in_(chunk),
            table.c.day >= rolled[0][0],
            table.c.day <= rolled[-1][1],
        )
        if where is not None:
            query = query.where(table.c[COLUMNS[where[0]]] == (where[1] or NONE))
        for row in session.execute(query):
            value = _value(row[2]) if value_column is not None else None
            known[(row[0], value)].append(row[1])
    return known
