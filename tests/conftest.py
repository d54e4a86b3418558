"""Test database set-up: SQLite by default, PostgreSQL when BANTICO_TEST_DATABASE_URL says so.

The schema is built once per run by the real migrations; every test starts from empty tables.
Tests that need a server in another thread (the browser tests) see committed rows, which is why
tables are emptied between tests rather than each test rolled back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from bantico.app import create_app
from bantico.config import Settings
from bantico.db import make_engine, make_sessionmaker, migrate
from bantico.models import Base
from bantico.wiring import connect_hooks
from tests.factories import make_project

pytest_plugins = ["tests.support.dodo", "tests.support.browser", "tests.fuzz.plugin"]

connect_hooks()  # as every entry point does: services used directly react as in the app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """A temporary SQLite file (one per xdist worker: tmp_path_factory is per worker), or the
    PostgreSQL database named by BANTICO_TEST_DATABASE_URL; an xdist worker gets its own
    database beside it, `<name>_<worker>`, created when missing (the suite drops its schema)."""
    url = os.environ.get("BANTICO_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if worker_id == "master":
        return url
    return _worker_database(url, worker_id)


def _worker_database(url: str, worker_id: str) -> str:
    base = make_url(url)
    name = f"{base.database}_{worker_id}"
    server = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://bnt.example",
        secret_key="test-secret-key-not-for-production",
        dodo_sync_interval_seconds=0,
        report_rollup_interval_seconds=0,
        # Dodo's Tier 2 (docs/dodo.md §1), which the emulator of the Dodo tests also enforces;
        # the tests of the rate limit itself use Tier 0.
        dodo_rate_per_minute=5000,
        dodo_rate_burst=500,
    )


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


class Project:
    """A committed project with its credentials, and a client that sends its secret key."""

    def __init__(self, client: TestClient, id: str, token: str, secret_key: str) -> None:
        self.client, self.id, self.token, self.secret_key = client, id, token, secret_key
        self.headers = {"Authorization": f"Bearer {secret_key}"}


@pytest.fixture
def project(client: TestClient, session: Session) -> Project:
    created = make_project(session)
    session.commit()
    return Project(client, created.project.id, created.project.token, created.secret_key)


def pytest_report_header() -> str:
    return f"database: {os.environ.get('BANTICO_TEST_DATABASE_URL', 'sqlite (temporary file)')}"


ROOT = Path(__file__).parent.parent
