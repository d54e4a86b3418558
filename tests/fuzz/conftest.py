"""Fixtures of the fuzz suites: a project seeded with real rows (links, clicks, events, a
connected Dodo integration with a webhook secret, a payment with a refund and a dispute) for
fuzzed requests to name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bantico.config import Settings
from tests.conftest import Project
from tests.factories import make_shop_links
from tests.integrations.dodo import support

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
PAYMENT_ID = "pay_0FuzzSeedPayment000000"


@dataclass
class Seed:
    """What the seeded project holds: the ids a fuzzed request may name."""

    project: Project
    webhook_secret: str
    link_ids: list[str]
    link_keys: list[str]
    payment_ids: list[str]


@pytest.fixture
def seeded(project: Project, session: Session, settings: Settings) -> Seed:
    """The `project`, with two links, a click and events, Dodo connected for webhooks and a
    sale on the first link (refunded in part, disputed)."""
    dm, nl = make_shop_links(session, project_id=project.id)
    secret = support.new_secret()
    support.connect_for_webhooks(session, settings, project.id, secret)
    _visit(project.client, project, dm.key, dm.id)
    _sell(project, secret, dm.id)
    return Seed(project, secret, [dm.id, nl.id], [dm.key, nl.key], [PAYMENT_ID])


def _visit(client: TestClient, project: Project, key: str, link_id: str) -> None:
    """A click on the link, the loader's page view carrying it, and server-side events."""
    location = client.get(f"/l/{key}", headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert location.status_code == 302, location.text
    click_id = location.headers["location"].split("bantico_click=")[1].split("&")[0]
    body = {
        "token": project.token,
        "name": "page_view",
        "visitorId": "v_fuzzseed01",
        "sessionId": "s_fuzzseed01",
        "url": "https://shop.example/pricing",
        "clickId": click_id,
        "linkId": link_id,
    }
    collected = client.post(
        "/api/collect", content=json.dumps(body), headers={"content-type": "text/plain"}
    )
    assert collected.status_code == 200, collected.text
    for path, payload in (
        ("/api/v1/events", {"name": "signup_completed", "visitorId": "v_fuzzseed01"}),
        ("/api/v1/identify", {"visitorId": "v_fuzzseed01", "email": "jane@example.com"}),
    ):
        answer = client.post(path, json=payload, headers=project.headers)
        assert answer.status_code == 202, answer.text


def _sell(project: Project, secret: str, link_id: str) -> None:
    """A payment attributed to the link, a partial refund and an opened dispute, by webhook."""
    metadata = {"linkId": link_id, "campaignId": "spring26", "source": "linkedin"}
    deliveries: list[tuple[str, dict[str, Any]]] = [
        ("payment.succeeded", support.payment(PAYMENT_ID, metadata=metadata)),
        ("refund.succeeded", support.refund(payment_id=PAYMENT_ID, amount=900, is_partial=True)),
        ("dispute.opened", dispute_data()),
    ]
    for number, (event_type, data) in enumerate(deliveries):
        deliver(project, secret, event_type, data, f"msg_seed{number}", expect=200)


def dispute_data() -> dict[str, Any]:
    return {
        "payload_type": "Dispute",
        "dispute_id": "dp_0FuzzSeedDispute000000",
        "payment_id": PAYMENT_ID,
        "business_id": support.BUSINESS,
        "amount": "4900",
        "currency": "USD",
        "dispute_stage": "dispute",
        "dispute_status": "dispute_opened",
        "created_at": "2026-11-22T09:00:00Z",
    }


def deliver(
    project: Project,
    secret: str,
    event_type: str,
    data: dict[str, Any],
    msg_id: str,
    expect: int | None = None,
) -> Any:
    body = support.envelope(event_type, data)
    response = project.client.post(
        f"/webhooks/dodo/{project.id}",
        content=body,
        headers=support.headers(secret, body, msg_id),
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    return response
