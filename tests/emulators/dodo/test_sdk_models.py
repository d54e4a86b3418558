"""Every body the emulator's API answers, and every webhook it delivers, validated against the
official SDK's pydantic models.

The SDK only `construct`s its models, which checks nothing: a missing field or a wrong type
would reach Bantico unnoticed. Here each answer is validated for real, in pydantic's strict
mode (JSON strict mode still reads ISO-8601 strings as datetimes, and ints as floats for
`Metadata` values, as the SDK expects). Every model here validates strictly.

Not covered on purpose: `field_set="old"` webhooks, which leave out fields that SDK 1.123
requires (`subscription_ids`, `service_periods`, …) because older real deliveries lacked them.
"""

from __future__ import annotations

import json
import re
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import dodopayments
import httpx
import pydantic
import pytest
from dodopayments import DodoPayments
from dodopayments.types import (
    CheckoutSessionResponse,
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
    UnwrapWebhookEvent,
    WebhookDetails,
    WebhookRetrieveSecretResponse,
)
from dodopayments.types.webhooks import HeaderRetrieveResponse

from bantico_emulators.dodo import (
    LIVE_KEY,
    MONTHLY_PRODUCT_ID,
    ONE_TIME_PRODUCT_ID,
    TEST_KEY,
    EmulatorOptions,
    RunningEmulator,
    complete_checkout,
    create_payments,
    escalate_dispute,
    fail_checkout,
    open_dispute,
    refund_payment,
    renew_subscription,
    resolve_dispute,
    settle_payment,
    settle_refund,
)
from bantico_emulators.dodo.traffic import route_of
from tests.emulators.dodo.conftest import Receiver, buy

T = TypeVar("T")


class Items(pydantic.BaseModel, Generic[T]):
    """A page-number page (SDK `pagination.py` `SyncDefaultPageNumberPagination`)."""

    items: list[T]


class Cursor(pydantic.BaseModel, Generic[T]):
    """A cursor page (SDK `pagination.py` `SyncCursorPagePagination`)."""

    data: list[T]
    iterator: str | None = None
    done: bool | None = None


