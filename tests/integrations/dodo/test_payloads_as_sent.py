"""Payloads as Dodo sends and publishes them: sparse ones acknowledged and completed by reading
the object, refunds without an amount, multi-subscription payments, and every example payload
Dodo publishes (tests/integrations/dodo/fixtures) through the receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dodopayments import DodoPayments
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.kit.crypto import encrypt
from bantico.payments.models import Payment, Refund
from bantico_emulators.dodo import billing, checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import (
    MONTHLY_PRODUCT_ID,
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    TEST_READ_ONLY_KEY,
)
from tests.conftest import Project
from tests.integrations.dodo import support
from tests.support.dodo import Bantico, connect_with, one_pass

FIXTURES = Path(__file__).parent / "fixtures"
# What the receiver answers to Dodo's published examples, by file; every other one is handled
# at once (200). 202: acknowledged, the object is read from Dodo by id (fields missing, or a
# status that disagrees with the event type). 400: kept in the inbox, unreadable.
READ_BY_ID = {
    "adapters-example-dispute.won.json",
    "adapters-example-payment.failed.json",
    "adapters-example-refund.failed.json",
    "cli-payment.cancelled.json",
    "cli-payment.failed.json",
    "cli-payment.processing.json",
    "cli-refund.failed.json",
    "docs-handle-payment-failures-payment.failed.json",
    "docs-webhooks-curl-test-payment.succeeded.json",
    "docs-webhooks-payload-structure-payment.succeeded.json",
    "docs-webhooks-testing-locally-payment.succeeded.json",
    "skills-webhook-integration-payment.succeeded.json",
}
UNREADABLE = {"sdk-ts-tests-dispute.accepted.json"}  # its dispute amount is the word "amount"


def polling_with_secret(bantico: Bantico, project: Project, session: Session) -> str:
    """Connected with a read-only key (polling only), plus a webhook secret to sign with."""
    connect_with(bantico, project, TEST_READ_ONLY_KEY)
    secret = support.new_secret()
    integration = session.get(DodoIntegration, project.id)
    assert integration is not None
    integration.webhook_secret_encrypted = encrypt(bantico.settings.secret_key, secret)
    session.commit()
    return secret


def post(client: Any, project: Project, secret: str, body: bytes, msg_id: str) -> Any:
    return client.post(
        f"/webhooks/dodo/{project.id}", content=body, headers=support.headers(secret, body, msg_id)
    )


def messages(session: Session) -> list[WebhookMessage]:
    session.expire_all()
    return list(session.execute(select(WebhookMessage).order_by(WebhookMessage.id)).scalars())


def pay(emulator: RunningEmulator, **metadata: str) -> str:
    session_id = _checkout(emulator, ONE_TIME_PRODUCT_ID, metadata)
    return checkouts.complete_checkout(emulator.state, session_id).payment_id


def test_a_sparse_payment_is_acknowledged_and_read_from_dodo(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    """Dodo's own local-testing example carries a payment id and an amount, nothing else."""
    secret = polling_with_secret(bantico, project, session)
    payment_id = pay(emulator, source="newsletter")
    example = json.loads(
        (FIXTURES / "docs-webhooks-testing-locally-payment.succeeded.json").read_text()
    )
    example["data"]["payment_id"] = payment_id
    response = post(bantico.client, project, secret, json.dumps(example).encode(), "msg_sparse")
    assert response.status_code == 202, response.text
    [message] = messages(session)
    assert message.handled_at is None and message.pending_fetch == f"payment:{payment_id}"
    assert session.execute(select(Payment)).scalars().all() == []

    report = one_pass(bantico, project)
    assert report.webhooks_completed == 1 and not report.errors
    [message] = messages(session)
    assert message.handled_at is not None and message.pending_fetch is None
    assert "read from Dodo by id" in (message.outcome or "")
    [payment] = session.execute(select(Payment)).scalars().all()
    assert payment.provider_payment_id == payment_id and payment.settlement_amount is not None
    assert payment.payment_metadata == {"source": "newsletter"} and payment.counts_as_revenue
    # Dodo retries the same message: still one payment, the message stays handled.
    again = post(bantico.client, project, secret, json.dumps(example).encode(), "msg_sparse")
    assert again.json()["status"] == "duplicate"


