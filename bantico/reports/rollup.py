"""Keeping the reports' rollups (`visitor_days`, `traffic_days`, `funnel_clicks`; see
bantico/reports/models.py) up to date with `events`.

`catch_up` reads the events after the progress row's `last_event_id`, in id order and in
batches, adds their counts to the rollups, recomputes the `prev_*` days of every visitor they
touched and the funnel rows of the clicks they moved, then moves `last_event_id` on, all in one
transaction per batch. Nothing on the
ingestion path writes the rollup, so tracking stays as fast as before; `RollupWorker` runs
`catch_up` every few seconds in each server process, and the reports read what it has not
reached yet from `events` (bantico/reports/traffic.py), so they never wait for it.

Concurrency: each batch starts by updating the progress row, which makes every other catch-up
(another thread, process or server) wait for this batch's commit and then read the new
`last_event_id`. On PostgreSQL, ids are taken when a row is inserted but become visible when
its transaction commits, so a batch could see id 11 before id 10 commits and never come back
for 10; a batch therefore stops at the first event received less than `lag_seconds` ago
(`POSTGRES_LAG_SECONDS`; every write that inserts events is a short transaction). SQLite runs
one write transaction at a time, so its ids become visible in order and need no lag.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bantico.db import dialect_insert, insert_ignoring_conflicts, session_scope, utcnow
from bantico.reports.models import (
    ANY,
    CONTEXT_COLUMNS,
    FUNNEL_EVENTS,
    NEVER,
    NONE,
    FunnelClick,
    RollupProgress,
    RollupVisitor,
    TrafficDay,
    VisitorDay,
)
from bantico.tracking.models import Event

log = logging.getLogger("bantico.reports")

TRAFFIC = "traffic"
BATCH_EVENTS = 5_000
POSTGRES_LAG_SECONDS = 30.0
VISITOR_CHUNK = 500
DAYS: Table = VisitorDay.__table__  # type: ignore[assignment]
TOTALS: Table = TrafficDay.__table__  # type: ignore[assignment]
KEY = ("project_id", "visitor_id", "day", *CONTEXT_COLUMNS)
COUNTS = ("clicks", "signups", "events")
PREVS = ("prev_any", *(f"prev_{name}" for name in CONTEXT_COLUMNS))
DIMENSIONS = (ANY, *CONTEXT_COLUMNS)  # in the order of PREVS

Key = tuple[Any, ...]  # a `visitor_days` key, in KEY's order
Row = tuple[list[int], tuple[date | None, ...]]  # its counts (COUNTS) and previous days (PREVS)
# A `traffic_days` key: project, dimension, day, value, previous day.
Total = tuple[str, str, date, str, date]


def watermark(session: Session) -> int:
    """The id of the last event the rollup holds (0: none)."""
    found = session.execute(
        select(RollupProgress.last_event_id).where(RollupProgress.name == TRAFFIC)
    ).scalar()
    return int(found or 0)


def chunks(items: Iterable[str], size: int = VISITOR_CHUNK) -> Iterator[list[str]]:
    """`items`, sorted, in lists of at most `size`: the visitors of one `IN (…)`."""
    ordered = sorted(items)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def default_lag(session: Session) -> float:
    return POSTGRES_LAG_SECONDS if session.get_bind().dialect.name == "postgresql" else 0.0


def catch_up(
    factory: sessionmaker[Session],
    *,
    lag_seconds: float | None = None,
    batch: int = BATCH_EVENTS,
    max_batches: int | None = None,
) -> int:
    """Roll up every event committed so far (older than the lag); returns how many were read."""
    total, batches = 0, 0
    while max_batches is None or batches < max_batches:
        with session_scope(factory) as session:
            lag = default_lag(session) if lag_seconds is None else lag_seconds
            read, complete = catch_up_batch(session, lag_seconds=lag, batch=batch)
        total, batches = total + read, batches + 1
        if complete:
            break
    return total


def catch_up_batch(session: Session, *, lag_seconds: float, batch: int) -> tuple[int, bool]:
    """One batch in the caller's transaction: (events read, whether none are left)."""
    session.execute(
        insert_ignoring_conflicts(session, RollupProgress).values(name=TRAFFIC, last_event_id=0)
    )
    # Take the progress row first: a concurrent catch-up waits here, then reads our result.
    session.execute(
        update(RollupProgress)
        .where(RollupProgress.name == TRAFFIC)
        .values(last_event_id=RollupProgress.last_event_id)
    )
    since = watermark(session)
    cutoff = utcnow() - timedelta(seconds=lag_seconds)
    rows = session.execute(
        select(
            Event.id,
            Event.project_id,
            Event.occurred_at,
            Event.received_at,
            Event.visitor_id,
            Event.name,
            Event.is_bot,
            *[getattr(Event, name) for name in CONTEXT_COLUMNS],
        )
        .where(Event.id > since)
        .order_by(Event.id)
        .limit(batch)
    ).all()
    last, read = since, 0
    complete = len(rows) < batch
    added: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        if lag_seconds and row.received_at >= cutoff:
            complete = True  # the rest may still have earlier ids in flight: next time
            break
        last, read = row.id, read + 1
        if not row.is_bot:
            clicked = row.name == "link_clicked"
            visitor = NONE if clicked or not row.visitor_id else row.visitor_id
            context = [getattr(row, name) or NONE for name in CONTEXT_COLUMNS]
            counts = added[(row.project_id, visitor, row.occurred_at.date(), *context)]
            counts[0] += clicked
            counts[1] += row.name == "signup_completed"
            counts[2] += 1
    refresh_funnels(session, _funnel_visitors(session, rows[:read]), last)
    if not read:
        return 0, True
    _Rollup(session).add(added)
    session.execute(
        update(RollupProgress).where(RollupProgress.name == TRAFFIC).values(last_event_id=last)
    )
    return read, complete


