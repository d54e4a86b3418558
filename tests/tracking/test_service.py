"""The cost of ingestion in statements (bantico/tracking/service.py): a landing whose click id
matches no click (made up, stale, another project's) is a page view with a touch, and must not
send the batch's queued rows early or read more than its click id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bantico.projects.models import Project as ProjectRow
from bantico.tracking import schemas, service
from bantico.tracking.models import Event, Touch
from tests.conftest import Project
from tests.factories import make_link


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent to the database, and whether it was an executemany."""
    sent: list[tuple[str, bool]] = []

    def record(*args: Any) -> None:
        sent.append((str(args[2]).split()[0].upper(), bool(args[5])))

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(autouse=True)
def _no_copies() -> None:
    for cache in (service._LINK_OWNERS, service._LINK_CONTEXTS, service._UNKNOWN_CLICKS):
        cache.clear()


def collect_batch(session: Session, project_id: str, bodies: list[dict[str, Any]]) -> None:
    """One group-commit batch: every event in one transaction, as `GroupCommit` runs them."""
    project = session.get(ProjectRow, project_id)
    assert project is not None
    session.expunge(project)  # as the collect route's cached copy
    session.commit()
    for body in bodies:
        service.collect(session, project, schemas.CollectIn.model_validate(body))
    session.commit()


def page_view(project: Project, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "token": project.token,
        "name": "page_view",
        "visitorId": f"v_visitor{n:04d}",
        "sessionId": f"s_session{n:04d}",
        "url": "https://shop.example/pricing",
        **fields,
    }


def test_a_landing_with_an_unknown_click_id_sends_no_extra_statement(
    project: Project,
    session: Session,
    statements: list[tuple[str, bool]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []  # click ids looked up (on the connection: counted as reads too)
    find_click = service._find_click

    def spy(connection: Any, click_id: str, project_id: str) -> Any:
        lookups.append(click_id)
        return find_click(connection, click_id, project_id)

    monkeypatch.setattr(service, "_find_click", spy)
    link = make_link(session, project_id=project.id, key="spring", campaign_id="nov")
    session.commit()
    carried = {"context": {"linkId": link.id}}
    collect_batch(session, project.id, [page_view(project, n, **carried) for n in range(4)])
    statements.clear()
    collect_batch(session, project.id, [page_view(project, n, **carried) for n in range(4, 8)])
    plain = list(statements)

    landing = {"linkId": link.id, "utm": {"source": "linkedin", "campaign": "nov"}}
    statements.clear()
    collect_batch(
        session,
        project.id,
        [page_view(project, n, clickId=f"clk_stale{n:08d}", **landing) for n in range(8, 12)],
    )
    stale = list(statements)

    writes = [kind for kind, _ in plain if kind != "SELECT"]
    # Each queued statement is sent once for the whole batch, not once per event: the visitor,
    # the session, the event; the landing adds one statement, its touches.
    assert all(many for kind, many in plain if kind == "INSERT")
    assert [kind for kind, _ in stale if kind != "SELECT"] == [*writes, "INSERT"]
    assert all(many for kind, many in stale if kind == "INSERT")
    # Reads: one per click id (an indexed look-up) and the link's row once (then a copy).
    reads = [kind for kind, _ in stale if kind == "SELECT"]
    assert len(reads) == len([kind for kind, _ in plain if kind == "SELECT"]) + 1 + 4
    assert lookups == [f"clk_stale{n:08d}" for n in range(8, 12)]

    # The same stale click ids again (reloads): remembered, no read at all; the touches'
    # statement is sent and adds none.
    statements.clear()
    collect_batch(
        session,
        project.id,
        [page_view(project, n, clickId=f"clk_stale{n:08d}", **landing) for n in range(8, 12)],
    )
    assert [kind for kind, _ in statements] == [kind for kind, _ in plain] + ["INSERT"]
    assert len(lookups) == 4

    session.expire_all()
    touches = session.execute(select(Touch).order_by(Touch.id)).scalars().all()
    assert [(t.visitor_id, t.kind, t.link_id, t.campaign_id) for t in touches] == [
        (f"v_visitor{n:04d}", "link", link.id, "nov") for n in range(8, 12)
    ]  # the reloads (the second batch) added none
    events = session.execute(select(Event).where(Event.click_id.is_(None))).scalars().all()
    assert len(events) == 16 and {e.link_id for e in events} == {link.id}


def test_a_reload_in_the_same_batch_is_one_touch(
    project: Project, session: Session, statements: list[tuple[str, bool]]
) -> None:
    utm = {"source": "newsletter", "campaign": "nov"}
    collect_batch(
        session,
        project.id,
        [
            page_view(project, 1, utm=utm),
            page_view(project, 1, utm=utm),  # the reload, sent with the same batch
            page_view(project, 2, utm=utm),  # another visitor: a touch of their own
            page_view(project, 1, utm=utm, sessionId="s_later0001"),  # a later visit
        ],
    )
    session.expire_all()
    touches = session.execute(select(Touch).order_by(Touch.id)).scalars().all()
    assert [(t.visitor_id, t.session_id) for t in touches] == [
        ("v_visitor0001", "s_session0001"),
        ("v_visitor0002", "s_session0002"),
        ("v_visitor0001", "s_later0001"),
    ]


def test_a_click_stored_after_its_id_was_refused_is_still_unknown_here(
    project: Project, session: Session
) -> None:
    """The negative copy is safe because a browser only learns a click id from a redirect
    that committed the click first; an id refused once stays refused for a while."""
    collect_batch(session, project.id, [page_view(project, 1, clickId="clk_neverseen0001")])
    assert service._UNKNOWN_CLICKS.get((project.id, "clk_neverseen0001")) is True


def test_a_known_click_is_found_and_a_broken_database_is_sqlalchemys_error(
    project: Project, session: Session
) -> None:
    """The look-up on the connection finds the project's click only, and a broken database
    is SQLAlchemy's error."""
    make_link(session, project_id=project.id, key="spring")
    session.commit()
    assert project.client.get("/l/spring", follow_redirects=False).status_code == 302
    click_id = session.execute(select(Event.click_id)).scalar_one()
    connection = session.connection()
    assert service._find_click(connection, click_id, project.id) is not None
    assert service._find_click(connection, click_id, "prj_other") is None
    session.rollback()
    connection = session.connection()
    original = service._CLICK_EXISTS
    try:
        service._CLICK_EXISTS = (
            select(Event.id).where(Event.click_id == "x").limit(1).where(text("no_such_column = 1"))
        )
        with pytest.raises(DBAPIError):
            service._find_click(connection, click_id, project.id)
    finally:
        service._CLICK_EXISTS = original
        session.rollback()
