"""Traffic counts (clicks, signups, unique visitors) against a plain recount of the events, with
the rollup empty, partly caught up, fully caught up, and caught up before events arrived late."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.reports import rollup
from bantico.reports.filters import COLUMNS, Filters
from bantico.reports.models import VisitorDay
from bantico.reports.timeseries import bucket_bounds
from bantico.reports.traffic import Bucket, Counts, traffic, whole_days
from bantico.tracking.models import Event
from tests.conftest import Project

START = datetime(2026, 3, 1, tzinfo=UTC)  # a Sunday: weeks straddle the data
DAYS = 9
NAMES = ("page_view", "page_view", "link_clicked", "signup_completed", "pricing_view", "docs")
CONTEXTS: list[dict[str, str | None]] = [
    {"link_id": "lnk_a", "campaign_id": "spring", "source": "x", "medium": "dm"},
    {"link_id": "lnk_b", "campaign_id": "spring", "source": "linkedin", "medium": "post"},
    {"link_id": "lnk_c", "campaign_id": "fall", "source": "x", "content": "v2", "lead_id": "l1"},
    {"campaign_id": "fall", "source": "newsletter", "medium": "email"},
    {"source": "news.ycombinator.com", "medium": "referral"},
    {},
]


def random_event(rng: random.Random, project_id: str, visitors: list[str]) -> dict[str, Any]:
    name = rng.choice(NAMES)
    visitor = rng.choice(visitors)
    if name == "link_clicked" and rng.random() < 0.4:
        visitor = None  # a click the loader never joined
    context = dict.fromkeys(COLUMNS.values()) | rng.choice(CONTEXTS)
    return {
        "project_id": project_id,
        "name": name,
        "occurred_at": START + timedelta(seconds=rng.randrange(DAYS * 86_400)),
        "visitor_id": visitor,
        "is_bot": rng.random() < 0.05,
        **context,
    }


def insert(session: Session, events: list[dict[str, Any]]) -> None:
    session.execute(Event.__table__.insert(), events)  # type: ignore[attr-defined]
    session.commit()


def recount(
    events: list[dict[str, Any]],
    buckets: list[Bucket],
    group_by: str | None,
    where: tuple[str, str | None] | None,
) -> dict[tuple[str, str | None], Counts]:
    """What the reports must say, straight from the events."""
    found: dict[tuple[str, str | None], Counts] = defaultdict(Counts)
    seen: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for event in events:
        if event["is_bot"]:
            continue
        if where is not None and event[COLUMNS[where[0]]] != where[1]:
            continue
        label = next((b[0] for b in buckets if b[1] <= event["occurred_at"] < b[2]), None)
        if label is None:
            continue
        key = (label, event[COLUMNS[group_by]] if group_by else None)
        counts = found[key]
        if event["name"] == "link_clicked":
            counts.clicks += 1
            continue
        counts.signups += event["name"] == "signup_completed"
        if event["visitor_id"]:
            seen[key].add(event["visitor_id"])
    for key, visitors in seen.items():
        found[key].visitors = len(visitors)
    return found


def cases(rng: random.Random) -> list[tuple[list[Bucket], str | None, Any]]:
    ranges = [
        (START, START + timedelta(days=DAYS)),  # whole days only
        (START - timedelta(days=2), START + timedelta(days=DAYS + 1)),
        (START + timedelta(hours=5), START + timedelta(hours=20)),  # inside one day
        (START + timedelta(hours=30), START + timedelta(days=1, hours=2)),
    ]
    for _ in range(4):
        since = START + timedelta(seconds=rng.randrange(DAYS * 86_400))
        ranges.append((since, since + timedelta(seconds=rng.randrange(1, DAYS * 86_400))))
    found: list[tuple[list[Bucket], str | None, Any]] = []
    for since, until in ranges:
        whole: list[Bucket] = [("all", since, until)]
        for group_by in (None, *COLUMNS):
            found.append((whole, group_by, None))
        filters = Filters("prj", "live", "last_touch", since, until)
        for interval in ("day", "week", "month"):
            buckets = bucket_bounds(filters, interval)
            found.append((buckets, None, None))
            found.append((buckets, None, ("link", "lnk_a")))
            found.append((buckets, None, ("campaign", None)))
            found.append((buckets, None, ("source", "x")))
    return found


def check(session: Session, project_id: str, events: list[dict[str, Any]], seed: int) -> None:
    for buckets, group_by, where in cases(random.Random(seed)):
        got = traffic(session, project_id, buckets, group_by=group_by, where=where)
        want = recount(events, buckets, group_by, where)
        got = {k: v for k, v in got.items() if v != Counts()}
        want = {k: v for k, v in want.items() if v != Counts()}
        assert got == want, (buckets[0][1], buckets[-1][2], group_by, where)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_match_the_events_at_every_stage_of_the_rollup(
    project: Project, session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    factory = sessionmaker(bind=session.get_bind())
    visitors = [f"v_{n:03d}" for n in range(25)]
    events = [random_event(rng, project.id, visitors) for _ in range(400)]
    insert(session, events)
    check(session, project.id, events, seed)  # nothing rolled up

    rollup.catch_up(factory, lag_seconds=0, batch=60, max_batches=3)
    assert 0 < rollup.watermark(session) < max(session.execute(select(Event.id)).scalars())
    check(session, project.id, events, seed)  # partly rolled up: the rest read from events

    rollup.catch_up(factory, lag_seconds=0, batch=60)
    check(session, project.id, events, seed)  # all rolled up

    # Late events (server-side, back-dated), some for days and visitors already rolled up.
    late = [random_event(rng, project.id, [*visitors, "v_late"]) for _ in range(120)]
    insert(session, late)
    events += late
    check(session, project.id, events, seed)
    rollup.catch_up(factory, lag_seconds=0, batch=50)
    check(session, project.id, events, seed)


def test_rollup_rows_add_up_to_the_events(project: Project, session: Session) -> None:
    rng = random.Random(7)
    events = [random_event(rng, project.id, ["v_1", "v_2", "v_3"]) for _ in range(200)]
    insert(session, events)
    rollup.catch_up(sessionmaker(bind=session.get_bind()), lag_seconds=0, batch=33)
    total = session.execute(select(func.sum(VisitorDay.events), func.sum(VisitorDay.clicks))).one()
    humans = [e for e in events if not e["is_bot"]]
    assert total == (len(humans), sum(e["name"] == "link_clicked" for e in humans))
    # Clicks are never a visitor's: they sit on the visitor '' rows.
    assert not session.execute(
        select(func.count()).where(VisitorDay.visitor_id != "", VisitorDay.clicks > 0)
    ).scalar()


def test_the_lag_leaves_recent_events_for_later(project: Project, session: Session) -> None:
    rng = random.Random(9)
    insert(session, [random_event(rng, project.id, ["v_1"]) for _ in range(10)])
    factory = sessionmaker(bind=session.get_bind())
    assert rollup.catch_up(factory, lag_seconds=3600) == 0  # all received just now
    assert rollup.watermark(session) == 0
    assert rollup.catch_up(factory, lag_seconds=0) == 10


def test_whole_days() -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    assert whole_days(day, day + timedelta(days=1)) == (day.date(), day.date())
    assert whole_days(day + timedelta(seconds=1), day + timedelta(days=2)) == (
        (day + timedelta(days=1)).date(),
        (day + timedelta(days=1)).date(),
    )
    assert whole_days(day, day + timedelta(hours=23)) is None


def test_each_server_process_rolls_up_in_the_background(
    settings: Any, engine: Any, project: Project, session: Session
) -> None:
    from fastapi.testclient import TestClient

    from bantico.app import create_app

    rng = random.Random(11)
    # Received a minute ago: older than PostgreSQL's lag (rollup.POSTGRES_LAG_SECONDS).
    received = datetime.now(UTC) - timedelta(minutes=1)
    events = [random_event(rng, project.id, ["v_1", "v_2"]) for _ in range(30)]
    insert(session, [event | {"received_at": received} for event in events])
    last = max(session.execute(select(Event.id)).scalars())
    app = create_app(settings.model_copy(update={"report_rollup_interval_seconds": 0.05}), engine)
    with TestClient(app):
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while rollup.watermark(session) < last and datetime.now(UTC) < deadline:
            session.rollback()  # a new snapshot
            time.sleep(0.05)
    assert rollup.watermark(session) == last


def test_the_totals_match_the_visitor_rows(project: Project, session: Session) -> None:
    """`traffic_days`, kept by adding and taking away each change, equals a recount of
    `visitor_days` after batches that moved earlier rows' previous days around."""
    from bantico.reports.models import ANY, NEVER, TrafficDay

    rng = random.Random(5)
    factory = sessionmaker(bind=session.get_bind())
    visitors = ["v_1", "v_2", "v_3", "v_4"]
    for _ in range(4):
        insert(session, [random_event(rng, project.id, visitors) for _ in range(60)])
        rollup.catch_up(factory, lag_seconds=0, batch=25)
    want: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in session.execute(select(VisitorDay)).scalars():
        context = [getattr(row, name) for name in COLUMNS.values()]
        for dimension, value, prev in zip(
            (ANY, *COLUMNS.values()),
            ("", *context),
            [getattr(row, name) for name in rollup.PREVS],
            strict=True,
        ):
            totals = want[(dimension, row.day, value, prev or NEVER)]
            totals[0] += 1 if row.visitor_id else 0
            totals[1] += row.clicks
            totals[2] += row.signups
    got = {
        (t.dimension, t.day, t.value, t.prev): [t.visitors, t.clicks, t.signups]
        for t in session.execute(select(TrafficDay)).scalars()
        if (t.visitors, t.clicks, t.signups) != (0, 0, 0)
    }
    assert got == {key: value for key, value in want.items() if value != [0, 0, 0]}
