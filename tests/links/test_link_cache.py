"""Redirects read links from a per-process copy: a change must be followed at once by the process
that made it and within a second by every other process sharing the database
(bantico/ingest/cache_versions.py)."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bantico.db import dialect_insert
from bantico.ingest import cache_versions
from bantico.ingest.cache_versions import CacheVersion
from bantico.ingest.group_commit import group_commit
from bantico.projects.models import Project as ProjectRow
from tests.conftest import Project
from tests.factories import make_link

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def destination(project: Project, key: str) -> str | int:
    response = project.client.get(
        f"/l/{key}", headers={"User-Agent": BROWSER}, follow_redirects=False
    )
    if response.status_code != 302:
        return response.status_code
    return response.headers["location"].split("?")[0]


@pytest.fixture
def link_id(project: Project, session: Session) -> str:
    link = make_link(
        session, project_id=project.id, key="spring", destination_url="https://a.example/"
    )
    session.commit()
    return link.id


def test_an_edit_through_this_process_is_followed_at_once(project: Project, link_id: str) -> None:
    assert destination(project, "spring") == "https://a.example/"  # now a copy is kept
    edited = project.client.patch(
        f"/api/v1/links/{link_id}",
        headers=project.headers,
        json={"destinationUrl": "https://b.example/"},
    )
    assert edited.status_code == 200, edited.text
    assert destination(project, "spring") == "https://b.example/"

    renamed = project.client.patch(
        f"/api/v1/links/{link_id}", headers=project.headers, json={"key": "summer"}
    )
    assert renamed.status_code == 200, renamed.text
    assert destination(project, "spring") == 404
    assert destination(project, "summer") == "https://b.example/"


def test_an_edit_by_another_process_is_followed_within_a_second(
    project: Project, link_id: str, engine: Engine, session: Session
) -> None:
    """Another process: the row and the count change in the database, nothing in this one."""
    assert destination(project, "spring") == "https://a.example/"
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE links SET destination_url = 'https://c.example/' WHERE id = :id"),
            {"id": link_id},
        )
        connection.execute(
            dialect_insert(session, cache_versions.CacheVersion)
            .values(name=cache_versions.LINKS, version=1_000)
            .on_conflict_do_update(index_elements=["name"], set_={"version": 1_000})
        )
    changed_at = time.monotonic()
    while destination(project, "spring") != "https://c.example/":
        assert time.monotonic() - changed_at < 1.0, "another process's edit still not followed"
        time.sleep(0.05)


def test_copies_last_while_nothing_changes(project: Project, link_id: str, engine: Engine) -> None:
    """The copy is used: a change behind Bantico's back (no count) is not seen for now."""
    assert destination(project, "spring") == "https://a.example/"
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE links SET destination_url = 'https://d.example/' WHERE id = :id"),
            {"id": link_id},
        )
    time.sleep(cache_versions.CHECK_SECONDS + 0.1)
    assert destination(project, "spring") == "https://a.example/"


def test_a_project_change_makes_the_loaders_copy_stale(
    project: Project, session: Session, app: FastAPI
) -> None:
    """`/api/collect` keeps projects by token; a settings change (through the ORM, as the
    dashboard makes it) makes the copies stale, here and, by the count, elsewhere."""
    body = {"token": project.token, "name": "page_view", "url": "https://shop.example/"}
    body |= {"visitorId": "v_visitor0001", "sessionId": "s_session0001"}
    assert project.client.post("/api/collect", json=body).status_code == 200
    copies = group_commit(app.state.sessionmaker).cache("projects-by-token")
    assert copies.get(project.token) is not None
    before = session.get(CacheVersion, cache_versions.PROJECTS)

    row = session.get(ProjectRow, project.id)
    assert row is not None
    row.attribution_window_days = 7
    session.commit()
    assert copies.get(project.token) is None
    session.expire_all()
    counted = session.get(CacheVersion, cache_versions.PROJECTS)
    assert counted is not None and counted.version == (before.version if before else 0) + 1
