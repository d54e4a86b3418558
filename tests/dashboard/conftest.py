"""Dashboard test helpers: an admin account, a signed-in client, and the CSRF token of a page."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from bantico.accounts.service import create_user
from tests.conftest import Project

PASSWORD = "correct horse battery"
EMAIL = "founder@example.com"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: Response) -> str:
    match = CSRF.search(response.text)
    assert match, f"no CSRF field on {response.url}"
    return match.group(1)


def post_form(client: TestClient, page: str, action: str | None = None, **fields: str) -> Response:
    """Open `page`, then send its form (to `action`, default the page) as a browser would."""
    token = csrf_of(client.get(page))
    return client.post(action or page, data={"csrf_token": token, **fields}, follow_redirects=False)


def log_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> Response:
    return post_form(client, "/login", email=email, password=password)


@dataclass
class Admin:
    email: str
    password: str


@pytest.fixture
def admin(session: Session) -> Admin:
    create_user(session, EMAIL, PASSWORD)
    session.commit()
    return Admin(EMAIL, PASSWORD)


@pytest.fixture
def signed_in(client: TestClient, admin: Admin, project: Project) -> TestClient:
    """`client`, logged in as the admin, with one project."""
    response = log_in(client)
    assert response.status_code == 303, response.text
    return client