FUNNEL_STEPS = FUNNEL_EVENTS[1:]
CHAINS = ("", "link_", "campaign_")  # every event; those of the click's link; of its campaign
CLICKS: Table = FunnelClick.__table__  # type: ignore[assignment]


def _funnel_visitors(session: Session, events: Iterable[Any]) -> dict[str, set[str]]:
    """The visitors whose `funnel_clicks` rows these events change, and those marked by
    `mark_clicked` (taken off the list here, in this transaction). Most events change nothing:
    a visitor without clicks has no funnel, and a page view after a click's landing leaves
    that click's steps as they were; only the others are recomputed from their events."""
    found: dict[str, set[str]] = defaultdict(set)
    steps: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for event in events:
        if event.visitor_id and not event.is_bot and event.name in FUNNEL_EVENTS:
            if event.name == "link_clicked":
                found[event.project_id].add(event.visitor_id)
            else:
                steps[(event.project_id, event.visitor_id)].append(event)
    candidates: dict[str, list[str]] = defaultdict(list)
    for project_id, visitor_id in steps:
        if visitor_id not in found[project_id]:
            candidates[project_id].append(visitor_id)
    for project_id, visitors in candidates.items():
        for chunk in chunks(visitors):
            for click in session.execute(
                select(FunnelClick).where(
                    FunnelClick.project_id == project_id, FunnelClick.visitor_id.in_(chunk)
                )
            ).scalars():
                if any(_moves(click, e) for e in steps[(project_id, click.visitor_id)]):
                    found[project_id].add(click.visitor_id)
    marked = session.execute(delete(RollupVisitor).returning(*RollupVisitor.__table__.c)).all()
    for project_id, visitor_id in marked:
        found[project_id].add(visitor_id)
    return found


def _moves(click: FunnelClick, event: Any) -> bool:
    """Whether `event` (a later funnel step) changes one of the click's chains: it comes at or
    after the chain's previous step and before the step it would take (or the step is open)."""
    number = FUNNEL_STEPS.index(event.name)
    scopes = {"": True, "link_": event.link_id == click.link_id}
    scopes["campaign_"] = event.campaign_id == click.campaign_id
    for chain in CHAINS:
        if not scopes[chain]:
            continue
        previous_step = f"{chain}{FUNNEL_STEPS[number - 1]}_at" if number else "clicked_at"
        before = getattr(click, previous_step)
        current = getattr(click, f"{chain}{FUNNEL_STEPS[number]}_at")
        if (
            before is not None
            and before <= event.occurred_at
            and (current is None or event.occurred_at < current)
        ):
            return True
    return False


def mark_clicked(session: Session, project_id: str, visitor_id: str, event_id: int) -> None:
    """A click already rolled up was just tied to this visitor: recompute their funnel."""
    if event_id <= watermark(session):
        session.execute(
            insert_ignoring_conflicts(session, RollupVisitor).values(
                project_id=project_id, visitor_id=visitor_id
            )
        )


