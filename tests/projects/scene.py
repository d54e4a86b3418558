"""Two projects side by side, each with a distinctive row of every kind, for the isolation walks.

Every text a shop stores carries its marker (`amarker-…` or `bmarker-…`): link keys,
destinations, campaigns, sources, media, contents, leads, visitor and session ids, page URLs,
referrers, event names and properties, identify traits, customers, Dodo payment, refund, dispute,
subscription and webhook ids, the webhook URL. Its random ids (link, click and key ids, the
token, the secret key) are listed by `Shop.secrets()`.

The viewer also names ids of the other shop, as a visitor or a checkout might by mistake: the
other's `xref` link (in a context, a landing and a payment's metadata) and a click on it. Those
two ids are the viewer's own input, so its pages may show them; nothing else of the other shop
(not even that link's key or campaign) may appear. And both shops hold unmarked values in
common (`SHARED_*`: one Dodo payment id, a subscription, a customer, a visitor id), as two
projects connected to one Dodo account would.

Order (`build`): the other's links; the viewer's history, rolled up; the other's history and
its side of what is shared (read from `events`, then rolled up); the viewer's payments that
only the other's rows could attribute; a visit today in each shop (a partial day, read from
`events`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.dashboard import jobs
from bantico.dashboard.models import DashboardJob
from bantico.db import utcnow
from bantico.links.models import Campaign, Lead
from bantico.links.service import archive_link
from bantico.models import Base
from bantico.projects.models import Project as ProjectRow
from bantico.projects.models import SecretKey
from bantico.projects.service import create_secret_key, hash_secret
from bantico.reports import rollup
from bantico.tracking.models import Event, Touch, Visitor, VisitSession
from tests.attribution.journeys import BROWSER, Browser, pay
from tests.conftest import Project
from tests.factories import make_link, make_project
from tests.integrations.dodo import support

BOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
DAYS_AGO = 2  # the history's age: whole days, which the rollup answers once caught up
# Columns another project may change on purpose: anyone can post to a project's webhook URL,
# and a failed signature is counted on that project (bantico/integrations/dodo/failures.py).
MAY_CHANGE = {"dodo_integrations": {"webhook_failures", "last_webhook_failure_at"}}


@dataclass
class Shop:
    """One project: its credentials, its marker and the ids of its rows."""

    marker: str
    project: Project
    webhook_secret: str = field(default_factory=support.new_secret)
    links: dict[str, str] = field(default_factory=dict)  # role -> link id
    clicks: list[str] = field(default_factory=list)
    xref_click: str = ""
    payments: list[str] = field(default_factory=list)  # Dodo payment ids, both modes
    alone: list[str] = field(default_factory=list)  # those only the other could attribute

    @property
    def client(self) -> TestClient:
        return self.project.client

    def text(self, name: str) -> str:
        return f"{self.marker}-{name}"

    def key(self, role: str) -> str:
        return self.text(f"{role}-key")

    def visitor(self, n: int) -> str:
        return f"v_{self.marker}_visitor{n}"

    def email(self, who: str) -> str:
        return f"{self.text(who)}@example.com"

    def customer(self, who: str) -> dict[str, str]:
        return {"customer_id": f"cus_{self.marker}_{who}", "email": self.email(who), "name": who}

    def secrets(self, session: Session) -> set[str]:
        """Its random ids, which carry no marker: none may reach another project's answers
        (the `xref` link and click are left out: the other project names them itself)."""
        keys = session.execute(
            select(SecretKey.id).where(SecretKey.project_id == self.project.id)
        ).scalars()
        links = {id for role, id in self.links.items() if role != "xref"}
        return {self.project.token, self.project.secret_key, *links, *self.clicks, *keys}


@dataclass
class Scene:
    viewer: Shop
    other: Shop
    session: Session
    settings: Settings
    engine: Engine
    seen: dict[str, Any] = field(default_factory=dict)  # what `build` paused to read


def new_shop(session: Session, client: TestClient, marker: str, name: str) -> Shop:
    created = make_project(session, name=name)
    session.commit()
    project = Project(client, created.project.id, created.project.token, created.secret_key)
    return Shop(marker, project)


# Links and clicks


def add_links(session: Session, shop: Shop) -> None:
    """`main` (every context field), `archived` and `xref` (the one the other shop names)."""
    for role in ("main", "archived", "xref"):
        link = make_link(
            session,
            project_id=shop.project.id,
            key=shop.key(role),
            destination_url=f"https://{shop.text(role)}.example/pricing",
            campaign_id=shop.text(f"{role}-campaign"),
            source=shop.text(f"{role}-source"),
            medium=shop.text(f"{role}-medium"),
            content=shop.text(f"{role}-content"),
            lead_id=shop.text(f"{role}-lead"),
        )
        shop.links[role] = link.id
    archive_link(session, shop.project.id, shop.links["archived"])  # its short URL still works
    session.commit()
    shop.xref_click = follow(shop, shop.key("xref"))


def follow(shop: Shop, key: str, agent: str = BROWSER) -> str:
    """Follow a short link; the click id the redirect carries."""
    response = shop.client.get(f"/l/{key}", headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code == 302, response.text
    click = parse_qs(urlsplit(response.headers["location"]).query)["bantico_click"][0]
    shop.clicks.append(click)
    return click


# Traffic: the loader's events, server-side events and identify


def visit(shop: Shop, n: int, name: str = "page_view", **fields: Any) -> Browser:
    browser = Browser(shop.project, shop.visitor(n))
    browser.session_id = f"s_{shop.marker}_session{n}"
    browser.send(
        name,
        url=f"https://{shop.text('site')}.example/pricing",
        referrer=f"https://{shop.text('referrer')}.example/",
        **fields,
    )
    return browser


def add_traffic(shop: Shop) -> None:
    """A click on `main` tied to a visitor who is identified and sends a custom event, a bot
    click, a click on `archived`, a UTM landing, a server-side signup and identify."""
    click = follow(shop, shop.key("main"))
    clicked = visit(shop, 1, clickId=click, linkId=shop.links["main"])
    clicked.send(
        "identify",
        user={"email": shop.email("buyer"), "name": shop.text("name"), "plan": shop.text("plan")},
    )
    clicked.send(f"{shop.marker}_custom", props={"note": shop.text("prop")})
    follow(shop, shop.key("main"), agent=BOT)
    follow(shop, shop.key("archived"))
    utm = {k: shop.text(f"utm-{k}") for k in ("source", "medium", "campaign", "content")}
    visit(shop, 2, utm=utm)
    server_calls(shop)


def server_calls(shop: Shop) -> None:
    headers = shop.project.headers
    events = {
        "name": "signup_completed",
        "visitorId": shop.visitor(1),
        "userId": shop.text("user"),
        "props": {"plan": shop.text("server-plan")},
    }
    identify = {
        "visitorId": shop.visitor(2),
        "email": shop.email("second"),
        "name": shop.text("second-name"),
        "traits": {"company": shop.text("company")},
    }
    for path, body in (("/api/v1/events", events), ("/api/v1/identify", identify)):
        response = shop.client.post(path, headers=headers, json=body)
        assert response.status_code == 202, response.text


def cross_traffic(viewer: Shop, other: Shop) -> None:
    """The viewer's visitor arrives with the other shop's click and link ids."""
    xref = other.links["xref"]
    visit(viewer, 3, clickId=other.xref_click, linkId=xref, context={"linkId": xref})
    response = viewer.client.post(
        "/api/v1/events",
        headers=viewer.project.headers,
        json={
            "name": "signup_started",
            "visitorId": viewer.visitor(3),
            "context": {"linkId": xref},
        },
    )
    assert response.status_code == 202, response.text


def age(session: Session, shop: Shop, days: int = DAYS_AGO) -> None:
    """Move the shop's traffic so far back by `days`."""
    delta = timedelta(days=days)
    for model, column in (
        (Event, "occurred_at"),
        (Touch, "occurred_at"),
        (VisitSession, "started_at"),
        (Visitor, "first_seen_at"),
    ):
        owned = select(model).filter_by(project_id=shop.project.id)
        for row in session.execute(owned).scalars():
            setattr(row, column, getattr(row, column) - delta)
    session.commit()


