"""Shared pieces of the `bantico` command: the console, common options, one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings, get_settings
from bantico.db import make_engine, make_sessionmaker, migrate, session_scope
from bantico.kit.errors import BanticoError
from bantico.projects import service as project_service
from bantico.projects.models import Project

console = Console(soft_wrap=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="Project id (default: the first project).")
]


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@contextmanager
def database_factory(settings: Settings | None = None) -> Iterator[sessionmaker[Session]]:
    """A migrated database for one command; expected errors end it with a plain message."""
    engine = make_engine((settings or get_settings()).database_url)
    migrate(engine)
    try:
        yield make_sessionmaker(engine)
    except BanticoError as error:
        raise fail(error.message) from None
    finally:
        engine.dispose()


@contextmanager
def database() -> Iterator[Session]:
    with database_factory() as factory, session_scope(factory) as session:
        yield session


def pick_project(session: Session, project_id: str | None) -> Project:
    if project_id:
        return project_service.get_project(session, project_id)
    project = project_service.first_project(session)
    if project is None:
        raise BanticoError("no project yet; run `bantico project create NAME`")
    return project
