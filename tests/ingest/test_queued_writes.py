"""The writes `/api/collect` and `/l/{key}` queue with `execute_soon`: `BulkInsert`s written
out column by column and sent to the driver's executemany, they must store exactly what the
same statement in SQLAlchemy Core (`BulkInsert.core`) stores; and a visitor or session seen
twice before the queue is sent is upserted once, with the result of upserting it twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bantico.db import Base, make_sessionmaker
from bantico.ingest.queued_writes import BulkInsert, execute_soon, flush_queued
from bantico.links.redirect import RECORD_CLICK
from bantico.projects.models import Project as ProjectRow
from bantico.tracking import service
from bantico.tracking.models import Event, Visitor, VisitSession
from tests.conftest import Project

T0 = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)
T1 = T0 + timedelta(seconds=7, microseconds=1)
ZERO_MICROSECONDS = datetime(2026, 11, 27, 11, 0, 0, tzinfo=UTC)


def _raw(session: Session, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows as the driver returns them (SQLite: the stored text), without SQLAlchemy's types."""
    return [tuple(row) for row in session.execute(text(sql), params)]


def _visitor_rows(project_id: str, prefix: str) -> list[dict[str, Any]]:
    return [
        {"project_id": project_id, "id": f"{prefix}a", "first_seen_at": T0, "last_seen_at": T0},
        {
            "project_id": project_id,
            "id": f"{prefix}b",
            "first_seen_at": ZERO_MICROSECONDS,
            "last_seen_at": T1.astimezone(UTC),
        },
    ]


def _session_rows(project_id: str, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "project_id": project_id,
            "id": f"{prefix}s{i}",
            "visitor_id": f"{prefix}a",
            "started_at": T0,
            "last_seen_at": T1,
            "landing_url": url,
            "referrer": referrer,
        }
        for i, (url, referrer) in enumerate(
            [("https://shop.example/é?q=1", None), (None, "https://t.co/x")]
        )
    ]


def _event_rows(project_id: str, prefix: str) -> list[dict[str, Any]]:
    context = service.schemas.Context(link_id="lnk_1", campaign_id="c", source="x", lead_id="l")
    return [
        service._event_values(
            project_id,
            "page_view",
            T0,
            f"{prefix}a",
            f"{prefix}s0",
            "https://shop.example/",
            None,
            context,
            None,
            None,
        ),
        service._event_values(
            project_id,
            "signup",
            ZERO_MICROSECONDS,
            None,
            None,
            None,
            "https://ref.example/",
            None,
            {"plan": "pro", "seats": 3, "nested": {"ok": True}, "none": None},
            click_id=None,
        ),
    ]


def _click_rows(project_id: str, prefix: str) -> list[dict[str, Any]]:
    base = {
        "project_id": project_id,
        "name": "link_clicked",
        "link_id": "lnk_1",
        "campaign_id": None,
        "source": "linkedin",
        "medium": None,
        "content": None,
        "lead_id": None,
        "url": "https://shop.example/",
        "referrer": None,
    }
    return [
        {**base, "click_id": f"{prefix}c1", "is_bot": False, "props": None},
        {**base, "click_id": f"{prefix}c2", "is_bot": True, "props": {"userAgent": "Slackbot"}},
    ]


