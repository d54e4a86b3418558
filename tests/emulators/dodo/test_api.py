"""Dodo's API as the official SDK sees it: checkouts, payments, refunds, keys, faults."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import dodopayments
import httpx
import pytest
from dodopayments import DodoPayments
from dodopayments.types import (
    CheckoutSessionStatus,
    Customer,
    DisputeListResponse,
    GetDispute,
    Payment,
    PaymentListResponse,
    Product,
    ProductListResponse,
    Refund,
    RefundListItem,
    Subscription,
)

from bantico_emulators.dodo import (
    INVALID_KEY,
    LIVE_KEY,
    MONTHLY_PRODUCT_ID,
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    TEST_READ_ONLY_KEY,
    EmulatorState,
    RunningEmulator,
    complete_checkout,
    create_payments,
    lose_dispute,
    open_dispute,
)
from bantico_emulators.dodo.cli import describe
from tests.emulators.dodo.conftest import METADATA, Metadata, buy

JAN = datetime(2026, 1, 1, tzinfo=UTC)


def sdk(emu: RunningEmulator, key: str, mode: str = "test", retries: int = 0) -> DodoPayments:
    return DodoPayments(bearer_token=key, base_url=f"{emu.base_url}/{mode}", max_retries=retries)


def test_checkout_metadata_reaches_the_payment(emu: RunningEmulator, client: DodoPayments) -> None:
    session_id = buy(client)
    paid = complete_checkout(emu.state, session_id)

    raw = client.payments.with_raw_response.retrieve(paid.payment_id).http_response.json()
    payment = Payment.model_validate(raw)  # every required SDK 1.123 field, correctly typed
    assert payment.metadata == METADATA and payment.status == "succeeded"
    assert payment.total_amount == 4900 and payment.settlement_amount == 4900
    assert payment.customer.email == "jane@example.com"
    assert payment.checkout_session_id == session_id
    assert payment.payment_id.startswith("pay_") and len(payment.payment_id) == 25
    assert raw["created_at"].endswith("Z") and "." in raw["created_at"]
    status = client.checkout_sessions.with_raw_response.retrieve(session_id).http_response.json()
    assert CheckoutSessionStatus.model_validate(status).payment_id == paid.payment_id
    assert status["payment_status"] == "succeeded"


def test_pages_are_zero_based_and_the_auto_paginator_skips_page_one(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    made = create_payments(emu.state, 25, start=JAN, end=JAN + timedelta(days=24))
    pages = [client.payments.list(page_number=n, page_size=10).items for n in range(3)]
    ids = [p.payment_id for page in pages for p in page]
    assert [len(page) for page in pages] == [10, 10, 5]
    assert ids == [p.payment_id for p in reversed(made)]  # newest first, nothing repeated

    # The SDK's paginator asks for page 2 after page 0 (docs/dodo.md §4): page manually.
    assert len({p.payment_id for p in client.payments.list(page_size=10)}) == 15


def test_payment_list_items_are_the_documented_subset(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    complete_checkout(emu.state, buy(client))
    raw = client.payments.with_raw_response.list().http_response.json()["items"][0]
    PaymentListResponse.model_validate(raw)
    assert "settlement_amount" not in raw and "refunds" not in raw and "billing" not in raw
    assert raw["metadata"] == METADATA and raw["customer"]["email"] == "jane@example.com"


def test_payment_filters(emu: RunningEmulator, client: DodoPayments) -> None:
    create_payments(emu.state, 10, start=JAN, end=JAN + timedelta(days=9), customers=1)
    jane = complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID))
    listing = client.payments.list
    assert [p.payment_id for p in listing(customer_id=jane.customer_id).items] == [jane.payment_id]
    assert len(listing(subscription_id=jane.subscription_ids[0]).items) == 1
    assert len(listing(product_id=MONTHLY_PRODUCT_ID).items) == 1
    assert len(listing(product_id=ONE_TIME_PRODUCT_ID, page_size=100).items) == 10
    window = listing(created_at_gte=JAN + timedelta(days=2), created_at_lte=JAN + timedelta(days=4))
    assert len(window.items) == 3
    assert listing(status="failed").items == []
    assert len(listing(currency="USD", page_size=100).items) == 11


def test_partial_then_full_refund(emu: RunningEmulator, client: DodoPayments) -> None:
    paid = complete_checkout(emu.state, buy(client))
    part = client.refunds.create(
        payment_id=paid.payment_id,
        items=[{"item_id": ONE_TIME_PRODUCT_ID, "amount": 1000}],
        reason="Customer request",
    )
    assert part.amount == 1000 and part.is_partial and part.status == "succeeded"
    assert client.payments.retrieve(paid.payment_id).refund_status == "partial"

    with pytest.raises(dodopayments.UnprocessableEntityError) as too_much:
        client.refunds.create(
            payment_id=paid.payment_id, items=[{"item_id": ONE_TIME_PRODUCT_ID, "amount": 4000}]
        )
    assert too_much.value.body == {
        "code": "REFUND_AMOUNT_EXCEEDS_PAYMENT",
        "message": "Refund amount 4000 exceeds the refundable amount 3900",
    }
    rest = client.refunds.create(payment_id=paid.payment_id)
    assert rest.amount == 3900 and rest.is_partial  # partial of the payment, though it ends it
    assert client.payments.retrieve(paid.payment_id).refund_status == "full"
    with pytest.raises(dodopayments.UnprocessableEntityError):
        client.refunds.create(payment_id=paid.payment_id)

    raw = client.refunds.with_raw_response.list().http_response.json()["items"]
    assert [r["amount"] for r in raw] == [1000, 3900] or [r["amount"] for r in raw] == [3900, 1000]
    assert all(RefundListItem.model_validate(r) and "customer" not in r for r in raw)
    one = client.refunds.with_raw_response.retrieve(part.refund_id).http_response.json()
    assert Refund.model_validate(one).customer.email == "jane@example.com"
    assert len(client.refunds.list(customer_id=paid.customer_id).items) == 2


def test_subscription_keeps_checkout_metadata(emu: RunningEmulator, client: DodoPayments) -> None:
    paid = complete_checkout(emu.state, buy(client, MONTHLY_PRODUCT_ID))
    assert paid.charge_type == "new" and paid.cart is None and len(paid.subscription_ids) == 1
    raw = client.subscriptions.with_raw_response.retrieve(paid.subscription_ids[0])
    subscription = Subscription.model_validate(raw.http_response.json())
    assert subscription.metadata == METADATA and subscription.status == "active"
    assert subscription.recurring_pre_tax_amount == 1900


def test_customers_are_reused_by_email_and_filterable(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    first = complete_checkout(emu.state, buy(client, email="jane@example.com"))
    second = complete_checkout(emu.state, buy(client, email="Jane@Example.com"))
    assert first.customer_id == second.customer_id
    found = client.customers.with_raw_response.list(email="jane@example.com").http_response.json()
    assert [Customer.model_validate(c).customer_id for c in found["items"]] == [first.customer_id]
    assert client.customers.retrieve(first.customer_id).email == "jane@example.com"
    assert client.customers.list(name="doe").items[0].name == "Jane Doe"
    with pytest.raises(dodopayments.NotFoundError) as missing:
        client.customers.retrieve("cus_nope")
    assert missing.value.body == {"code": "NOT_FOUND", "message": "Customer cus_nope not found"}


@pytest.mark.parametrize(
    "metadata",
    [
        {"k" * 41: "x"},
        {"bad key": "x"},
        {"nested": {"a": 1}},
        {"list": [1]},
        {"none": None},
        {"long": "x" * 501},
        {f"k{i}": "v" for i in range(51)},
    ],
)
def test_metadata_rules(client: DodoPayments, metadata: Any) -> None:
    with pytest.raises(dodopayments.UnprocessableEntityError):
        buy(client, metadata=metadata)


def test_metadata_keeps_numbers_and_booleans(emu: RunningEmulator, client: DodoPayments) -> None:
    tags: Metadata = {"k" * 40: "x" * 500, "count": 3, "ratio": 0.5, "vip": True}
    paid = complete_checkout(emu.state, buy(client, metadata=tags))
    assert client.payments.retrieve(paid.payment_id).metadata == tags


def test_read_only_key_reads_but_cannot_write(emu: RunningEmulator) -> None:
    with sdk(emu, TEST_READ_ONLY_KEY) as read_only:
        assert read_only.payments.list(page_size=1).items == []
        products = read_only.products.with_raw_response.list(page_size=1).http_response.json()
        assert ProductListResponse.model_validate(products["items"][0]).price == 4900
        with pytest.raises(dodopayments.AuthenticationError) as denied:
            read_only.webhooks.create(url="https://bnt.example/hooks/dodo/t1")
    assert denied.value.response.content == b""  # 401 with no body, as seen live


def test_invalid_key_and_wrong_host_get_401(emu: RunningEmulator) -> None:
    for key, mode in [
        (INVALID_KEY, "test"),
        (INVALID_KEY, "live"),
        (TEST_KEY, "live"),
        (LIVE_KEY, "test"),
    ]:
        with sdk(emu, key, mode) as wrong, pytest.raises(dodopayments.AuthenticationError):
            wrong.customers.list(page_size=1)
    missing = httpx.get(f"{emu.test_url}/payments")
    assert missing.status_code == 401


def test_test_and_live_data_never_mix(emu: RunningEmulator, client: DodoPayments) -> None:
    paid = complete_checkout(emu.state, buy(client))
    with sdk(emu, LIVE_KEY, "live") as live:
        assert live.payments.list().items == []
        with pytest.raises(dodopayments.NotFoundError):
            live.payments.retrieve(paid.payment_id)
        live_paid = complete_checkout(emu.state, buy(live))
    assert [p.payment_id for p in client.payments.list().items] == [paid.payment_id]
    assert live_paid.payment_id != paid.payment_id


def test_injected_rate_limit_and_outage(emu: RunningEmulator, client: DodoPayments) -> None:
    emu.state.faults.inject(429, count=1, path="/payments", retry_after=7)
    with pytest.raises(dodopayments.RateLimitError) as limited:
        client.payments.list()
    assert limited.value.response.headers["retry-after"] == "7"
    assert limited.value.body == {"code": "TOO_MANY_REQUESTS", "message": "Injected 429"}
    assert client.payments.list().items == []

    emu.state.faults.inject(503, count=1, path="/payments")
    assert client.customers.list().items == []  # other paths are unaffected
    with sdk(emu, TEST_KEY, retries=1) as patient:
        assert patient.payments.list().items == []  # the SDK retried past one 503
    assert emu.state.faults.hits == 2 and emu.state.faults.pending == 0

    emu.state.faults.inject(None, delay=0.2, method="GET")
    began = time.monotonic()
    assert client.payments.list().items == []
    assert time.monotonic() - began >= 0.2

    emu.state.faults.down = True
    with pytest.raises(dodopayments.InternalServerError):
        client.products.list()
    emu.state.faults.clear()
    assert client.products.list().items


def test_checkout_rejects_unknown_products_and_customers(client: DodoPayments) -> None:
    with pytest.raises(dodopayments.NotFoundError):
        buy(client, product_id="pdt_missing")
    with pytest.raises(dodopayments.NotFoundError):
        client.checkout_sessions.create(
            product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}],
            customer={"customer_id": "cus_missing"},
        )


def test_paying_twice_is_refused(emu: RunningEmulator, client: DodoPayments) -> None:
    session_id = buy(client)
    complete_checkout(emu.state, session_id)
    response = httpx.post(f"{emu.control_url}/checkouts/{session_id}/complete", json={})
    assert response.status_code == 409
    assert response.json()["code"] == "CHECKOUT_SESSION_CONSUMED"


def test_control_api_drives_the_same_flows(emu: RunningEmulator, client: DodoPayments) -> None:
    with httpx.Client(base_url=emu.control_url) as control:
        session_id = buy(client, MONTHLY_PRODUCT_ID)
        paid = control.post(
            f"/checkouts/{session_id}/complete",
            json={
                "currency": "INR",
                "amount": 159900,
                "settlement_currency": "USD",
                "settlement_amount": 1800,
            },
        ).json()
        settled = (paid["currency"], paid["settlement_currency"], paid["settlement_amount"])
        assert settled == ("INR", "USD", 1800)
        renewal = control.post(
            f"/subscriptions/{paid['subscription_id']}/renew", json={"copy_metadata": True}
        ).json()
        assert renewal["charge_type"] == "renewal" and renewal["metadata"] == METADATA
        refund = control.post(f"/payments/{renewal['payment_id']}/refund", json={"amount": 100})
        assert refund.json()["is_partial"] is True
        dispute = control.post(f"/payments/{paid['payment_id']}/disputes", json={}).json()
        lost = control.post(f"/disputes/{dispute['dispute_id']}/lost").json()
        assert lost["dispute_status"] == "dispute_lost"
        bulk = control.post(
            "/payments/bulk",
            json={
                "count": 5,
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-05T00:00:00Z",
            },
        )
        assert bulk.json()["count"] == 5
        assert len(client.payments.list(page_size=100).items) == 7


def test_control_api_configures_keys_faults_and_webhooks(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    with httpx.Client(base_url=emu.control_url) as control:
        assert control.post("/keys", json={"key": "k_new", "mode": "live"}).status_code == 200
        with sdk(emu, "k_new", "live") as fresh:
            assert fresh.payments.list().items == []
            control.delete("/keys/k_new")
            with pytest.raises(dodopayments.AuthenticationError):
                fresh.payments.list()

        control.post("/faults", json={"status": 500, "count": 1})
        with pytest.raises(dodopayments.InternalServerError):
            client.customers.list()
        control.put("/down", params={"down": True})
        with pytest.raises(dodopayments.InternalServerError):
            client.customers.list()
        control.delete("/faults")
        assert client.customers.list().items == []

        endpoint = client.webhooks.create(url="http://127.0.0.1:9/closed")
        old = client.webhooks.retrieve_secret(endpoint.id).secret
        new = control.post(f"/webhooks/{endpoint.id}/rotate").json()["secret"]
        assert new != old and client.webhooks.retrieve_secret(endpoint.id).secret == new
        assert control.patch(f"/webhooks/{endpoint.id}", json={"field_set": "old"}).is_success
        assert emu.state.find_webhook(endpoint.id)[1].field_set == "old"

        product = control.post("/products", json={"name": "Team", "price": 9900}).json()
        raw = client.products.with_raw_response.retrieve(product["product_id"])
        assert Product.model_validate(raw.http_response.json()).price.price == 9900  # type: ignore[union-attr]
        info = control.get(emu.control_url).json()
        assert {k["key"] for k in info["keys"]} >= {TEST_KEY, LIVE_KEY}
        before = emu.state.clock.now()
        control.post("/clock/advance", params={"seconds": 3600})
        assert emu.state.clock.now() - before >= timedelta(hours=1)


def test_control_api_shows_and_replays_deliveries(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    emu.state.options.retry_schedule = ()
    client.webhooks.create(url="http://127.0.0.1:9/closed")
    complete_checkout(emu.state, buy(client))
    with httpx.Client(base_url=emu.control_url) as control:
        assert control.post("/deliveries/wait").json() == {"idle": True}
        log = control.get("/deliveries", params={"event_type": "payment.succeeded"}).json()
        [message] = log["messages"]
        assert message["status"] == "failed" and log["attempts"][0]["error"]
        control.post(f"/deliveries/{message['message_id']}/redeliver")
        control.post("/deliveries/wait")
        assert len(control.get("/deliveries").json()["attempts"]) == 2
        assert control.post("/deliveries/msg_missing/redeliver").status_code == 404


def test_standalone_banner_lists_urls_keys_and_products() -> None:
    with EmulatorState() as state:
        banner = describe(state, "http://127.0.0.1:8900")
    assert "http://127.0.0.1:8900/test" in banner and "http://127.0.0.1:8900/live" in banner
    for text in (
        TEST_KEY,
        LIVE_KEY,
        TEST_READ_ONLY_KEY,
        INVALID_KEY,
        ONE_TIME_PRODUCT_ID,
        MONTHLY_PRODUCT_ID,
    ):
        assert text in banner


def test_disputes_can_be_listed_and_read(emu: RunningEmulator, client: DodoPayments) -> None:
    paid = complete_checkout(emu.state, buy(client))
    opened = open_dispute(emu.state, paid.payment_id, 1000)
    lose_dispute(emu.state, opened.dispute_id)
    raw = client.disputes.with_raw_response.list().http_response.json()["items"]
    [item] = [DisputeListResponse.model_validate(d) for d in raw]
    assert (item.dispute_id, item.amount, item.dispute_status) == (
        opened.dispute_id,
        "1000",
        "dispute_lost",
    )
    assert client.disputes.list(dispute_status="dispute_opened").items == []
    assert len(client.disputes.list(customer_id=paid.customer_id).items) == 1
    detail = client.disputes.with_raw_response.retrieve(opened.dispute_id).http_response.json()
    assert GetDispute.model_validate(detail).customer.email == "jane@example.com"
    assert client.payments.retrieve(paid.payment_id).disputes[0].dispute_status == "dispute_lost"
    with pytest.raises(dodopayments.NotFoundError):
        client.disputes.retrieve("dsp_missing")


def test_payment_method_update_is_a_zero_payment(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    update = complete_checkout(
        emu.state, buy(client, MONTHLY_PRODUCT_ID), is_update_payment_method=True
    )
    shown = client.payments.retrieve(update.payment_id)
    assert (shown.total_amount, shown.is_update_payment_method, shown.charge_type) == (
        0,
        True,
        None,
    )
    assert shown.subscription_ids == []
