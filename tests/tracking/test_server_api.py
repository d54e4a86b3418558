from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.tracking.models import Event, Identity, Touch, Visitor
from tests.conftest import Project

VISITOR = "v_server000001"


def rows(session: Session, model: Any) -> list[Any]:
    session.expire_all()
    return list(session.execute(select(model).order_by(*model.__mapper__.primary_key)).scalars())


def land(project: Project, **fields: Any) -> None:
    body = {
        "token": project.token,
        "name": "page_view",
        "visitorId": VISITOR,
        "sessionId": "s_server000001",
        "url": "https://shop.example/",
        **fields,
    }
    assert project.client.post("/api/collect", content=json.dumps(body)).status_code == 200


def test_server_event_inherits_the_visitors_context(project: Project, session: Session) -> None:
    land(project, utm={"source": "newsletter", "campaign": "nov"})
    response = project.client.post(
        "/api/v1/events",
        headers=project.headers,
        json={"name": "signup_completed", "visitorId": VISITOR, "props": {"plan": "pro"}},
    )
    assert response.status_code == 202, response.text
    event = session.get(Event, response.json()["id"])
    assert event is not None
    assert (event.name, event.source, event.campaign_id) == (
        "signup_completed",
        "newsletter",
        "nov",
    )
    assert event.props == {"plan": "pro"}


def test_server_event_context_outside_window_is_not_used(
    project: Project, session: Session
) -> None:
    land(project, utm={"source": "old"})
    [touch] = rows(session, Touch)
    touch.occurred_at = datetime.now(UTC) - timedelta(days=31)
    session.commit()
    response = project.client.post(
        "/api/v1/events",
        headers=project.headers,
        json={"name": "signup_completed", "visitorId": VISITOR},
    )
    event = session.get(Event, response.json()["id"])
    assert event is not None and event.source is None


def test_server_event_by_user_id_finds_the_visitor(project: Project, session: Session) -> None:
    land(project, utm={"source": "x"})
    project.client.post(
        "/api/v1/identify",
        headers=project.headers,
        json={"visitorId": VISITOR, "id": "user_7", "email": "A@B.co"},
    )
    response = project.client.post(
        "/api/v1/events",
        headers=project.headers,
        json={"name": "signup_completed", "userId": "user_7"},
    )
    event = session.get(Event, response.json()["id"])
    assert event is not None and (event.visitor_id, event.source) == (VISITOR, "x")


def test_server_event_explicit_context_and_time(project: Project, session: Session) -> None:
    when = "2026-11-01T12:00:00Z"
    response = project.client.post(
        "/api/v1/events",
        headers=project.headers,
        json={
            "name": "demo_booked",
            "occurredAt": when,
            "context": {"campaignId": "webinar", "source": "", "leadId": "lead_9"},
        },
    )
    event = session.get(Event, response.json()["id"])
    assert event is not None
    assert event.occurred_at == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert (event.campaign_id, event.source, event.lead_id) == ("webinar", None, "lead_9")


def test_server_event_errors(project: Project) -> None:
    c, h = project.client, project.headers
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        c.post("/api/v1/events", headers=h, json={"name": "x", "occurredAt": future}).status_code
        == 422
    )
    naive = c.post(
        "/api/v1/events", headers=h, json={"name": "x", "occurredAt": "2026-11-01T12:00"}
    )
    assert naive.status_code == 422 and "timezone" in naive.json()["error"]["message"]
    assert c.post("/api/v1/events", headers=h, json={"name": "link_clicked"}).status_code == 422
    assert c.post("/api/v1/events", json={"name": "x"}).status_code == 401
    oversized = c.post("/api/v1/events", headers=h, content=b"{" + b" " * (70 * 1024) + b"}")
    assert oversized.status_code == 413


def test_identify_stores_history_and_updates_visitor(project: Project, session: Session) -> None:
    c, h = project.client, project.headers
    assert (
        c.post(
            "/api/v1/identify", headers=h, json={"visitorId": VISITOR, "email": " Jane@Example.com"}
        ).status_code
        == 202
    )
    assert (
        c.post(
            "/api/v1/identify",
            headers=h,
            json={"visitorId": VISITOR, "id": "u1", "name": "Jane", "traits": {"company": "Acme"}},
        ).status_code
        == 202
    )
    [visitor] = rows(session, Visitor)
    assert (visitor.email, visitor.user_id, visitor.name) == ("jane@example.com", "u1", "Jane")
    identities = rows(session, Identity)
    assert [i.email for i in identities] == ["jane@example.com", None]
    assert identities[1].traits == {"company": "Acme"}
    # Without a visitor, identify still records who the user is (e.g. a backend signup).
    assert c.post("/api/v1/identify", headers=h, json={"email": "bob@x.io"}).status_code == 202
    missing = c.post("/api/v1/identify", headers=h, json={"visitorId": VISITOR, "name": "No id"})
    assert missing.status_code == 422 and "id or an email" in missing.json()["error"]["message"]
