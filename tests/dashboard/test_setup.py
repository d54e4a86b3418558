"""First run: the setup link from `bantico serve` creates the admin and the first project."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.accounts import setup
from bantico.accounts.models import SetupToken, User
from bantico.projects.models import Project
from tests.dashboard.conftest import PASSWORD, csrf_of
from tests.factories import make_project


def fill_setup(client: TestClient, token: str, **overrides: str) -> object:
    page = client.get(f"/setup?token={token}")
    assert page.status_code == 200, page.text
    fields = {
        "csrf_token": csrf_of(page),
        "token": token,
        "email": "Founder@Example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "project_name": "Acme",
        **overrides,
    }
    return client.post("/setup", data=fields, follow_redirects=False)


def test_root_explains_setup_until_there_is_an_admin(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "bantico serve" in response.text and "setup?token=" in response.text
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


def test_setup_creates_the_admin_renames_the_first_project_and_logs_in(
    client: TestClient, session: Session
) -> None:
    existing = make_project(session, name="My project").project
    token = setup.issue_token(session)
    session.commit()
    page = client.get(f"/setup?token={token}")
    assert 'value="My project"' in page.text  # the project `serve` made, to confirm or rename
    response = fill_setup(client, token)
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/p/{existing.id}/install"
    install = client.get(response.headers["location"])
    assert install.status_code == 200
    assert "Your admin account is ready" in install.text
    assert existing.token in install.text
    session.expire_all()
    assert session.execute(select(User.email)).scalar_one() == "founder@example.com"
    assert session.execute(select(Project.name)).scalars().all() == ["Acme"]
    # Once: the link is spent, and setup is closed for good.
    again = client.get(f"/setup?token={token}")
    assert again.status_code == 409 and "Setup is done" in again.text
    assert fill_setup_post_only(client, token).status_code == 409
    assert client.get("/", follow_redirects=False).headers["location"] == "/app"


def fill_setup_post_only(client: TestClient, token: str) -> object:
    token_field = csrf_of(client.get("/app/account"))
    return client.post(
        "/setup",
        data={
            "csrf_token": token_field,
            "token": token,
            "email": "second@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "project_name": "Other",
        },
    )


def test_setup_creates_a_project_on_a_database_without_one(
    client: TestClient, session: Session
) -> None:
    token = setup.issue_token(session)
    session.commit()
    response = fill_setup(client, token, project_name="Side project")
    assert response.status_code == 303
    session.expire_all()
    project = session.execute(select(Project)).scalar_one()
    assert project.name == "Side project"
    assert response.headers["location"] == f"/app/p/{project.id}/install"


def test_wrong_fields_are_explained_next_to_them(client: TestClient, session: Session) -> None:
    token = setup.issue_token(session)
    session.commit()
    response = fill_setup(
        client, token, email="nope", password="short", password_confirm="other", project_name=""
    )
    assert response.status_code == 422
    assert 'id="f-email-error">Enter an email address like name@example.com.' in response.text
    assert 'id="f-password-error">Use at least 10 characters.' in response.text
    assert 'id="f-password_confirm-error">The passwords differ.' in response.text
    assert 'id="f-project_name-error">Give the project a name.' in response.text
    assert 'value="nope"' in response.text  # what was typed is kept
    assert PASSWORD not in response.text
    session.expire_all()
    assert session.execute(select(User)).first() is None
    assert fill_setup(client, token).status_code == 303  # the link still works


def test_expired_and_unknown_links_are_refused(client: TestClient, session: Session) -> None:
    token = setup.issue_token(session)
    session.commit()
    unknown = client.get("/setup?token=made-up")
    assert unknown.status_code == 403
    assert "expired or was already used" in unknown.text
    assert client.get("/setup").status_code == 403
    row = session.execute(select(SetupToken)).scalar_one()
    row.expires_at -= setup.LIFETIME + timedelta(seconds=1)
    session.commit()
    assert client.get(f"/setup?token={token}").status_code == 403
