"""`generate_history`: a realistic past for a project, made through Bantico's real endpoints and
the Dodo emulator, so that reports, the funnel and payment explanations all have something to
show. Only the clock is faked: see `visitors.Warp` and `sales.set_clock`."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bantico.db import session_scope
from bantico.demo import shop
from bantico.demo.plan import Plan, make_plan
from bantico.demo.sales import Till, add_products
from bantico.demo.visitors import Browser, DemoFailed, Warp, now
from bantico.integrations.dodo.models import DodoIntegration
from bantico.links.models import Campaign, Lead, Link
from bantico.projects.models import Project
from bantico_emulators.dodo.state import LIVE_KEY, TEST_KEY, EmulatorState

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoProject:
    id: str
    token: str
    secret_key: str


@dataclass
class History:
    plan: Plan
    link_ids: dict[str, str]  # channel name → link id
    payments: dict[str, str] = field(default_factory=dict)  # sale ref → Dodo payment id
    seconds: float = 0.0


class Api:
    """Bantico's JSON API with the project's secret key, as a founder's script would call it."""

    def __init__(self, http: httpx.Client, secret_key: str) -> None:
        self.http, self.headers = http, {"authorization": f"Bearer {secret_key}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body, headers=self.headers)
        if response.status_code >= 400:
            message = f"{method} {path} answered {response.status_code}: {response.text}"
            raise DemoFailed(message, response.status_code)
        return response.json()


def _create_links(api: Api) -> tuple[dict[str, str], dict[str, str]]:
    ids, keys = {}, {}
    for channel in shop.LINKS:
        assert channel.labels is not None
        campaign, source, medium, content, lead = channel.labels
        body = {
            "destinationUrl": channel.destination,
            "campaignId": campaign,
            "source": source,
            "medium": medium,
            "content": content,
            "leadId": lead,
            "key": channel.name,
        }
        try:
            link = api.call("POST", "/api/v1/links", body)
        except DemoFailed as error:
            if error.status != 409:
                raise
            # The readable key is taken in this database: let Bantico pick one.
            link = api.call("POST", "/api/v1/links", {**body, "key": None})
        ids[channel.name], keys[channel.name] = link["id"], link["key"]
    return ids, keys


def _backdate(session: Session, project_id: str, moment: datetime) -> None:
    """The project and its links existed before the history began."""
    session.execute(update(Project).where(Project.id == project_id).values(created_at=moment))
    for model in (Campaign, Lead):
        session.execute(
            update(model).where(model.project_id == project_id).values(created_at=moment)
        )
    session.execute(
        update(Link)
        .where(Link.project_id == project_id)
        .values(created_at=moment, updated_at=moment)
    )


def _replay(browsers: list[Browser], workers: int) -> None:
    if workers <= 1:
        for browser in browsers:
            browser.replay()
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="demo-visitor") as pool:
        for _ in pool.map(Browser.replay, browsers):
            pass


def generate_history(
    factory: sessionmaker[Session],
    http: httpx.Client,
    emulator: EmulatorState,
    project: DemoProject,
    *,
    visitors: int = 500,
    days: int = 60,
    seed: int = 2026,
    workers: int = 1,
    say: Say | None = None,
) -> History:
    """Give `project` a past of `days` days with about `visitors` visitors.

    `http` reaches the Bantico app (its base URL set), which must be served where the emulator
    can deliver webhooks (`public_url`) and use the emulator as its Dodo. Along the way the
    project connects Dodo in test mode, pays twice, then switches to the live key, so its
    reports open on live data. `workers` replays that many visitors at once (a real HTTP
    client; keep 1 for a `TestClient`)."""
    started = time.monotonic()
    report = say or (lambda _: None)
    plan = make_plan(visitors=visitors, days=days, seed=seed, now=now())
    api = Api(http, project.secret_key)
    add_products(emulator)
    link_ids, link_keys = _create_links(api)
    history = History(plan, link_ids)
    with session_scope(factory) as session:
        _backdate(session, project.id, plan.start - timedelta(days=2))
        found = session.get(Project, project.id)
        window = timedelta(days=found.attribution_window_days if found else 30)

    report("test purchases (test mode)")
    api.call("PUT", "/api/v1/integrations/dodo", {"apiKey": TEST_KEY})
    test_till = Till(emulator, {}, link_ids)
    test_till.ring_up(plan.ledger("test"))
    # Then the live key, as a founder does on launch day: reports default to live mode, and the
    # test payments stay apart from it.
    api.call("PUT", "/api/v1/integrations/dodo", {"apiKey": LIVE_KEY})

    report(f"{len(plan.visitors)} visitors")
    warp = Warp()
    browsers = {
        v.id: Browser(http, project.token, warp, v, link_keys, window) for v in plan.visitors
    }
    since = now()
    _replay(list(browsers.values()), workers)
    with session_scope(factory) as session:
        warp.apply(session, project.id, since)

    live = plan.ledger("live")
    report(f"{len(live)} payments, renewals, refunds and disputes (live mode)")
    till = Till(emulator, browsers, link_ids)
    till.ring_up(live)

    since = now()
    for visitor, step in plan.late_identifies:
        browsers[visitor.id].step(step)
    with session_scope(factory) as session:
        warp.apply(session, project.id, since)
        integration = session.get(DodoIntegration, project.id)
        if integration is not None:
            integration.connected_at = plan.start + timedelta(hours=6)
    history.payments = {**test_till.payments, **till.payments}
    history.seconds = time.monotonic() - started
    return history
