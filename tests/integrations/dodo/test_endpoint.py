"""Bantico's webhook endpoint on the merchant's Dodo account: every event that moves money, and
kept up to date (events, public URL, deleted endpoints) without the merchant reconnecting."""

from __future__ import annotations

import time
from typing import Any

from dodopayments import DodoPayments
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bantico.app import create_app
from bantico.integrations.dodo.client import WEBHOOK_EVENT_TYPES
from bantico.integrations.dodo.models import DodoIntegration
from bantico.payments.models import Payment
from bantico_emulators.dodo import checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.conftest import Project
from tests.support.dodo import Bantico, connect_with, one_pass

# What Bantico subscribed to before this change: no dispute.accepted, dispute.expired, ...
OLD_EVENTS = [
    "payment.succeeded",
    "payment.failed",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.won",
    "dispute.lost",
    "subscription.active",
    "subscription.renewed",
]
MONEY_EVENTS = {
    "payment.succeeded",
    "payment.failed",
    "payment.processing",
    "payment.cancelled",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.expired",
    "dispute.accepted",
    "dispute.cancelled",
    "dispute.challenged",
    "dispute.won",
    "dispute.lost",
    "subscription.active",
    "subscription.renewed",
    "subscription.on_hold",
    "subscription.cancelled",
    "subscription.failed",
    "subscription.expired",
    "subscription.plan_changed",
}


def sdk(emulator: RunningEmulator) -> DodoPayments:
    return DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url)


def endpoints(emulator: RunningEmulator) -> list[Any]:
    with sdk(emulator) as client:
        return list(client.webhooks.list().data)


def downgrade_endpoint(emulator: RunningEmulator) -> str:
    """The endpoint as an older Bantico registered it."""
    [endpoint] = endpoints(emulator)
    with sdk(emulator) as client:
        client.webhooks.update(endpoint.id, filter_types=OLD_EVENTS)
    return str(endpoint.id)


def test_connect_subscribes_to_every_event_that_moves_money(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    connect_with(bantico, project, TEST_KEY)
    [endpoint] = endpoints(emulator)
    assert set(endpoint.filter_types or []) == set(WEBHOOK_EVENT_TYPES)
    assert set(WEBHOOK_EVENT_TYPES) >= MONEY_EVENTS
    assert not any(
        t.startswith(("payout.", "credit.", "license_key.")) for t in endpoint.filter_types
    )


def test_an_endpoint_registered_earlier_is_brought_up_to_date_by_a_pass(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect_with(bantico, project, TEST_KEY)
    endpoint_id = downgrade_endpoint(emulator)
    one_pass(bantico, project, check_endpoint=True)
    [endpoint] = endpoints(emulator)
    assert endpoint.id == endpoint_id and set(endpoint.filter_types) == set(WEBHOOK_EVENT_TYPES)


def test_on_start_up_the_server_updates_the_endpoint(
    bantico: Bantico,
    project: Project,
    emulator: RunningEmulator,
    engine: Engine,
) -> None:
    connect_with(bantico, project, TEST_KEY)
    downgrade_endpoint(emulator)
    settings = bantico.settings.model_copy(update={"dodo_sync_interval_seconds": 3600})
    with TestClient(create_app(settings, engine=engine)):  # runs the lifespan: the reconciler
        deadline = time.monotonic() + 20
        while set(endpoints(emulator)[0].filter_types) != set(WEBHOOK_EVENT_TYPES):
            assert time.monotonic() < deadline, "the endpoint was not updated on start-up"
            time.sleep(0.1)


def test_a_new_public_url_moves_the_endpoint(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect_with(bantico, project, TEST_KEY)
    old_url = bantico.settings.public_url
    bantico.settings.public_url = "https://attribution.example.net"
    try:
        one_pass(bantico, project, check_endpoint=True)
    finally:
        bantico.settings.public_url = old_url
    [endpoint] = endpoints(emulator)
    assert endpoint.url == f"https://attribution.example.net/webhooks/dodo/{project.id}"
    session.expire_all()
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None and integration.webhook_url == endpoint.url


def test_an_endpoint_deleted_in_dodo_is_registered_again_and_delivers(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect_with(bantico, project, TEST_KEY)
    [old] = endpoints(emulator)
    with sdk(emulator) as client:
        client.webhooks.delete(old.id)
    one_pass(bantico, project, check_endpoint=True)
    [new] = endpoints(emulator)
    assert new.id != old.id and set(new.filter_types) == set(WEBHOOK_EVENT_TYPES)
    # The new endpoint's secret was stored: its deliveries verify.
    with sdk(emulator) as client:
        made = client.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"email": "jane@example.com", "name": "Jane"},
        )
    paid = checkouts.complete_checkout(emulator.state, made.session_id)
    assert emulator.state.deliveries.wait_idle()
    session.expire_all()
    stored = session.execute(select(Payment)).scalar_one()
    assert (stored.provider_payment_id, stored.received_via) == (paid.payment_id, "webhook")


def test_polling_only_for_want_of_a_public_url_registers_once_there_is_one(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    url = bantico.settings.public_url
    bantico.settings.public_url = None
    try:
        assert connect_with(bantico, project, TEST_KEY)["webhook"]["state"] == "polling_only"
    finally:
        bantico.settings.public_url = url
    assert endpoints(emulator) == []
    one_pass(bantico, project, check_endpoint=True)
    status = bantico.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["webhook"]["state"] == "registered"
    [endpoint] = endpoints(emulator)
    assert endpoint.url == f"{url}/webhooks/dodo/{project.id}"
