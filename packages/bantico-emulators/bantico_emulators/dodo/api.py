"""Dodo's API as Bantico and a merchant's checkout use it. Included under `/test` and `/live`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bantico_emulators.dodo import billing, checkouts, payloads
from bantico_emulators.dodo.auth import Caller, CallerDep
from bantico_emulators.dodo.errors import invalid, not_found
from bantico_emulators.dodo.listing import CreatedFrom, CreatedTo, PageNumber, PageSize, select
from bantico_emulators.dodo.payloads import Json
from bantico_emulators.dodo.records import Ledger, Payment

router = APIRouter()


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CartLineIn(_Body):
    product_id: str
    quantity: int = Field(1, ge=1)
    amount: int | None = Field(None, ge=0)


class CustomerIn(_Body):
    customer_id: str | None = None
    email: str | None = None
    name: str | None = None


class SubscriptionDataIn(_Body):
    trial_period_days: int | None = Field(None, ge=0)


class CheckoutCreate(_Body):
    product_cart: list[CartLineIn]
    customer: CustomerIn | None = None
    return_url: str | None = None
    metadata: Any = None
    subscription_data: SubscriptionDataIn | None = None


class RefundItemIn(_Body):
    item_id: str
    amount: int | None = None


class RefundCreate(_Body):
    payment_id: str
    items: list[RefundItemIn] | None = None
    amount: int | None = None  # not in the SDK: a shorthand for one partial amount
    reason: str | None = Field(None, max_length=3000)
    metadata: Any = None


@router.get("/customers")
def list_customers(
    caller: CallerDep,
    page_number: PageNumber = 0,
    page_size: PageSize = 10,
    email: str | None = None,
    name: str | None = None,
    created_at_gte: CreatedFrom = None,
    created_at_lte: CreatedTo = None,
) -> JSONResponse:
    with caller.state.lock:
        rows = [
            c
            for c in caller.ledger.customers.values()
            if (email is None or c.email.lower() == email.strip().lower())
            and (name is None or name.lower() in c.name.lower())
        ]
        page = _page(caller, rows, created_at_gte, created_at_lte, page_number, page_size)
        return _listed([payloads.customer(c) for c in page])


@router.get("/customers/{customer_id}")
def get_customer(caller: CallerDep, customer_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.customers.get(customer_id)
        if found is None:
            raise not_found("Customer", customer_id)
        return payloads.customer(found)


@router.get("/products")
def list_products(
    caller: CallerDep,
    page_number: PageNumber = 0,
    page_size: PageSize = 10,
    recurring: bool | None = None,
) -> Json:
    with caller.state.lock:
        rows = [p for p in caller.ledger.products.values() if recurring in (None, p.recurring)]
        page = _page(caller, rows, None, None, page_number, page_size)
        return {"items": [payloads.product(p) for p in page]}


@router.get("/products/{product_id}")
def get_product(caller: CallerDep, product_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.products.get(product_id)
        if found is None:
            raise not_found("Product", product_id)
        return payloads.product_detail(found)


@router.get("/payments")
def list_payments(
    caller: CallerDep,
    page_number: PageNumber = 0,
    page_size: PageSize = 10,
    created_at_gte: CreatedFrom = None,
    created_at_lte: CreatedTo = None,
    status: str | None = None,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    product_id: str | None = None,
    brand_id: str | None = None,
    currency: str | None = None,
) -> JSONResponse:
    """Items are `PaymentListResponse`: no settlement, tax, billing or refunds (docs/dodo.md §4)."""
    ledger = caller.ledger
    tests: list[Callable[[Payment], bool]] = []
    if status is not None:
        tests.append(lambda p: p.status == status)
    if customer_id is not None:
        tests.append(lambda p: p.customer_id == customer_id)
    if brand_id is not None:
        tests.append(lambda p: p.business_id == brand_id)
    if currency is not None:
        tests.append(lambda p: p.currency == currency.upper())
    if subscription_id is not None:
        tests.append(lambda p: subscription_id in p.subscription_ids)
    if product_id is not None:
        tests.append(lambda p: product_id in _products_of(ledger, p))
    with caller.state.lock:
        rows = [p for p in ledger.payments.values() if all(test(p) for test in tests)]
        page = _page(caller, rows, created_at_gte, created_at_lte, page_number, page_size)
        return _listed([payloads.payment_list_item(ledger, p) for p in page])


@router.get("/payments/{payment_id}")
def get_payment(caller: CallerDep, payment_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.payments.get(payment_id)
        if found is None:
            raise not_found("Payment", payment_id)
        return payloads.payment(caller.ledger, found)


@router.post("/refunds")
def create_refund(caller: CallerDep, body: RefundCreate) -> Json:
    """Refund all that is left, or the sum of `items[].amount` (each defaulting to its line)."""
    state, ledger = caller.state, caller.ledger
    with state.lock:
        paid = ledger.payments.get(body.payment_id)
        if paid is None:
            raise not_found("Payment", body.payment_id)
        amount = body.amount
        if body.items:
            lines = {i.product_id: i.amount for i in paid.cart or []}
            for product in _products_of(ledger, paid) - lines.keys():
                lines[product] = paid.total_amount
            missing = [i.item_id for i in body.items if i.item_id not in lines]
            if missing:
                raise invalid(f"Items {missing} are not part of payment {paid.payment_id}")
            amount = sum(lines[i.item_id] if i.amount is None else i.amount for i in body.items)
        refund = billing.refund_payment(
            state,
            paid.payment_id,
            amount,
            reason=body.reason,
            metadata=checkouts.validate_metadata(body.metadata),
        )
        return payloads.refund(ledger, refund)


@router.get("/refunds")
def list_refunds(
    caller: CallerDep,
    page_number: PageNumber = 0,
    page_size: PageSize = 10,
    created_at_gte: CreatedFrom = None,
    created_at_lte: CreatedTo = None,
    status: str | None = None,
    customer_id: str | None = None,
    subscription_id: str | None = None,
) -> JSONResponse:
    """Items are `RefundListItem`: no customer, metadata or brand. There is no payment filter."""
    ledger = caller.ledger
    with caller.state.lock:
        rows = []
        for r in ledger.refunds.values():
            paid = ledger.payments[r.payment_id]
            if (
                status in (None, r.status)
                and customer_id in (None, paid.customer_id)
                and (subscription_id is None or subscription_id in paid.subscription_ids)
            ):
                rows.append(r)
        page = _page(caller, rows, created_at_gte, created_at_lte, page_number, page_size)
        return _listed([payloads.refund_list_item(r) for r in page])


@router.get("/refunds/{refund_id}")
def get_refund(caller: CallerDep, refund_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.refunds.get(refund_id)
        if found is None:
            raise not_found("Refund", refund_id)
        return payloads.refund(caller.ledger, found)


@router.get("/subscriptions/{subscription_id}")
def get_subscription(caller: CallerDep, subscription_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.subscriptions.get(subscription_id)
        if found is None:
            raise not_found("Subscription", subscription_id)
        return payloads.subscription(caller.ledger, found)


@router.post("/checkouts")
def create_checkout(caller: CallerDep, body: CheckoutCreate, request: Request) -> Json:
    """A hosted checkout session; its `checkout_url` opens the emulator's Pay page."""
    buyer = body.customer or CustomerIn()
    trial = body.subscription_data.trial_period_days if body.subscription_data else None
    session = checkouts.create_checkout(
        caller.state,
        caller.ledger,
        [checkouts.CartLine(i.product_id, i.quantity, i.amount) for i in body.product_cart],
        customer_id=buyer.customer_id,
        email=buyer.email,
        name=buyer.name,
        return_url=body.return_url,
        metadata=body.metadata,
        trial_period_days=trial or 0,
    )
    base = caller.state.options.public_url or str(request.base_url)
    return {
        "session_id": session.session_id,
        "checkout_url": f"{base.rstrip('/')}/checkout/{session.session_id}",
        "payment_id": None,
        "client_secret": None,
        "publishable_key": None,
    }


@router.get("/checkouts/{session_id}")
def get_checkout(caller: CallerDep, session_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.checkouts.get(session_id)
        if found is None:
            raise not_found("Checkout session", session_id)
        return payloads.checkout_status(caller.ledger, found)


def _listed(items: list[Json]) -> JSONResponse:
    # Straight to JSON: FastAPI would re-validate every item, and backfill tests fetch
    # thousands of 100-item pages.
    return JSONResponse({"items": items})


def _products_of(ledger: Ledger, paid: Payment) -> set[str]:
    if paid.cart is not None:
        return {i.product_id for i in paid.cart}
    return {ledger.subscriptions[s].product_id for s in paid.subscription_ids}


def _page(
    caller: Caller, rows: list[Any], gte: Any, lte: Any, page_number: int, page_size: int
) -> list[Any]:
    return select(
        rows,
        gte=gte,
        lte=lte,
        page_number=page_number,
        page_size=page_size,
        max_page_number=caller.state.options.max_page_number,
    )