# Dodo: signed webhooks (payments, a refund, a dispute, a rejected and a waiting delivery)


def connect(session: Session, settings: Settings, shop: Shop) -> None:
    """Dodo connected in live mode with a webhook secret, a sync error and a failed sync."""
    integration = support.connect_for_webhooks(
        session, settings, shop.project.id, shop.webhook_secret, mode="live"
    )
    # No endpoint id: disconnecting then asks nothing of Dodo.
    integration.webhook_endpoint_id = None
    integration.webhook_url = f"https://{shop.text('hooks')}.example/webhooks/dodo"
    integration.last_sync_error = shop.text("sync-error")
    failed = DashboardJob(
        id=f"job_{shop.marker}",
        project_id=shop.project.id,
        kind=jobs.DODO_SYNC,
        state="failed",
        progress={},
        message=shop.text("sync-failure"),
        finished_at=utcnow(),
    )
    session.add(failed)  # "Sync now", pressed earlier
    session.commit()


def deliver(shop: Shop, event_type: str, data: dict[str, Any], name: str) -> int:
    """A webhook delivery signed with the shop's secret (id `msg_<marker>_<name>`)."""
    body = support.envelope(event_type, data)
    response = shop.client.post(
        f"/webhooks/dodo/{shop.project.id}",
        content=body,
        headers=support.headers(shop.webhook_secret, body, f"msg_{shop.marker}_{name}"),
    )
    return response.status_code


