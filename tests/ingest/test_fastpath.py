"""The fast path is proven, not claimed: every case of the two busiest endpoints answered in
front of the routing (bantico/ingest/fastpath.py) and by the documented FastAPI route (the same app
with its fast routes removed) gets the same status, headers and body, and stores the same rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bantico.app import create_app
from bantico.config import Settings
from bantico.models import Base
from bantico.tracking.models import Event
from tests.factories import make_link, make_project

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
VARYING = re.compile(r"(clk|lnk|prj|tok)_[A-Za-z0-9]+")


def loader(token: str, **fields: Any) -> dict[str, Any]:
    body = {
        "token": token,
        "name": "page_view",
        "visitorId": "v_visitor0001",
        "sessionId": "s_session0001",
        "url": "https://shop.example/?utm_source=x",
    }
    return {**body, **fields}


Case = Callable[[TestClient, dict[str, str]], Response]
CASES: dict[str, Case] = {
    "click by a person": lambda c, s: c.get("/l/spring", headers={"User-Agent": BROWSER}),
    "click by an unfurler": lambda c, s: c.get("/l/spring", headers={"User-Agent": SLACK}),
    "click without a user agent": lambda c, s: c.get("/l/spring", headers={"User-Agent": ""}),
    "HEAD": lambda c, s: c.head("/l/spring", headers={"User-Agent": BROWSER}),
    "unknown key": lambda c, s: c.get("/l/nope", headers={"User-Agent": BROWSER}),
    "destination with a query": lambda c, s: c.get("/l/query", headers={"User-Agent": BROWSER}),
    "page view": lambda c, s: c.post("/api/collect", content=json.dumps(loader(s["token"]))),
    "page view from a click": lambda c, s: c.post(
        "/api/collect",
        content=json.dumps(loader(s["token"], clickId="clk_unknown0000001", linkId=s["link"])),
    ),
    "identify": lambda c, s: c.post(
        "/api/collect",
        content=json.dumps(loader(s["token"], name="identify", user={"email": "a@b.co"})),
    ),
    "unknown token": lambda c, s: c.post("/api/collect", content=json.dumps(loader("tok_nope"))),
    "not JSON": lambda c, s: c.post("/api/collect", content=b"{nope"),
    "NaN": lambda c, s: c.post("/api/collect", content=b'{"token": NaN}'),
    "wrong types": lambda c, s: c.post("/api/collect", content=json.dumps({"token": 1})),
    "empty body": lambda c, s: c.post("/api/collect", content=b""),
    "oversized body": lambda c, s: c.post("/api/collect", content=b"x" * 70_000),
    "as JSON": lambda c, s: c.post("/api/collect", json=loader(s["token"])),
}


def seed(session: Session) -> dict[str, str]:
    project = make_project(session).project
    link = make_link(session, project_id=project.id, key="spring")
    make_link(
        session,
        project_id=project.id,
        key="query",
        destination_url="https://shop.example/p?a=1&utm_source=mine",
    )
    session.commit()
    return {"token": project.token, "link": link.id}


def empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def routed_only(app: FastAPI) -> FastAPI:
    app.state.fast_routes.exact.clear()  # the fast path's table, shared with its middleware
    app.state.fast_routes.prefixes.clear()
    return app


def answer(response: Response, seeded: dict[str, str]) -> tuple[int, list[tuple[str, str]], str]:
    def same(text: str) -> str:
        for name, value in seeded.items():
            text = text.replace(value, f"<{name}>")
        return VARYING.sub(r"\1_*", text)

    headers = sorted((k, same(v)) for k, v in response.headers.items() if k != "date")
    return response.status_code, headers, same(response.text)


def stored(session: Session, seeded: dict[str, str]) -> list[tuple[Any, ...]]:
    session.expire_all()
    events = session.execute(select(Event).order_by(Event.id)).scalars()
    link = seeded["link"]
    return [(e.name, e.is_bot, e.link_id == link, e.source, e.url, e.props) for e in events]


@pytest.mark.parametrize("case", CASES)
def test_the_fast_path_answers_exactly_as_the_documented_route(
    case: str, settings: Settings, engine: Engine, session: Session
) -> None:
    results = []
    for make in (
        lambda: create_app(settings, engine),
        lambda: routed_only(create_app(settings, engine)),
    ):
        empty(engine)
        seeded = seed(session)
        with TestClient(make(), raise_server_exceptions=False) as client:
            client.cookies.clear()
            response = CASES[case](client, seeded)
        results.append((answer(response, seeded), stored(session, seeded)))
    (fast, fast_rows), (routed, routed_rows) = results
    assert fast == routed
    assert fast_rows == routed_rows
    assert fast[0] < 500


def test_the_comparison_sees_a_difference() -> None:
    """The normalisation keeps what matters: another status or body is a difference."""
    seeded = {"token": "tok_a"}
    one = answer(Response(302, headers={"location": "/x?bantico_click=clk_1"}), seeded)
    two = answer(Response(302, headers={"location": "/y?bantico_click=clk_2"}), seeded)
    assert one != two
    assert answer(Response(200, text="clk_1"), seeded) == answer(
        Response(200, text="clk_2"), seeded
    )
