"""Real-browser fixtures: Bantico served by uvicorn, a destination site on another origin, and
Debian's Chromium driven by Playwright (never a downloaded browser).

Bantico listens on http://127.0.0.1:<port>; the founder's site on http://localhost:<port>, a
different host name and so a different origin with its own cookies, as in production.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from bantico.app import create_app
from bantico.config import Settings
from bantico.db import make_sessionmaker
from bantico.projects.models import Project
from tests.factories import make_project
from tests.support.browser import USER_AGENT

SITE_DIR = Path(__file__).parent / "site"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn in a daemon thread, started and stopped with the fixture."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            ws="none",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def bantico_url(engine: Engine, database_url: str) -> Iterator[str]:
    """The real Bantico app, on the test database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, public_url=url, report_rollup_interval_seconds=0)
    app = create_app(settings, engine=engine)
    with ServerThread(app, port):
        yield url


@dataclass
class Site:
    """The founder's site. Pages are HTML files in site/, with {{TOKEN}} and {{BANTICO}}
    filled in at request time, so each test points the same pages at its own project."""

    url: str
    bantico: str
    token: str = "unset"

    def render(self, request: Request) -> Response:
        path = request.url.path.strip("/")
        name = path.split("/")[0] or "index"  # /app/settings is the app page too
        page = SITE_DIR / f"{name}.html"
        if not name.replace("-", "").isalnum() or not page.is_file():
            return PlainTextResponse("not found", status_code=404)
        html = page.read_text().replace("{{TOKEN}}", self.token)
        return HTMLResponse(
            html.replace("{{BANTICO}}", self.bantico), headers={"Cache-Control": "no-store"}
        )


@pytest.fixture(scope="session")
def site_server(bantico_url: str) -> Iterator[Site]:
    port = free_port()
    site = Site(url=f"http://localhost:{port}", bantico=bantico_url)
    app = Starlette(routes=[Route("/{path:path}", site.render)])
    with ServerThread(app, port):
        yield site


@pytest.fixture
def site(site_server: Site, project: Project) -> Iterator[Site]:
    site_server.token = project.token
    yield site_server
    site_server.token = "unset"


@pytest.fixture
def project(session: Session) -> Project:
    """A committed project (the tables are emptied after every test)."""
    created = make_project(session)
    session.commit()
    return created.project


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookies, no HTTP cache."""
    context = browser.new_context(user_agent=USER_AGENT)
    context.set_default_timeout(5000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class Db:
    """Reads with a fresh session each time: the server commits from its own thread."""

    def __init__(self, engine: Engine) -> None:
        self.sessionmaker = make_sessionmaker(engine)

    def all(self, model: type[T], *where: Any) -> list[T]:
        with self.sessionmaker() as session:
            statement = select(model).where(*where)
            return list(session.execute(statement.order_by(*_order(model))).scalars())

    def wait(self, model: type[T], *where: Any, count: int = 1, timeout: float = 5.0) -> list[T]:
        """Poll until at least `count` rows match (events are sent asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.all(model, *where)
            if len(rows) >= count or time.monotonic() > deadline:
                assert len(rows) >= count, f"expected {count} {model.__name__} rows, got {rows}"
                return rows
            time.sleep(0.03)


def _order(model: Any) -> list[Any]:
    return [model.id] if hasattr(model, "id") else []


@pytest.fixture
def db(engine: Engine) -> Db:
    return Db(engine)


def cookies_by_name(context: BrowserContext, url: str) -> dict[str, Any]:
    return {cookie["name"]: cookie for cookie in context.cookies(url)}