def refresh_funnels(session: Session, visitors: dict[str, set[str]], last: int) -> None:
    """Rewrite the `funnel_clicks` rows of these visitors from their events up to `last`."""
    for project_id, ids in visitors.items():
        for chunk in chunks(ids):
            events = session.execute(
                select(
                    Event.id,
                    Event.visitor_id,
                    Event.name,
                    Event.occurred_at,
                    Event.link_id,
                    Event.campaign_id,
                ).where(
                    Event.project_id == project_id,
                    Event.name.in_(FUNNEL_EVENTS),
                    Event.visitor_id.in_(chunk),
                    Event.is_bot.is_(False),
                    Event.id <= last,
                )
            ).all()
            session.execute(
                delete(FunnelClick).where(
                    FunnelClick.project_id == project_id, FunnelClick.visitor_id.in_(chunk)
                )
            )
            rows = funnel_rows(project_id, events)
            if rows:
                session.execute(CLICKS.insert(), rows)


def funnel_rows(project_id: str, events: Iterable[Any]) -> list[dict[str, Any]]:
    """`funnel_clicks` rows for these events (any visitors): per click, its three chains."""
    per_visitor: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        per_visitor[event.visitor_id].append(event)
    rows: list[dict[str, Any]] = []
    for visitor_id, mine in per_visitor.items():
        # For each step: its times overall, per link and per campaign, sorted.
        times: dict[tuple[str, str, str | None], list[datetime]] = defaultdict(list)
        for event in sorted(mine, key=lambda e: (e.occurred_at, e.id)):
            if event.name != "link_clicked":
                times[(event.name, "", None)].append(event.occurred_at)
                times[(event.name, "link_", event.link_id)].append(event.occurred_at)
                times[(event.name, "campaign_", event.campaign_id)].append(event.occurred_at)
        previous: dict[tuple[str, str | None], datetime] = {}
        clicks = [event for event in mine if event.name == "link_clicked"]
        for click in sorted(clicks, key=lambda e: (e.occurred_at, e.id)):
            row = {
                "event_id": click.id,
                "project_id": project_id,
                "visitor_id": visitor_id,
                "clicked_at": click.occurred_at,
                "link_id": click.link_id,
                "campaign_id": click.campaign_id,
            }
            scopes = dict(zip(CHAINS, (None, click.link_id, click.campaign_id), strict=True))
            for chain, scope in scopes.items():
                row[f"{chain}prev_clicked_at"] = previous.get((chain, scope))
                previous[(chain, scope)] = click.occurred_at
            for chain in CHAINS:
                scope = scopes[chain]
                at: datetime | None = click.occurred_at
                for step in FUNNEL_STEPS:
                    if at is not None:
                        found = times.get((step, chain, scope), [])
                        index = bisect.bisect_left(found, at)
                        at = found[index] if index < len(found) else None
                    row[f"{chain}{step}_at"] = at
            rows.append(row)
    return rows


def _contribution(key: Key, row: Row) -> list[tuple[Total, tuple[int, int, int]]]:
    """What one `visitor_days` row adds to `traffic_days`."""
    project_id, visitor, day, *context = key
    counts, prevs = row
    person = 1 if visitor else 0
    return [
        (
            (project_id, dimension, day, value, prev or NEVER),
            (person, counts[0], counts[1]),
        )
        for dimension, value, prev in zip(DIMENSIONS, (NONE, *context), prevs, strict=True)
    ]