def yesterday(hours: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=1) + timedelta(hours=hours)).isoformat()


def payment(shop: Shop, name: str, metadata: dict[str, Any], who: str) -> dict[str, Any]:
    """A `payment.succeeded` payload of the shop, every id of it marked."""
    return support.payment(
        f"pay_{shop.marker}_{name}",
        metadata=metadata,
        customer=shop.customer(who),
        created_at=yesterday(),
        subscription_id=f"sub_{shop.marker}_{name}",
        checkout_session_id=f"cks_{shop.marker}_{name}",
    )


def dispute(shop: Shop, payment_id: str, name: str, status: str) -> dict[str, Any]:
    return {
        "payload_type": "Dispute",
        "dispute_id": f"dsp_{shop.marker}_{name}",
        "payment_id": payment_id,
        "business_id": support.BUSINESS,
        "created_at": yesterday(hours=2),
        "currency": "USD",
        "amount": "49.00",
        "dispute_stage": "dispute",
        "dispute_status": status,
        "reason": shop.text("dispute-reason"),
    }


def refund(shop: Shop, payment_id: str, name: str) -> dict[str, Any]:
    return support.refund(
        f"ref_{shop.marker}_{name}",
        payment_id,
        amount=1000,
        is_partial=True,
        reason=shop.text("refund-reason"),
        created_at=yesterday(hours=1),
        customer=shop.customer("buyer"),
    )


def add_payments(shop: Shop) -> None:
    """Attributed by metadata (refunded), by identify (disputed, lost), a rejected delivery and
    one waiting for Dodo."""
    context = {
        "linkId": shop.links["main"],
        "campaignId": shop.text("checkout-campaign"),
        "source": shop.text("checkout-source"),
    }
    paid, disputed = f"pay_{shop.marker}_meta", f"pay_{shop.marker}_email"
    bad = {**payment(shop, "bad", {}, "bad"), "currency": "X"}  # rejected, kept in the inbox
    sent = [
        deliver(shop, "payment.succeeded", payment(shop, "meta", context, "buyer"), "meta"),
        deliver(shop, "payment.succeeded", payment(shop, "email", {}, "second"), "email"),
        deliver(shop, "refund.succeeded", refund(shop, paid, "1"), "refund"),
        deliver(shop, "dispute.opened", dispute(shop, disputed, "1", "dispute_opened"), "d1"),
        deliver(shop, "dispute.lost", dispute(shop, disputed, "1", "dispute_lost"), "d2"),
        deliver(shop, "payment.succeeded", bad, "bad"),
        deliver(shop, "payment.succeeded", {"payment_id": f"pay_{shop.marker}_sparse"}, "sparse"),
    ]
    assert sent == [200, 200, 200, 200, 200, 400, 202]
    shop.payments.extend([paid, disputed])


