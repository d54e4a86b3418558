"""Project settings: validation in plain words, and secret keys."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bantico.projects.models import Project as ProjectRow
from tests.conftest import Project
from tests.dashboard.conftest import csrf_of, post_form

GOOD = {
    "name": "Acme Pro",
    "pricing_path": "/plans",
    "attribution_window_days": "45",
    "gpc": "ignore",
}


def test_settings_are_saved(signed_in: TestClient, project: Project, session: Session) -> None:
    url = f"/app/p/{project.id}/settings"
    page = signed_in.get(url)
    assert 'value="/pricing"' in page.text and 'value="30"' in page.text
    assert 'value="honour" checked' in page.text
    response = post_form(signed_in, url, **GOOD)
    assert response.status_code == 303
    assert "Settings saved." in signed_in.get(url).text
    row = session.get(ProjectRow, project.id)
    assert row is not None
    session.refresh(row)
    assert (row.name, row.pricing_path, row.attribution_window_days, row.honour_gpc) == (
        "Acme Pro",
        "/plans",
        45,
        False,
    )
    config = signed_in.get(f"/api/config?token={project.token}").json()
    assert (config["pricingPath"], config["honourGpc"], config["windowDays"]) == (
        "/plans",
        False,
        45,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Give the project a name."),
        ("name", "x" * 201, "Use at most 200 characters."),
        ("pricing_path", "pricing", "Enter a path on your site that starts with /"),
        ("pricing_path", "/pricing?x=1", "Enter a path on your site that starts with /"),
        ("attribution_window_days", "0", "Enter a whole number of days from 1 to 365."),
        ("attribution_window_days", "366", "Enter a whole number of days from 1 to 365."),
        ("attribution_window_days", "thirty", "Enter a whole number of days from 1 to 365."),
        ("attribution_window_days", "1.5", "Enter a whole number of days from 1 to 365."),
        ("gpc", "maybe", "Choose whether to honour Global Privacy Control."),
    ],
)
def test_invalid_settings_are_explained_next_to_the_field(
    signed_in: TestClient,
    project: Project,
    session: Session,
    field: str,
    value: str,
    message: str,
) -> None:
    url = f"/app/p/{project.id}/settings"
    response = post_form(signed_in, url, **{**GOOD, field: value})
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="f-{field}-error">([^<]+)</p>', response.text)
    assert error is not None and error.group(1).startswith(message)
    assert re.search(rf'aria-describedby="[^"]*f-{field}-error"', response.text)
    row = session.get(ProjectRow, project.id)
    assert row is not None and row.name == "Acme"


def test_secret_keys_create_list_revoke(signed_in: TestClient, project: Project) -> None:
    url = f"/app/p/{project.id}/settings"
    created = post_form(signed_in, url, f"{url}/keys")
    assert created.status_code == 201
    key = re.search(r'id="new-secret-key" tabindex="0"><code>(bsk_\w+)</code>', created.text)
    assert key is not None
    raw = key.group(1)
    headers = {"Authorization": f"Bearer {raw}"}
    assert signed_in.get("/api/v1/links", headers=headers).status_code == 200
    listing = signed_in.get(url).text
    assert raw not in listing  # shown once
    assert f"bsk_…{raw[-4:]}" in listing
    key_id = re.search(rf'settings/keys/(key_\w+)/revoke"[^>]*{raw[-4:]}', listing)
    assert key_id is not None
    revoked = post_form(signed_in, url, f"{url}/keys/{key_id.group(1)}/revoke")
    assert revoked.status_code == 303
    page = signed_in.get(url).text
    assert f"Revoked the key ending in {raw[-4:]}." in page
    assert signed_in.get("/api/v1/links", headers=headers).status_code == 401
    # the project's other key still works
    assert signed_in.get("/api/v1/links", headers=project.headers).status_code == 200


def test_keys_of_another_project_cannot_be_revoked(
    signed_in: TestClient, project: Project, session: Session
) -> None:
    from tests.factories import make_project

    other = make_project(session, name="Other")
    session.commit()
    token = csrf_of(signed_in.get(f"/app/p/{project.id}/settings"))
    from sqlalchemy import select

    from bantico.projects.models import SecretKey

    key_id = session.execute(
        select(SecretKey.id).where(SecretKey.project_id == other.project.id)
    ).scalar_one()
    response = signed_in.post(
        f"/app/p/{project.id}/settings/keys/{key_id}/revoke", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert (
        signed_in.get(
            "/api/v1/links", headers={"Authorization": f"Bearer {other.secret_key}"}
        ).status_code
        == 200
    )
