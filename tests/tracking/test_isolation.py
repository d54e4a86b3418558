"""An id of another project in an event's context is ignored, counted, and never joined: one
project's reports never show another's link."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.tracking.models import Event, ForeignId
from tests.conftest import Project
from tests.factories import make_link, make_project


def test_another_projects_link_in_a_context_is_ignored_and_counted(
    project: Project, session: Session
) -> None:
    other = make_project(session, name="Other shop")
    theirs = make_link(
        session,
        project_id=other.project.id,
        key="theirs",
        destination_url="https://other.example/x",
    )
    session.commit()
    body = {
        "token": project.token,
        "name": "page_view",
        "visitorId": "v_visitor0001",
        "sessionId": "s_session0001",
        "url": "https://shop.example/",
        "context": {"linkId": theirs.id, "source": "newsletter"},
    }
    response = project.client.post(
        "/api/collect", content=json.dumps(body), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    server = project.client.post(
        "/api/v1/events",
        headers=project.headers,
        json={
            "name": "signup_started",
            "visitorId": "v_visitor0001",
            "context": {"linkId": theirs.id},
        },
    )
    assert server.status_code == 202, server.text

    session.expire_all()
    events = session.execute(select(Event).where(Event.project_id == project.id)).scalars().all()
    assert events and all(e.link_id is None for e in events)
    assert events[0].source == "newsletter"  # the rest of the context is the project's own
    [counted] = session.execute(select(ForeignId)).scalars().all()
    assert (counted.project_id, counted.field, counted.count) == (project.id, "linkId", 2)

    for fmt in ("json", "csv"):
        report = project.client.get(
            f"/api/v1/reports/attribution?groupBy=link&format={fmt}", headers=project.headers
        )
        assert report.status_code == 200
        assert "theirs" not in report.text and "other.example" not in report.text
    checks = project.client.get("/api/v1/diagnostics", headers=project.headers).json()["checks"]
    [check] = [c for c in checks if c["id"] == "foreign_ids"]
    assert check["status"] == "warn" and theirs.id in check["detail"]