def add_test_payment(session: Session, shop: Shop) -> None:
    shop.payments.append(f"pay_{shop.marker}_test")
    pay(
        session,
        shop.project,
        shop.payments[-1],
        mode="test",
        metadata={"linkId": shop.links["main"]},
        customer=shop.customer("tester"),
        at=datetime.now(UTC) - timedelta(days=1),
    )


# Values both projects hold (say, both connected to one Dodo account, one customer buying in
# both shops): each project's rows must still stay its own.
SHARED_PAYMENT = "pay_shared_1"
SHARED_SUBSCRIPTION = "sub_shared_1"
SHARED_CAMPAIGN = "shared-campaign"
SHARED_VISITOR = "v_shared_visitor"
SHARED_CUSTOMER = {"customer_id": "cus_shared_1", "email": "shared@example.com", "name": "x"}


def add_shared_payment(shop: Shop) -> None:
    """The same Dodo payment in each shop, with the shop's own refund and dispute."""
    data = support.payment(
        SHARED_PAYMENT,
        metadata={"linkId": shop.links["main"]},
        customer=shop.customer("buyer"),
        created_at=yesterday(),
    )
    sent = [
        deliver(shop, "payment.succeeded", data, "shared"),
        deliver(shop, "refund.succeeded", refund(shop, SHARED_PAYMENT, "shared"), "rs"),
        deliver(
            shop, "dispute.opened", dispute(shop, SHARED_PAYMENT, "shared", "dispute_opened"), "ds"
        ),
    ]
    assert sent == [200, 200, 200]


def pay_as_shared_customer(shop: Shop, name: str, hours: int, **fields: Any) -> None:
    """A payment of the customer both shops share, whom only the other shop can attribute."""
    fields.setdefault("metadata", {})
    data = support.payment(
        f"pay_{shop.marker}_{name}", customer=SHARED_CUSTOMER, created_at=yesterday(hours), **fields
    )
    assert deliver(shop, "payment.succeeded", data, name) == 200
    shop.alone.append(data["payment_id"])
    shop.payments.append(data["payment_id"])


def cross_payments(viewer: Shop, other: Shop) -> None:
    """A checkout of the viewer naming the other's `xref` link and a campaign only the other
    will create; one of the shared customer naming the visitor only the other will identify."""
    metadata = {"linkId": other.links["xref"], "campaignId": SHARED_CAMPAIGN}
    assert deliver(viewer, "payment.succeeded", payment(viewer, "xref", metadata, "x"), "x") == 200
    viewer.payments.append(f"pay_{viewer.marker}_xref")
    pay_as_shared_customer(viewer, "alone", 3, metadata={"visitorId": SHARED_VISITOR})