def test_a_partial_refund_without_an_amount_is_read_from_dodo(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    secret = polling_with_secret(bantico, project, session)
    payment_id = pay(emulator)
    refund = billing.refund_payment(emulator.state, payment_id, 1200)
    one_pass(bantico, project)  # the payment, and the refund, by polling
    session.execute(Refund.__table__.delete())
    session.commit()
    data = support.refund(refund.refund_id, payment_id, amount=None, is_partial=True)
    body = support.envelope("refund.succeeded", data)
    assert post(bantico.client, project, secret, body, "msg_r").status_code == 202
    one_pass(bantico, project)
    session.expire_all()
    stored = session.execute(select(Refund)).scalar_one()
    assert stored.amount == 1200
    assert session.execute(select(Payment)).scalar_one().refunded_amount == 1200


def test_a_full_refund_without_an_amount_counts_what_was_left(
    project: Project, session: Session, settings: Settings
) -> None:
    secret = support.new_secret()
    support.connect_for_webhooks(session, settings, project.id, secret)
    body = support.envelope("payment.succeeded", support.payment())
    assert post(project.client, project, secret, body, "msg_p").status_code == 200
    refund = support.refund(amount=None, is_partial=False)
    body = support.envelope("refund.succeeded", refund)
    assert post(project.client, project, secret, body, "msg_r").status_code == 200
    session.expire_all()
    payment = session.execute(select(Payment)).scalar_one()
    assert (payment.refunded_amount, payment.refunded_settlement) == (4900, 4612)


def test_renewals_of_a_multi_subscription_payment_inherit_its_attribution(
    project: Project, session: Session, settings: Settings
) -> None:
    secret = support.new_secret()
    support.connect_for_webhooks(session, settings, project.id, secret)
    first = support.payment(
        "pay_multi",
        subscription_id=None,
        subscription_ids=["sub_a", "sub_b"],
        is_multi_subscription=True,
        charge_type="new",
        metadata={"campaignId": "spring26", "source": "linkedin"},
    )
    body = support.envelope("payment.succeeded", first)
    assert post(project.client, project, secret, body, "msg_1").status_code == 200
    renewal = support.payment(
        "pay_renew_b",
        subscription_id="sub_b",
        subscription_ids=["sub_b"],
        charge_type="renewal",
        metadata={},
        # Paid with another Dodo customer record, so only the subscription connects them.
        customer={"customer_id": "cus_other", "email": "billing@example.com", "name": "B"},
        created_at="2026-12-20T10:15:30Z",
    )
    body = support.envelope("payment.succeeded", renewal)
    assert post(project.client, project, secret, body, "msg_2").status_code == 200
    detail = project.client.get("/api/v1/payments/pay_renew_b", headers=project.headers).json()
    attribution = detail["attribution"]
    assert (attribution["campaignId"], attribution["source"]) == ("spring26", "linkedin")
    first_detail = project.client.get("/api/v1/payments/pay_multi", headers=project.headers)
    assert attribution["confidence"] == first_detail.json()["attribution"]["confidence"]
    assert any("renewal of subscription sub_b" in line for line in detail["explanation"])


def test_a_renewal_whose_payment_event_was_missed_is_read_from_dodo(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    secret = polling_with_secret(bantico, project, session)
    first = checkouts.complete_checkout(emulator.state, _checkout(emulator, MONTHLY_PRODUCT_ID))
    one_pass(bantico, project)
    assert first.subscription_id
    renewal = billing.renew_subscription(emulator.state, first.subscription_id)
    body = support.envelope(
        "subscription.renewed",
        {"subscription_id": first.subscription_id, "payment_id": renewal.payment_id},
    )
    assert post(bantico.client, project, secret, body, "msg_renewed").status_code == 202
    report = one_pass(bantico, project)
    assert report.webhooks_completed == 1
    session.expire_all()
    ids = set(session.execute(select(Payment.provider_payment_id)).scalars())
    assert ids == {first.payment_id, renewal.payment_id}


def _checkout(
    emulator: RunningEmulator, product: str, metadata: dict[str, str] | None = None
) -> str:
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        return sdk.checkout_sessions.create(
            product_cart=[{"product_id": product, "quantity": 1}],
            customer={"email": "jane@example.com", "name": "Jane"},
            metadata=metadata if metadata is not None else {"source": "podcast"},
        ).session_id


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_published_example_is_received(
    name: str, project: Project, session: Session, settings: Settings
) -> None:
    secret = support.new_secret()
    support.connect_for_webhooks(session, settings, project.id, secret)
    body = (FIXTURES / name).read_bytes()
    response = post(project.client, project, secret, body, "msg_example")
    expected = 400 if name in UNREADABLE else 202 if name in READ_BY_ID else 200
    assert response.status_code == expected, response.text
    [message] = messages(session)  # always kept, whatever the answer
    assert message.body == body.decode()
    if expected == 202:
        assert message.pending_fetch and message.handled_at is None
    if expected == 200:
        assert message.handled_at is not None


def test_examples_naming_objects_dodo_does_not_have_are_settled(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    """Published examples carry made-up ids (as the dashboard's "Send Example" does): reading
    them finds nothing, which settles the message instead of retrying it forever."""
    secret = polling_with_secret(bantico, project, session)
    for number, name in enumerate(sorted(READ_BY_ID)):
        body = (FIXTURES / name).read_bytes()
        assert post(bantico.client, project, secret, body, f"msg_{number}").status_code == 202
    report = one_pass(bantico, project)
    assert report.webhooks_completed == len(READ_BY_ID) and not report.errors
    settled = messages(session)
    assert all(m.handled_at is not None and m.pending_fetch is None for m in settled)
    assert all("Dodo has no" in (m.outcome or "") for m in settled)
    assert session.execute(select(Payment)).scalars().all() == []