class _Rollup:
    """Adds a batch's counts to both tables, with the visitors' previous days recomputed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.days: list[dict[str, Any]] = []  # visitor_days rows to write
        self.totals: dict[Total, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, added: dict[Key, list[int]]) -> None:
        anonymous = {key: counts for key, counts in added.items() if key[1] == NONE}
        visitors: dict[str, set[str]] = defaultdict(set)
        for key in added:
            if key[1] != NONE:
                visitors[key[0]].add(key[1])
        for project_id, ids in visitors.items():
            for chunk in chunks(ids):
                self._visitors(project_id, chunk, added)
        for key, counts in anonymous.items():
            # The visitor '' rows never count a visitor: their previous day is their own.
            self._change(key, None, (counts, (key[2],) * len(PREVS)))
        self._write(anonymous)

    def _visitors(self, project_id: str, chunk: list[str], added: dict[Key, list[int]]) -> None:
        old: dict[Key, Row] = {
            tuple(row[: len(KEY)]): (
                list(row[len(KEY) : len(KEY) + len(COUNTS)]),
                tuple(row[len(KEY) + len(COUNTS) :]),
            )
            for row in self.session.execute(
                select(*[DAYS.c[name] for name in (*KEY, *COUNTS, *PREVS)]).where(
                    DAYS.c.project_id == project_id, DAYS.c.visitor_id.in_(chunk)
                )
            )
        }
        counts: dict[Key, list[int]] = {key: list(row[0]) for key, row in old.items()}
        members = set(chunk)
        for key, more in added.items():
            if key[0] == project_id and key[1] in members:
                total = counts.setdefault(key, [0, 0, 0])
                for index, value in enumerate(more):
                    total[index] += value
        for key, prevs in _previous_days(sorted(counts)).items():
            new: Row = (counts[key], prevs)
            if old.get(key) != new:
                self._change(key, old.get(key), new)
                self.days.append(
                    {
                        **dict(zip(KEY, key, strict=True)),
                        **dict(zip(COUNTS, new[0], strict=True)),
                        **dict(zip(PREVS, prevs, strict=True)),
                    }
                )

    def _change(self, key: Key, old: Row | None, new: Row) -> None:
        for sign, row in ((-1, old), (1, new)):
            if row is not None:
                for total, values in _contribution(key, row):
                    found = self.totals[total]
                    for index, value in enumerate(values):
                        found[index] += sign * value

    def _write(self, anonymous: dict[Key, list[int]]) -> None:
        if self.days:
            statement = dialect_insert(self.session, DAYS)
            statement = statement.on_conflict_do_update(
                index_elements=list(KEY),
                set_={name: statement.excluded[name] for name in (*COUNTS, *PREVS)},
            )
            self.session.execute(statement, self.days)
        if anonymous:
            statement = dialect_insert(self.session, DAYS)
            statement = statement.on_conflict_do_update(
                index_elements=list(KEY),
                set_={name: DAYS.c[name] + statement.excluded[name] for name in COUNTS},
            )
            self.session.execute(
                statement,
                [
                    {
                        **dict(zip(KEY, key, strict=True)),
                        **dict(zip(COUNTS, counts, strict=True)),
                        **dict.fromkeys(PREVS, key[2]),
                    }
                    for key, counts in anonymous.items()
                ],
            )
        changes = [
            dict(
                zip(("project_id", "dimension", "day", "value", "prev"), total, strict=True),
                visitors=values[0],
                clicks=values[1],
                signups=values[2],
            )
            for total, values in self.totals.items()
            if any(values)
        ]
        if changes:
            statement = dialect_insert(self.session, TOTALS)
            statement = statement.on_conflict_do_update(
                index_elements=["project_id", "dimension", "day", "value", "prev"],
                set_={
                    name: TOTALS.c[name] + statement.excluded[name]
                    for name in ("visitors", "clicks", "signups")
                },
            )
            self.session.execute(statement, changes)


def _previous_days(keys: Iterable[Key]) -> dict[Key, tuple[date | None, ...]]:
    """For keys sorted by project, visitor, day and context: the previous day, in that order, of
    the same visitor overall and with the same value of each context column."""
    found: dict[Key, tuple[date | None, ...]] = {}
    visitor: tuple[str, str] | None = None
    last_any: date | None = None
    last_seen: list[dict[str, date]] = []
    for key in keys:
        if key[:2] != visitor:
            visitor, last_any = key[:2], None
            last_seen = [{} for _ in CONTEXT_COLUMNS]
        day, context = key[2], key[3:]
        prevs: list[date | None] = [last_any]
        for seen, value in zip(last_seen, context, strict=True):
            prevs.append(seen.get(value))
            seen[value] = day
        last_any = day
        found[key] = tuple(prevs)
    return found


class RollupWorker:
    """Runs `catch_up` every `interval` seconds in a background thread of a server process."""

    def __init__(self, factory: sessionmaker[Session], interval: float) -> None:
        self.factory, self.interval = factory, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="report-rollup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            pause = self.interval
            try:
                # A few batches at a time, each its own short transaction; with a backlog (an
                # upgrade, a burst) the next few follow at once.
                read = catch_up(self.factory, max_batches=20)
                if read >= 20 * BATCH_EVENTS:
                    pause = min(pause, 0.05)
            except Exception:
                log.exception("reports.rollup.failed")
            self._stop.wait(pause)