def other_shares(other: Shop) -> None:
    """The other's side of what is shared: it creates that campaign (on a new link), changes
    its `xref` link, identifies the shared customer on a visitor who clicked its link, and
    takes the first payment of the shared subscription."""
    headers = other.project.headers
    created = other.client.post(
        "/api/v1/links",
        headers=headers,
        json={
            "destinationUrl": f"https://{other.text('shared')}.example/",
            "key": other.key("shared"),
            "campaignId": SHARED_CAMPAIGN,
        },
    )
    assert created.status_code == 201, created.text
    other.links["shared"] = created.json()["id"]
    changed = other.client.patch(
        f"/api/v1/links/{other.links['xref']}", headers=headers, json={"content": other.text("new")}
    )
    assert changed.status_code == 200, changed.text
    browser = Browser(other.project, SHARED_VISITOR)
    browser.send(clickId=follow(other, other.key("main")), linkId=other.links["main"])
    browser.identify(SHARED_CUSTOMER["email"])
    first = support.payment(
        f"pay_{other.marker}_sub",
        metadata={"linkId": other.links["main"]},
        customer=SHARED_CUSTOMER,
        subscription_id=SHARED_SUBSCRIPTION,
        created_at=yesterday(),
    )
    assert deliver(other, "payment.succeeded", first, "sub") == 200
    other.payments.append(first["payment_id"])


def renew(viewer: Shop) -> None:
    """The viewer's renewal of the shared subscription by the shared customer, and a payment
    naming the visitor the other identified: unattributed, as if the other did not exist."""
    pay_as_shared_customer(viewer, "renewal", 20, subscription_id=SHARED_SUBSCRIPTION)
    pay_as_shared_customer(viewer, "named", 21, metadata={"visitorId": SHARED_VISITOR})


def add_keys(session: Session, shop: Shop) -> None:
    """A second secret key, revoked: the settings page lists both."""
    raw = create_secret_key(session, session.get_one(ProjectRow, shop.project.id))
    second = select(SecretKey).where(
        SecretKey.project_id == shop.project.id, SecretKey.key_hash == hash_secret(raw)
    )
    session.execute(second).scalar_one().revoked_at = utcnow()
    session.commit()


# The whole scene


def history(scene: Scene, shop: Shop, crossing: Shop | None = None) -> None:
    """The shop's traffic (aged into whole days), its Dodo payments and keys."""
    add_traffic(shop)
    if crossing is not None:
        cross_traffic(shop, crossing)
    age(scene.session, shop)
    connect(scene.session, scene.settings, shop)
    add_payments(shop)
    add_shared_payment(shop)
    add_test_payment(scene.session, shop)
    if crossing is not None:
        cross_payments(shop, crossing)
    add_keys(scene.session, shop)


def roll_up(scene: Scene) -> None:
    rollup.catch_up(sessionmaker(bind=scene.engine), lag_seconds=0)


def build(scene: Scene, pause: Callable[[str], None] = lambda _stage: None) -> None:
    """Fill both shops (see the module's docstring); `pause(stage)` is called once the viewer's
    history is rolled up ("viewer"), once the other's is there too ("other unrolled"), and once
    that is rolled up ("other rolled up")."""
    add_links(scene.session, scene.other)
    add_links(scene.session, scene.viewer)
    history(scene, scene.viewer, crossing=scene.other)
    roll_up(scene)
    pause("viewer")
    history(scene, scene.other)
    other_shares(scene.other)
    pause("other unrolled")
    roll_up(scene)
    pause("other rolled up")
    renew(scene.viewer)
    for shop in (scene.viewer, scene.other):
        visit(shop, 4)  # today: read from `events`, the day being partial
        name_labels(scene.session, shop)


def name_labels(session: Session, shop: Shop) -> None:
    """Give every campaign and lead of the shop a name (the reports show names)."""
    owned = {"project_id": shop.project.id}
    campaigns = session.scalars(select(Campaign).filter_by(**owned))
    leads = session.scalars(select(Lead).filter_by(**owned))
    for row in [*campaigns, *leads]:
        row.name = f"{shop.text('named')} {row.key}"
    session.commit()


def rows_of(engine: Engine, project_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the project, in every table, for before/after comparisons."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            owner = table.c.get("project_id")
            if owner is None and table.name != "projects":
                continue
            kept = [c for c in table.c if c.name not in MAY_CHANGE.get(table.name, set())]
            where = owner == project_id if owner is not None else table.c.id == project_id
            query = select(*kept).where(where).order_by(*table.primary_key.columns)
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found
