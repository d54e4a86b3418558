"""Typed request dependencies: one database transaction per request, and the two credentials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.kit.errors import Unauthorized
from bantico.projects.models import Project
from bantico.projects.service import project_for_secret


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed when the route returns, rolled back on error."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit runs when the route returns, before the response is sent,
# so a 2xx always means the data is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def secret_key_project(request: Request, session: SessionDep) -> Project:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("send the project secret key as 'Authorization: Bearer bsk_…'")
    return project_for_secret(session, raw.strip())


ProjectDep = Annotated[Project, Depends(secret_key_project)]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def public_base_url(request: Request, settings: Settings) -> str:
    return settings.public_url or str(request.base_url).rstrip("/")
