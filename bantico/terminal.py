"""Shared pieces of the `bantico` command: the console, common options, one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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


RELATIVE_DAYS = re.compile(r"^(\d{1,5})d$")


def parse_when(value: str | None, option: str) -> datetime | None:
    """A time given on the command line: a date (2026-01-31) or ISO time, `today` or
    `yesterday` (midnight UTC), or `30d` (30 days ago). A bad value ends the command with a
    message that names `option`."""
    if value is None:
        return None
    text = value.strip().lower()
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if text in ("today", "yesterday"):
        return midnight - timedelta(days=text == "yesterday")
    if match := RELATIVE_DAYS.match(text):
        return datetime.now(UTC) - timedelta(days=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail(
            f"{option} {value!r}: use a date like 2026-01-31, an ISO time, today, yesterday "
            "or a number of days ago like 30d",
            2,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
