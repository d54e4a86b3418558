"""The funnel read from `funnel_clicks` against the funnel counted from the events alone, with
the rollup empty, partly and fully caught up, after late events, and after a click already
rolled up was tied to its visitor."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bantico.reports import rollup
from bantico.reports.filters import Filters
from bantico.reports.funnel import STEPS, from_events, funnel
from bantico.tracking.models import Event
from tests.conftest import Project

START = datetime(2026, 5, 4, tzinfo=UTC)
LINKS = [("lnk_a", "spring"), ("lnk_b", "spring"), ("lnk_c", "fall"), (None, "fall"), (None, None)]


def journey(rng: random.Random, project_id: str, visitor: str | None) -> list[dict[str, Any]]:
    """A visitor's events over a few days, mostly in funnel order, sometimes not."""
    at = START + timedelta(seconds=rng.randrange(6 * 86_400))
    events = []
    for _ in range(rng.randrange(1, 9)):
        link_id, campaign_id = rng.choice(LINKS)
        name = rng.choice([*STEPS[:-1], "link_clicked", "page_view", "docs_search"])
        at += timedelta(seconds=rng.choice([0, 1, 30, 600, 3600, 86_400, 2 * 86_400]))
        events.append(
            {
                "project_id": project_id,
                "name": name,
                "occurred_at": at if rng.random() < 0.9 else at - timedelta(hours=5),
                "visitor_id": visitor,
                "link_id": link_id,
                "campaign_id": campaign_id,
                "is_bot": rng.random() < 0.03,
            }
        )
    return events


def insert(session: Session, events: list[dict[str, Any]]) -> None:
    session.execute(Event.__table__.insert(), events)  # type: ignore[attr-defined]
    session.commit()


def check(session: Session, project_id: str) -> None:
    ranges = [
        (START - timedelta(days=1), START + timedelta(days=12)),
        (START + timedelta(hours=30), START + timedelta(days=3, hours=7)),
        (START + timedelta(days=2), START + timedelta(days=2, hours=6)),
    ]
    for since, until in ranges:
        filters = Filters(project_id, "live", "last_touch", since, until)
        for dimension, value in [(None, None), ("link", "lnk_a"), ("campaign", "fall")]:
            assert funnel(session, filters, dimension, value) == from_events(
                session, filters, dimension, value
            ), (since, until, dimension)
        session.rollback()


@pytest.mark.parametrize("seed", [1, 2])
def test_funnel_matches_the_events_at_every_stage(
    project: Project, session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    factory = sessionmaker(bind=session.get_bind())
    events = [e for n in range(40) for e in journey(rng, project.id, f"v_{n:02d}")]
    insert(session, events)
    reached = from_events(
        session, Filters(project.id, "live", "last_touch", START, START + timedelta(days=12))
    )
    assert reached[0].visitors > 5 and reached[2].visitors > 0  # a funnel worth checking
    check(session, project.id)

    rollup.catch_up(factory, lag_seconds=0, batch=40, max_batches=2)
    check(session, project.id)
    rollup.catch_up(factory, lag_seconds=0)
    check(session, project.id)

    late = [e for n in range(30, 50) for e in journey(rng, project.id, f"v_{n:02d}")]
    insert(session, late)
    check(session, project.id)
    rollup.catch_up(factory, lag_seconds=0, batch=30)
    check(session, project.id)


def test_a_click_tied_to_its_visitor_after_the_rollup(project: Project, session: Session) -> None:
    factory = sessionmaker(bind=session.get_bind())
    at = START + timedelta(days=1)
    insert(
        session,
        [
            {
                "project_id": project.id,
                "name": "link_clicked",
                "occurred_at": at,
                "visitor_id": None,
                "link_id": "lnk_a",
                "campaign_id": "spring",
                "is_bot": False,
            },
            {
                "project_id": project.id,
                "name": "page_view",
                "occurred_at": at,
                "visitor_id": "v_late",
                "link_id": "lnk_a",
                "campaign_id": "spring",
                "is_bot": False,
            },
        ],
    )
    rollup.catch_up(factory, lag_seconds=0)
    click = session.execute(select(Event).where(Event.name == "link_clicked")).scalar_one()
    # What the loader's landing does (bantico.tracking.service._join_click).
    session.execute(update(Event).where(Event.id == click.id).values(visitor_id="v_late"))
    rollup.mark_clicked(session, project.id, "v_late", click.id)
    session.commit()
    filters = Filters(project.id, "live", "last_touch", START, START + timedelta(days=3))
    expected = [1, 1, 0, 0, 0, 0]
    assert [s.visitors for s in from_events(session, filters)] == expected
    assert [s.visitors for s in funnel(session, filters)] == expected  # counted from events
    rollup.catch_up(factory, lag_seconds=0)
    assert [s.visitors for s in funnel(session, filters)] == expected  # from the rollup
    assert not session.execute(select(rollup.RollupVisitor)).first()