CASES = {
    "visitor": (service.SEE_VISITOR, _visitor_rows, "visitors", ()),
    "session": (service.SEE_SESSION, _session_rows, "sessions", ()),
    "event": (service.QUEUE_EVENT, _event_rows, "events", ("received_at",)),
    "click": (RECORD_CLICK, _click_rows, "events", ("occurred_at", "received_at")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_queued_rows_are_stored_exactly_as_sqlalchemy_core_stores_them(
    project: Project, engine: Engine, case: str
) -> None:
    statement, rows, table, stamped = CASES[case]
    factory = make_sessionmaker(engine)
    sent: list[tuple[str, bool, int]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.startswith("INSERT"):
            sent.append((sql, many, len(params) if many else 1))

    started = datetime.now(UTC)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with factory() as session:  # through the queue: the SQL written out
            queued = rows(project.id, "Q_")
            for row in queued:
                execute_soon(session, statement, row)
            session.commit()
        with factory() as session:  # what SQLAlchemy itself stores
            session.execute(statement.core(engine.dialect), rows(project.id, "E_"))
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    finished = datetime.now(UTC)
    # One executemany of every queued row, in the table named.
    assert sent[0][1:] == (True, len(queued)) and f"INTO {table} " in sent[0][0]

    with factory() as session:
        columns = [
            column.name
            for column in Base.metadata.tables[table].columns
            if column.name not in ("id", *stamped)
        ]
        # As the driver returns them (on SQLite: the stored text), without SQLAlchemy's types.
        stored = [
            tuple(
                value.replace("Q_", "").replace("E_", "") if isinstance(value, str) else value
                for value in row
            )
            for row in session.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} WHERE project_id = :p ORDER BY id"),
                {"p": project.id},
            )
        ]
        half = len(rows(project.id, ""))
        assert len(stored) == 2 * half and stored[:half] == stored[half:]
        # Stamped when sent, by the same column defaults.
        for name in stamped:
            times = session.execute(
                select(getattr(Event, name)).where(Event.project_id == project.id)
            ).scalars()
            assert all(started <= moment <= finished for moment in times)


def test_a_visitor_seen_twice_before_the_queue_is_sent_is_upserted_once(
    project: Project, session: Session
) -> None:
    later, latest = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    sent: list[int] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.startswith("INSERT INTO visitors") or sql.startswith("INSERT INTO sessions"):
            sent.append(len(params) if many else 1)

    # An existing visitor (seen long ago) comes back: two events in one batch.
    service._see_visitor(session, project.id, "v_returning1", T0 - timedelta(days=3))
    session.commit()
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for now, url in ((later, "https://shop.example/a"), (latest, "https://shop.example/b")):
            for visitor in ("v_returning1", "v_newcomer01"):
                service._see_visitor(session, project.id, visitor, now)
                service._see_session(session, project.id, visitor, f"s_{visitor}", now, url, None)
        flush_queued(session)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert sent == [2, 2]  # one row per visitor, one per session

    session.expire_all()
    visitors = {v.id: (v.first_seen_at, v.last_seen_at) for v in session.scalars(select(Visitor))}
    assert visitors == {
        "v_returning1": (T0 - timedelta(days=3), latest),
        "v_newcomer01": (later, latest),
    }
    visits = {
        s.id: (s.started_at, s.last_seen_at, s.landing_url)
        for s in session.scalars(select(VisitSession))
    }
    assert visits == {
        f"s_{v}": (later, latest, "https://shop.example/a")
        for v in ("v_returning1", "v_newcomer01")
    }


def test_a_read_sends_the_queue_so_a_later_sighting_is_a_second_upsert(
    project: Project, session: Session
) -> None:
    later = T0 + timedelta(minutes=1)
    service._see_visitor(session, project.id, "v_visitor0001", T0)
    assert session.get(Visitor, (project.id, "v_visitor0001")) is not None  # sent before the read
    service._see_visitor(session, project.id, "v_visitor0001", later)
    session.commit()
    session.expire_all()
    visitor = session.get(Visitor, (project.id, "v_visitor0001"))
    assert visitor is not None and (visitor.first_seen_at, visitor.last_seen_at) == (T0, later)


def test_pending_objects_are_flushed_before_queued_rows(engine: Engine) -> None:
    """As `session.execute` autoflushes: a queued event may refer to a project just added."""
    with make_sessionmaker(engine)() as session:
        session.add(
            ProjectRow(id="prj_queued0001", name="Queued", token="btk_queued0000000000000001")
        )
        execute_soon(
            session,
            service.QUEUE_EVENT,
            service._event_values(
                "prj_queued0001", "page_view", T0, None, None, None, None, None, None, None
            ),
        )
        session.commit()
        assert session.scalars(
            select(Event.name).where(Event.project_id == "prj_queued0001")
        ).all() == ["page_view"]
        session.delete(session.get(ProjectRow, "prj_queued0001"))
        session.commit()


def test_a_row_that_does_not_give_exactly_the_columns_is_refused_when_queued(
    project: Project, session: Session
) -> None:
    rows = _event_rows(project.id, "x")
    del rows[1]["url"]
    rows[0]["colour"] = "red"
    with pytest.raises(ValueError, match=r"missing \['url'\]"):
        execute_soon(session, service.QUEUE_EVENT, rows[1])
    with pytest.raises(ValueError, match=r"unknown \['colour'\]"):
        execute_soon(session, service.QUEUE_EVENT, rows[0])
    session.commit()  # nothing was queued
    assert session.scalars(select(Event).where(Event.project_id == project.id)).all() == []


def test_a_column_with_a_python_default_cannot_be_left_out() -> None:
    """A new column with a Python-side default must be written out or defaulted, or the
    written-out SQL would leave it NULL where SQLAlchemy would have filled it in."""
    events = Base.metadata.tables["events"]
    with pytest.raises(ValueError, match=r"left out \['received_at'\]"):
        BulkInsert(events, service.QUEUE_EVENT.columns, defaults={"is_bot": lambda: False})
    with pytest.raises(ValueError, match="unknown columns"):
        BulkInsert(events, (*RECORD_CLICK.columns, "colour"), defaults=RECORD_CLICK.defaults)
    with pytest.raises(ValueError, match="conflict and update"):
        BulkInsert(
            events,
            RECORD_CLICK.columns,
            defaults=RECORD_CLICK.defaults,
            conflict=("id",),
            update=("name",),
        )


def test_a_failing_batch_is_raised_as_sqlalchemys_error_and_stores_nothing(
    project: Project, session: Session
) -> None:
    rows = _click_rows(project.id, "dup")
    rows[1]["click_id"] = rows[0]["click_id"]  # unique: the second row fails
    for row in rows:
        execute_soon(session, RECORD_CLICK, row)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert session.scalars(select(Event).where(Event.project_id == project.id)).all() == []