class ErrorBody(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    code: str
    message: str


Check = Callable[[bytes], object]


def one(model: type[pydantic.BaseModel]) -> Check:
    return lambda body: model.model_validate_json(body, strict=True)


def page(model: type[pydantic.BaseModel]) -> Check:
    return lambda body: Items[model].model_validate_json(body, strict=True)  # type: ignore[valid-type]


def cursor(model: type[pydantic.BaseModel]) -> Check:
    return lambda body: Cursor[model].model_validate_json(body, strict=True)  # type: ignore[valid-type]


def empty(body: bytes) -> None:
    # The SDK casts these answers to None (`webhooks.delete`, `webhooks.headers.update`).
    assert body == b""


# Each API route of the emulator, as `route_of` names it, and the SDK model of its answer.
MODELS: dict[tuple[str, str], Check] = {
    ("GET", "/customers"): page(Customer),
    ("GET", "/customers/{id}"): one(Customer),
    ("GET", "/products"): page(ProductListResponse),
    ("GET", "/products/{id}"): one(Product),
    ("GET", "/payments"): page(PaymentListResponse),
    ("GET", "/payments/{id}"): one(Payment),
    ("POST", "/refunds"): one(Refund),
    ("GET", "/refunds"): page(RefundListItem),
    ("GET", "/refunds/{id}"): one(Refund),
    ("GET", "/subscriptions/{id}"): one(Subscription),
    ("POST", "/checkouts"): one(CheckoutSessionResponse),
    ("GET", "/checkouts/{id}"): one(CheckoutSessionStatus),
    ("GET", "/disputes"): page(DisputeListResponse),
    ("GET", "/disputes/{id}"): one(GetDispute),
    ("POST", "/webhooks"): one(WebhookDetails),
    ("GET", "/webhooks"): cursor(WebhookDetails),
    ("GET", "/webhooks/{id}"): one(WebhookDetails),
    ("PATCH", "/webhooks/{id}"): one(WebhookDetails),
    ("DELETE", "/webhooks/{id}"): empty,
    ("GET", "/webhooks/{id}/secret"): one(WebhookRetrieveSecretResponse),
    ("GET", "/webhooks/{id}/headers"): one(HeaderRetrieveResponse),
    ("PATCH", "/webhooks/{id}/headers"): empty,
}

_UNWRAP: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(UnwrapWebhookEvent)
EVENT_MODELS: dict[str, type[pydantic.BaseModel]] = {
    typing.get_args(model.model_fields["type"].annotation)[0]: model
    for model in typing.get_args(typing.get_args(UnwrapWebhookEvent)[0])
}


class Validator:
    """An httpx response hook: checks every answer the SDK receives against its model."""

    def __init__(self) -> None:
        self.checked: Counter[tuple[str, str]] = Counter()
        self.problems: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        path = response.request.url.path
        mode, _, rest = path.lstrip("/").partition("/")
        key = (response.request.method, route_of(rest))
        try:
            if response.is_success:
                MODELS[key](response.content)
                self.checked[key] += 1
            elif response.content:  # a 401 may have no body, as seen live
                ErrorBody.model_validate_json(response.content, strict=True)
        except (pydantic.ValidationError, KeyError, AssertionError) as error:
            self.problems.append(f"{key} {response.status_code} ({mode}): {error}")


@pytest.fixture
def options() -> EmulatorOptions:
    # Not about rate limits: this test reads back a few hundred records as fast as it can.
    return EmulatorOptions(time_scale=0.001, rate_limit=None)


@pytest.fixture
def validator() -> Validator:
    return Validator()


@pytest.fixture
def sdk(emu: RunningEmulator, validator: Validator) -> Iterator[DodoPayments]:
    with httpx.Client(event_hooks={"response": [validator]}) as http:
        yield DodoPayments(
            bearer_token=TEST_KEY, base_url=emu.test_url, max_retries=0, http_client=http
        )


def test_the_models_cover_every_api_route(emu: RunningEmulator) -> None:
    routes = {
        (method.upper(), re.sub(r"\{\w+\}", "{id}", path.removeprefix("/test")))
        for path, operations in emu.app.openapi()["paths"].items()
        if path.startswith("/test/")
        for method in operations
    }
    assert routes == set(MODELS)


def test_every_answer_and_webhook_fits_the_sdk_models(
    emu: RunningEmulator, sdk: DodoPayments, validator: Validator, receiver: Receiver
) -> None:
    state = emu.state
    endpoint = sdk.webhooks.create(
        url=receiver.url, description="Bantico", metadata={"tenant": "t1"}, headers={"X-T": "1"}
    )
    _manage_webhooks(sdk, endpoint.id)
    _make_a_ledger(emu, sdk)
    with httpx.Client(event_hooks={"response": [validator]}) as http:
        live = DodoPayments(
            bearer_token=LIVE_KEY, base_url=emu.live_url, max_retries=0, http_client=http
        )
        complete_checkout(state, buy(live, email="live@example.com"))
        _read_everything(live, emu, "live")
    _read_everything(sdk, emu, "test")
    for mistake in (
        lambda: sdk.payments.retrieve("pay_missing"),
        lambda: sdk.refunds.create(payment_id="pay_missing"),
        lambda: sdk.payments.list(page_number=51),
    ):
        with pytest.raises(dodopayments.APIStatusError):
            mistake()

    assert validator.problems == []
    assert set(validator.checked) == set(MODELS), set(MODELS) - set(validator.checked)

    assert state.deliveries.wait_idle()
    sent = Counter[str]()
    for request in receiver.requests:
        event = _UNWRAP.validate_json(request.body, strict=True)
        kind = json.loads(request.body)["type"]
        specific = EVENT_MODELS[kind].model_validate_json(request.body, strict=True)
        assert type(event) is type(specific)
        sent[kind] += 1
    assert set(sent) == {
        *(f"payment.{s}" for s in ("succeeded", "failed", "processing", "cancelled")),
        "refund.succeeded",
        "refund.failed",
        *(
            f"dispute.{s}"
            for s in ("opened", "challenged", "won", "lost", "accepted", "expired", "cancelled")
        ),
        *(f"subscription.{s}" for s in ("active", "renewed", "on_hold", "failed")),
    }


def _manage_webhooks(sdk: DodoPayments, ours: str) -> None:
    spare = sdk.webhooks.create(
        url="http://127.0.0.1:9/spare", filter_types=["payment.succeeded"], disabled=True
    )
    sdk.webhooks.retrieve(spare.id)
    sdk.webhooks.update(spare.id, description="spare", rate_limit=10, metadata={"a": "b"})
    first = sdk.webhooks.list(limit=1)
    assert first.iterator and not first.done
    sdk.webhooks.list(limit=1, iterator=first.iterator)
    sdk.webhooks.retrieve_secret(ours)
    sdk.webhooks.headers.update(ours, headers={"X-Other": "2"})
    assert sdk.webhooks.headers.retrieve(ours).headers == {"X-T": "1", "X-Other": "2"}
    sdk.webhooks.delete(spare.id)


def _make_a_ledger(emu: RunningEmulator, sdk: DodoPayments) -> None:
    """One of everything the emulator can make, through the SDK where Dodo's API makes it."""
    state = emu.state
    # One-time purchases, refunded in part and in full; pending refunds that settle or not.
    one = complete_checkout(state, buy(sdk))
    sdk.refunds.create(
        payment_id=one.payment_id,
        items=[{"item_id": ONE_TIME_PRODUCT_ID, "amount": 1000}],
        reason="Partial",
    )
    sdk.refunds.create(payment_id=one.payment_id)
    two = complete_checkout(state, buy(sdk, email="sam@example.com"), tax=400)
    settle_refund(
        state, refund_payment(state, two.payment_id, 500, status="pending").refund_id, "succeeded"
    )
    settle_refund(
        state, refund_payment(state, two.payment_id, 700, status="pending").refund_id, "failed"
    )
    refund_payment(state, two.payment_id, 100, status="review")
    refund_payment(state, two.payment_id, 200, status="pending")
    abroad = complete_checkout(
        state,
        buy(sdk, email="priya@example.com"),
        currency="INR",
        amount=409900,
        settlement_currency="USD",
        settlement_amount=4800,
        payment_method="upi",
    )

    # Subscriptions: renewed, declined, retried with metadata, a trial, a card update.
    subscribed = complete_checkout(state, buy(sdk, MONTHLY_PRODUCT_ID, email="ann@example.com"))
    [subscription_id] = subscribed.subscription_ids
    renew_subscription(state, subscription_id)
    renew_subscription(state, subscription_id, succeed=False)
    renewal = renew_subscription(state, subscription_id, copy_metadata=True, retry_attempt=1)
    refund_payment(state, renewal.payment_id, 900)
    complete_checkout(
        state, buy(sdk, MONTHLY_PRODUCT_ID, subscription_data={"trial_period_days": 7})
    )
    complete_checkout(state, buy(sdk, MONTHLY_PRODUCT_ID), is_update_payment_method=True)

    # Declined then paid; processing payments settling every way, one still processing.
    session_id = buy(sdk, email="bo@example.com")
    fail_checkout(state, session_id)
    complete_checkout(state, session_id)
    for outcome in ("succeeded", "failed", "cancelled"):
        processing = complete_checkout(state, buy(sdk), status="processing")
        settle_payment(state, processing.payment_id, outcome)
    first = complete_checkout(state, buy(sdk, MONTHLY_PRODUCT_ID), status="processing")
    settle_payment(state, first.payment_id, "failed")
    first = complete_checkout(state, buy(sdk, MONTHLY_PRODUCT_ID), status="processing")
    settle_payment(state, first.payment_id, "succeeded")
    complete_checkout(state, buy(sdk), status="processing")
    complete_checkout(state, buy(sdk), status="cancelled")
    buy(sdk, email="browsing@example.com")  # never paid

    # Disputes at every stage and in every status.
    dispute = open_dispute(state, two.payment_id, 1000, stage="pre_dispute")
    resolve_dispute(state, dispute.dispute_id, "dispute_challenged")
    escalate_dispute(state, dispute.dispute_id, "dispute")
    resolve_dispute(state, dispute.dispute_id, "dispute_won")
    escalate_dispute(state, dispute.dispute_id, "pre_arbitration")
    resolve_dispute(state, dispute.dispute_id, "dispute_lost")
    for status in ("dispute_accepted", "dispute_expired", "dispute_cancelled"):
        resolve_dispute(state, open_dispute(state, abroad.payment_id).dispute_id, status)
    open_dispute(state, subscribed.payment_id)  # left open

    # History made in bulk, with its own refunds and disputes.
    start = datetime.now(UTC) - timedelta(days=30)
    create_payments(
        state,
        30,
        start=start,
        end=start + timedelta(days=20),
        refund_every=4,
        partial_refund_every=3,
        dispute_every=5,
        dispute_status="dispute_challenged",
        metadata=lambda i: {"linkId": f"lnk_{i}", "n": i, "vip": i % 2 == 0},
    )
    create_payments(state, 3, start=start, end=start + timedelta(days=1), status="failed")
    create_payments(state, 2, start=start, end=start, status="processing")


def _pages(listing: Callable[..., Any], **filters: Any) -> list[Any]:
    """Every item, paged by hand (the SDK's paginator skips page 1)."""
    found: list[Any] = []
    for number in range(50):
        items = listing(page_number=number, page_size=100, **filters).items
        found += items
        if len(items) < 100:
            return found
    raise AssertionError("too many pages")


def _read_everything(sdk: DodoPayments, emu: RunningEmulator, mode: str) -> None:
    ledger = emu.state.ledger(mode=mode)  # type: ignore[arg-type]
    for product in sdk.products.list(page_size=100).items:
        sdk.products.retrieve(product.product_id)
    sdk.products.list(recurring=True)
    for session_id in list(ledger.checkouts):
        sdk.checkout_sessions.retrieve(session_id)
    payments = _pages(sdk.payments.list)
    assert len(payments) == len(ledger.payments)
    for status in ("succeeded", "failed", "processing", "cancelled"):
        sdk.payments.list(status=status)
    for payment in payments:
        sdk.payments.retrieve(payment.payment_id)
    refunds = _pages(sdk.refunds.list)
    assert len(refunds) == len(ledger.refunds)
    for refund in refunds:
        sdk.refunds.retrieve(refund.refund_id)
    sdk.refunds.list(status="pending")
    disputes = _pages(sdk.disputes.list)
    assert len(disputes) == len(ledger.disputes)
    for dispute in disputes:
        sdk.disputes.retrieve(dispute.dispute_id)
    for customer in _pages(sdk.customers.list):
        sdk.customers.retrieve(customer.customer_id)
        sdk.payments.list(customer_id=customer.customer_id)
    for subscription_id in list(ledger.subscriptions):
        sdk.subscriptions.retrieve(subscription_id)
        sdk.payments.list(subscription_id=subscription_id)
