"""Project isolation: nothing of another project reaches a project's API answers or pages.

Two projects hold a distinctive row of every kind (tests/projects/scene.py). With one of them
(the viewer) selected in the dashboard and with its secret key:

- its reports, links, payments (with their attribution traces) and diagnostics read the same
  before the other project has any history, with it, and with it rolled up;
- every route of the app is called (tests/projects/api_cases.py, page_cases.py): listings and
  reports with their filters, CSV exports, and every route that takes an id, with the viewer's
  ids (answered) and with the other project's (refused exactly as an id that does not exist),
  writes included. No answer shows the other's marker or ids, and the other's rows stay as they
  were (tests/projects/walk.py).

Both ways: the viewer is created first, then second. The routes are enumerated from the app:
one without a case, or an exemption with its reason, fails `test_every_route_has_a_case`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bantico.accounts.service import create_user
from bantico.config import Settings
from tests.dashboard.conftest import EMAIL, PASSWORD, log_in
from tests.projects.api_cases import API_CASES, API_EXEMPT, DIMENSIONS, api_send
from tests.projects.page_cases import PAGE_CASES, PAGE_EXEMPT, page_send
from tests.projects.scene import Scene, build, new_shop
from tests.projects.walk import Walker, dates, forbidden_of, walk

UNREACHABLE = "http://127.0.0.1:9"  # Dodo's hosts refuse at once: the probes say "unverified"
STAGES = ["viewer", "other unrolled", "other rolled up"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dodo_test_url": UNREACHABLE, "dodo_live_url": UNREACHABLE})


@pytest.fixture(params=["viewer created first", "viewer created second"])
def scene(
    request: pytest.FixtureRequest,
    client: TestClient,
    session: Session,
    settings: Settings,
    engine: Engine,
) -> Scene:
    """Both shops, built, with the viewer's numbers read at each stage of the build."""
    first = new_shop(session, client, "amarker", "First shop")
    second = new_shop(session, client, "bmarker", "Second shop")
    viewer, other = (first, second) if request.param == "viewer created first" else (second, first)
    scene = Scene(viewer, other, session, settings, engine)
    span = dates()  # once: the same days at every stage, even across midnight
    build(scene, lambda stage: scene.seen.update({stage: numbers(scene, client, span)}))
    return scene


def numbers(scene: Scene, client: TestClient, span: str) -> dict[str, Any]:
    """The viewer's reports, links, payments (each with its trace) and diagnostics."""
    urls = [
        *(f"/api/v1/reports/attribution?groupBy={g}&{span}" for g in DIMENSIONS),
        *(f"/api/v1/reports/attribution?model={m}&{span}" for m in ("first_touch", "linear")),
        *(f"/api/v1/reports/{name}?{span}" for name in ("timeseries", "funnel")),
        f"/api/v1/reports/funnel?linkId={scene.viewer.links['main']}&{span}",
        "/api/v1/links?includeArchived=true",
        "/api/v1/payments",
        "/api/v1/payments?mode=test",
        "/api/v1/diagnostics",
        *(f"/api/v1/payments/{pay}" for pay in scene.viewer.payments),
    ]
    return {url: client.get(url, headers=scene.viewer.project.headers).json() for url in urls}


def test_another_project_reaches_none_of_the_viewers_answers(
    scene: Scene, client: TestClient, session: Session
) -> None:
    """One build, two checks: the viewer's numbers never moved, and no route shows the other
    project's rows."""
    assert_no_number_moved(scene)
    create_user(session, EMAIL, PASSWORD)
    session.commit()
    assert log_in(client).status_code == 303
    api = forbidden_of(scene, with_project_id=True)
    # Every admin sees every project: the switcher shows the other's id.
    pages = forbidden_of(scene, with_project_id=False)
    walkers = [
        # The API's writes first: they disconnect the viewer's Dodo integration, which the
        # pages' writes then find gone.
        Walker(API_CASES, api_send(scene, client), api),
        Walker(PAGE_CASES, page_send(client, pages), pages),
    ]
    assert walk(scene, walkers) > 150


def assert_no_number_moved(scene: Scene) -> None:
    """The other's history includes an identify, a campaign and a link change that would
    re-attribute the viewer's payments if they reached them (bantico/attribution/late.py)."""
    assert list(scene.seen) == STAGES
    viewer_only, unrolled, rolled_up = (scene.seen[stage] for stage in STAGES)
    assert viewer_only == unrolled, "the other's history moved the viewer's numbers"
    assert viewer_only == rolled_up, "the other's rolled-up history moved the viewer's numbers"
    links = viewer_only["/api/v1/links?includeArchived=true"]["items"]
    assert [link["clicks"] for link in links] == [1, 1, 1]  # the viewer's own numbers are there


# Every route has a case


def routes(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path, whether it is a dashboard page) for every route of the app."""
    for route in iter_route_contexts(app.routes):
        methods = route.methods or set()
        module = getattr(route.endpoint, "__module__", "")
        for method in methods:
            if method != "HEAD" or methods == {"HEAD"}:  # Starlette adds HEAD to GET routes
                yield method, str(route.path), module.startswith("bantico.dashboard")


def test_every_route_has_a_case(app: FastAPI) -> None:
    found = {(method, path): is_page for method, path, is_page in routes(app)}
    api = {route for route, is_page in found.items() if not is_page}
    pages = {route for route, is_page in found.items() if is_page}
    assert sorted(api - set(API_CASES) - set(API_EXEMPT)) == [], "API routes without a case"
    assert sorted(pages - set(PAGE_CASES) - set(PAGE_EXEMPT)) == [], "pages without a case"
    assert sorted({*API_CASES, *API_EXEMPT} - api) == [], "cases of routes that are gone"
    assert sorted({*PAGE_CASES, *PAGE_EXEMPT} - pages) == [], "cases of pages that are gone"
    assert not set(API_CASES) & set(API_EXEMPT) and not set(PAGE_CASES) & set(PAGE_EXEMPT)
