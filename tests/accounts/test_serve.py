"""`bantico serve` prints the one-time setup link while there is no admin."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner
from uvicorn.importer import import_from_string

from bantico.accounts.service import create_user
from bantico.cli import app
from bantico.config import get_settings


@pytest.fixture
def served(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str
) -> Iterator[list[Any]]:
    """Run `serve` without starting a server: the app it would run is captured."""
    monkeypatch.setenv("BANTICO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANTICO_PUBLIC_URL", "https://go.example")
    monkeypatch.setenv("BANTICO_SECRET_KEY", "serve-test-secret-key")
    monkeypatch.setenv("BANTICO_DODO_SYNC_INTERVAL_SECONDS", "0")
    apps: list[Any] = []

    def run(target: str, **options: Any) -> None:  # `serve` names a factory, as for workers
        assert options["factory"] is True and options["workers"] == 1
        apps.append(import_from_string(target)())

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # not in the test process
    get_settings.cache_clear()
    yield apps
    get_settings.cache_clear()


def serve() -> str:
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    return result.output


def test_serve_prints_a_setup_link_that_works_once(served: list[Any]) -> None:
    output = serve()
    match = re.search(r"https://go\.example/setup\?token=([\w-]+)", output)
    assert match, output
    # The install snippet as the README and the Install page give it.
    assert '<script src="https://go.example/bantico.js" defer></script>' in output
    second = re.search(r"/setup\?token=([\w-]+)", serve())
    assert second and second.group(1) != match.group(1)
    with TestClient(served[-1]) as client:
        assert client.get(f"/setup?token={match.group(1)}").status_code == 403  # replaced
        assert client.get(f"/setup?token={second.group(1)}").status_code == 200


def test_no_setup_link_once_there_is_an_admin(served: list[Any], session: Session) -> None:
    create_user(session, "a@b.co", "correct horse battery")
    session.commit()
    output = serve()
    assert "/setup?token=" not in output
    assert "dashboard  https://go.example/app" in output
