from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dodopayments import DodoPayments
from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.payments.models import Payment, Refund
from bantico_emulators.dodo import billing, checkouts
from bantico_emulators.dodo.server import RunningEmulator
from bantico_emulators.dodo.state import MONTHLY_PRODUCT_ID, ONE_TIME_PRODUCT_ID, TEST_KEY
from tests.conftest import Project
from tests.support.dodo import Bantico, connect_with, one_pass

METADATA = {
    "linkId": "lnk_8f2a",
    "campaignId": "spring26",
    "source": "linkedin",
    "medium": "dm",
    "content": "",
    "leadId": "lead_42",
    "visitorId": "v_abcdefgh1",
}


def checkout(
    emulator: RunningEmulator,
    product: str = ONE_TIME_PRODUCT_ID,
    metadata: dict[str, Any] | None = None,
) -> str:
    """The merchant's server creates the checkout with the official SDK."""
    with DodoPayments(bearer_token=TEST_KEY, base_url=emulator.test_url) as sdk:
        session = sdk.checkout_sessions.create(
            product_cart=[{"product_id": product, "quantity": 1}],
            customer={"email": "Jane@Example.com", "name": "Jane"},
            return_url="https://shop.example/thanks",
            metadata=metadata if metadata is not None else METADATA,
        )
    return session.session_id


def payments(session: Session) -> list[Payment]:
    session.expire_all()
    return list(session.execute(select(Payment).order_by(Payment.created_at)).scalars())


def test_checkout_lands_once_by_webhook_and_by_reconciliation(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect_with(bantico, project, TEST_KEY)
    paid = checkouts.complete_checkout(emulator.state, checkout(emulator))
    assert emulator.state.deliveries.wait_idle()
    [stored] = payments(session)
    assert stored.provider_payment_id == paid.payment_id and stored.received_via == "webhook"
    assert stored.payment_metadata == METADATA and stored.counts_as_revenue
    assert stored.settlement_amount is not None and stored.customer_email == "Jane@Example.com"

    report = one_pass(bantico, project)
    assert report.payments_seen == 1 and report.payments_stored == 0
    assert len(payments(session)) == 1
    listed = bantico.client.get("/api/v1/payments?mode=test", headers=project.headers).json()
    assert [p["paymentId"] for p in listed["items"]] == [paid.payment_id]
    assert bantico.client.get("/api/v1/payments", headers=project.headers).json()["items"] == []


def test_a_missed_webhook_is_repaired_by_reconciliation(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    connect_with(bantico, project, TEST_KEY)
    # Bantico is down for every attempt of this delivery: Dodo gives up.
    emulator.state.options.retry_schedule = ()
    bantico.settings.secret_key = "a-different-secret-key-so-nothing-verifies"
    try:
        paid = checkouts.complete_checkout(emulator.state, checkout(emulator))
        assert emulator.state.deliveries.wait_idle()
    finally:
        bantico.settings.secret_key = "test-secret-key-not-for-production"
    assert payments(session) == []

    report = one_pass(bantico, project)
    [stored] = payments(session)
    assert report.payments_stored == 1 and stored.provider_payment_id == paid.payment_id
    assert stored.received_via == "sync" and stored.payment_metadata == METADATA
    assert stored.settlement_amount is not None and stored.tax is not None

    billing.refund_payment(emulator.state, paid.payment_id, 500)
    assert emulator.state.deliveries.wait_idle()
    one_pass(bantico, project)
    session.expire_all()
    [refund] = session.execute(select(Refund)).scalars().all()
    assert (refund.provider_payment_id, refund.amount) == (paid.payment_id, 500)


def test_renewals_refunds_and_polling_only(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    bantico.settings.public_url = None
    try:
        assert connect_with(bantico, project, TEST_KEY)["webhook"]["state"] == "polling_only"
    finally:
        bantico.settings.public_url = bantico.url
    first = checkouts.complete_checkout(emulator.state, checkout(emulator, MONTHLY_PRODUCT_ID))
    assert first.subscription_id
    renewal = billing.renew_subscription(emulator.state, first.subscription_id)
    billing.refund_payment(emulator.state, renewal.payment_id)
    one_pass(bantico, project)
    stored = payments(session)
    assert [(p.provider_payment_id, p.charge_type) for p in stored] == [
        (first.payment_id, "new"),
        (renewal.payment_id, "renewal"),
    ]
    assert {p.subscription_id for p in stored} == {first.subscription_id}
    detail = bantico.client.get(
        f"/api/v1/payments/{renewal.payment_id}", headers=project.headers
    ).json()
    assert detail["refunded"]["amount"] == renewal.total_amount


def test_backfill_pages_through_history_and_backs_off(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    now = datetime.now(UTC)
    made = billing.create_payments(
        emulator.state, 250, start=now - timedelta(days=80), end=now - timedelta(hours=1)
    )
    billing.create_payments(
        emulator.state, 3, start=now - timedelta(days=200), end=now - timedelta(days=120)
    )
    billing.create_payments(
        emulator.state,
        4,
        start=now - timedelta(days=10),
        end=now - timedelta(days=9),
        status="failed",
    )
    connect_with(bantico, project, TEST_KEY)
    emulator.state.faults.inject(429, count=2, path="/payments", method="GET")
    report = one_pass(bantico, project)
    # The 250 that succeeded and the 4 that failed (kept, not revenue); not the 3 too old.
    assert report.throttled >= 2 and report.payments_stored == 254
    stored = payments(session)
    revenue = {p.provider_payment_id for p in stored if p.counts_as_revenue}
    assert revenue == {p.payment_id for p in made} and len(stored) == 254
    status = bantico.client.get("/api/v1/integrations/dodo", headers=project.headers).json()
    assert status["sync"]["backfillPending"] is False and status["counts"]["payments"] == 254
    assert one_pass(bantico, project).payments_stored == 0
    assert len(payments(session)) == 254


def test_sync_endpoint_and_errors(
    bantico: Bantico, project: Project, emulator: RunningEmulator
) -> None:
    not_connected = bantico.client.post("/api/v1/integrations/dodo/sync", headers=project.headers)
    assert not_connected.status_code == 404
    connect_with(bantico, project, TEST_KEY)
    checkouts.complete_checkout(emulator.state, checkout(emulator))
    response = bantico.client.post(
        "/api/v1/integrations/dodo/sync", headers=project.headers, json={"since": "2026-01-01"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["paymentsSeen"] == 1
    bad = bantico.client.post(
        "/api/v1/integrations/dodo/sync", headers=project.headers, json={"since": "yesterday"}
    )
    assert bad.status_code == 422


def test_a_list_that_keeps_failing_is_retried_then_named_and_the_others_go_on(
    bantico: Bantico, project: Project, emulator: RunningEmulator, session: Session
) -> None:
    now = datetime.now(UTC)
    made = billing.create_payments(emulator.state, 3, start=now - timedelta(days=3), end=now)
    connect_with(bantico, project, TEST_KEY)
    emulator.state.faults.inject(500, count=1000, path="/refunds", method="GET")
    waits: list[float] = []
    report = one_pass(bantico, project, sleep=waits.append)
    assert report.errors == {"refunds": "Dodo failed to list refunds (500)"}
    # Four retries with a growing back-off, then the list is named and skipped.
    assert report.retries == len(waits) == 4 and waits == sorted(waits) and waits[0] < waits[-1]
    assert {p.provider_payment_id for p in payments(session)} == {p.payment_id for p in made}
