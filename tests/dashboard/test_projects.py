"""Projects: the switcher, a new project and the navigation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.projects.models import Project as ProjectRow
from bantico.projects.service import project_for_secret
from tests.conftest import Project
from tests.dashboard.conftest import post_form
from tests.factories import make_project

NAV = ("Reports", "Links", "Payments", "Troubleshooting", "Install", "Settings")


def test_every_project_page_has_the_nav_and_the_switcher(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    other = make_project(session, name="Side project").project
    session.commit()
    page = signed_in.get(f"/app/p/{project.id}/reports")
    assert page.status_code == 200
    labels = re.findall(r'<li><a href="/app/p/[^"]+/(\w+)"[^>]*>(\w+)</a></li>', page.text)
    assert [label for _, label in labels] == list(NAV)
    assert f'href="/app/p/{project.id}/reports" aria-current="page"' in page.text
    assert f'<option value="{project.id}" selected>Acme</option>' in page.text
    assert f'<option value="{other.id}">Side project</option>' in page.text
    switched = signed_in.get(
        f"/app/switch?project={other.id}&section=install", follow_redirects=False
    )
    assert switched.headers["location"] == f"/app/p/{other.id}/install"
    signed_in.get(switched.headers["location"])
    # /app opens the project used last
    assert signed_in.get("/app", follow_redirects=False).headers["location"] == (
        f"/app/p/{other.id}/reports"
    )
    unknown = signed_in.get("/app/switch?project=nope", follow_redirects=False)
    assert unknown.headers["location"] == "/app"


def test_unknown_project_is_a_404_page(signed_in: TestClient) -> None:
    page = signed_in.get("/app/p/prj_nope/settings")
    assert page.status_code == 404
    assert "Project not found" in page.text


def test_new_project_shows_its_secret_key_once(signed_in: TestClient, session: Session) -> None:
    empty = post_form(signed_in, "/app/projects/new", name="   ")
    assert empty.status_code == 422
    assert 'id="f-name-error">Give the project a name.' in empty.text
    created = post_form(signed_in, "/app/projects/new", name="Newsletter")
    assert created.status_code == 201
    key = re.search(r"bsk_\w+", created.text)
    assert key is not None
    row = session.execute(select(ProjectRow).where(ProjectRow.name == "Newsletter")).scalar_one()
    assert project_for_secret(session, key.group(0)).id == row.id
    assert f'<option value="{row.id}" selected>Newsletter</option>' in created.text
    assert key.group(0) not in signed_in.get(f"/app/p/{row.id}/settings").text


def test_without_projects_the_dashboard_asks_for_one(
    client: TestClient, admin: object, session: Session
) -> None:
    from tests.dashboard.conftest import log_in

    log_in(client)
    assert client.get("/app", follow_redirects=False).headers["location"] == "/app/projects/new"
