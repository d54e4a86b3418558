"""Checkout sessions: creating one (`POST /checkouts`) and paying or failing it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bantico_emulators.dodo.clock import add_interval
from bantico_emulators.dodo.emit import payment_event, subscription_event
from bantico_emulators.dodo.errors import DodoError, invalid, not_found
from bantico_emulators.dodo.events import Event
from bantico_emulators.dodo.ids import new_id
from bantico_emulators.dodo.records import (
    CartItem,
    CheckoutSession,
    Customer,
    Ledger,
    Metadata,
    Payment,
    ServicePeriod,
    Subscription,
)
from bantico_emulators.dodo.state import EmulatorState

CheckoutOutcome = Literal["succeeded", "failed", "processing", "cancelled"]
_METADATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def validate_metadata(raw: object) -> Metadata:
    """Dodo's rules (api-reference/metadata): ≤50 pairs; keys ≤40 chars of letters, digits, `-`,
    `_`; values a string (≤500 chars), number or boolean; no objects, arrays or null."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid("metadata must be an object")
    if len(raw) > 50:
        raise invalid("metadata can have at most 50 key-value pairs")
    for key, value in raw.items():
        if not isinstance(key, str) or not _METADATA_KEY.match(key):
            raise invalid(
                f"metadata key {key!r} must be 1-40 letters, digits, hyphens or underscores"
            )
        if isinstance(value, str) and len(value) > 500:
            raise invalid(f"metadata value for {key!r} is longer than 500 characters")
        if not isinstance(value, str | int | float | bool):
            raise invalid(f"metadata value for {key!r} must be a string, number or boolean")
    return dict(raw)


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: str
    quantity: int = 1
    amount: int | None = None  # pay-what-you-want price, per unit


def create_checkout(
    state: EmulatorState,
    ledger: Ledger,
    cart: list[CartLine],
    *,
    customer_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    return_url: str | None = None,
    metadata: Any = None,
    trial_period_days: int = 0,
) -> CheckoutSession:
    clean = validate_metadata(metadata)
    if not 1 <= len(cart) <= 20:
        raise invalid("product_cart must hold between 1 and 20 products")
    with state.lock:
        items = []
        for line in cart:
            product = ledger.products.get(line.product_id)
            if product is None:
                raise not_found("Product", line.product_id)
            price = product.price if line.amount is None else line.amount
            items.append(
                CartItem(product_id=product.product_id, quantity=line.quantity, unit_price=price)
            )
        if customer_id is not None:
            known = ledger.customers.get(customer_id)
            if known is None:
                raise not_found("Customer", customer_id)
            email, name = known.email, known.name
        session = CheckoutSession(
            session_id=new_id("cks"),
            business_id=ledger.business_id,
            created_at=state.clock.now(),
            cart=items,
            currency=ledger.products[items[0].product_id].currency,
            metadata=clean,
            customer_id=customer_id,
            customer_email=email,
            customer_name=name,
            return_url=return_url,
            trial_period_days=trial_period_days,
        )
        ledger.checkouts[session.session_id] = session
        return session


def find_or_create_customer(
    state: EmulatorState, ledger: Ledger, email: str, name: str | None = None
) -> Customer:
    """A checkout with a known email reuses that customer (observed live, docs/dodo.md §6)."""
    with state.lock:
        wanted = email.strip().lower()
        for existing in ledger.customers.values():
            if existing.email.lower() == wanted:
                return existing
        created = Customer(
            customer_id=new_id("cus"),
            business_id=ledger.business_id,
            email=email.strip(),
            name=name or email.split("@")[0],
            created_at=state.clock.now(),
        )
        ledger.customers[created.customer_id] = created
        return created


def complete_checkout(
    state: EmulatorState,
    session_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    settlement_amount: int | None = None,
    settlement_currency: str | None = None,
    tax: int = 0,
    is_update_payment_method: bool = False,
    payment_method: str = "card",
    succeed: bool = True,
    error_code: str = "CARD_DECLINED",
    status: CheckoutOutcome | None = None,
) -> Payment:
    """Pay a session as the hosted page would, and queue its webhooks.

    `status` (default: `succeeded`, or `failed` when `succeed` is false) decides the outcome.
    Success sends `payment.succeeded` and, per subscription product, `subscription.active`;
    `failed` and `cancelled` send `payment.failed` / `payment.cancelled`. `processing` (a bank
    transfer, say) sends `payment.processing` and leaves any subscription `pending` until
    `billing.settle_payment`. `amount` defaults to the cart total, or 0 during a trial or for
    a payment-method update. Settlement defaults to the charged amount and currency.
    """
    outcome = status or ("succeeded" if succeed else "failed")
    if outcome not in ("succeeded", "failed", "processing", "cancelled"):
        raise invalid(f"a checkout ends succeeded, failed, processing or cancelled, not {outcome}")
    with state.lock:
        ledger, session = state.find_checkout(session_id)
        paid = ledger.payments.get(session.payment_id or "")
        # Assumption: a session whose payment is still processing cannot be paid again.
        if paid is not None and paid.status in ("succeeded", "processing"):
            raise DodoError(409, "CHECKOUT_SESSION_CONSUMED", "Checkout session is already paid")
        email = email or session.customer_email
        if session.customer_id is None and not email:
            raise invalid("an email is needed to pay this checkout session")
        buyer = (
            ledger.customers[session.customer_id]
            if session.customer_id
            else find_or_create_customer(state, ledger, email or "", name or session.customer_name)
        )
        now = state.clock.now()
        recurring = [i for i in session.cart if ledger.products[i.product_id].recurring]
        one_time = [i for i in session.cart if not ledger.products[i.product_id].recurring]
        due = sum(i.amount for i in one_time)
        if not session.trial_period_days:
            due += sum(i.amount for i in recurring)
        total = amount if amount is not None else (0 if is_update_payment_method else due)
        # A payment-method update pays for nothing new: no subscription starts.
        starts = outcome in ("succeeded", "processing") and not is_update_payment_method
        # Assumption: while its first payment is processing a subscription exists, `pending`
        # (a SubscriptionStatus), and the payment names it; Dodo does not describe this case.
        subscriptions = (
            [
                _subscribe(state, ledger, session, item, buyer, pending=outcome == "processing")
                for item in recurring
            ]
            if starts
            else []
        )
        failed = outcome == "failed"
        charged_currency = currency or session.currency
        payment = Payment(
            payment_id=new_id("pay"),
            business_id=ledger.business_id,
            created_at=now,
            status=outcome,
            currency=charged_currency,
            total_amount=total,
            tax=tax,
            settlement_amount=total if settlement_amount is None else settlement_amount,
            settlement_currency=settlement_currency or charged_currency,
            customer_id=buyer.customer_id,
            metadata=dict(session.metadata),
            # Real subscription payments carried `product_cart: null` (FIELD a).
            cart=None if recurring else list(session.cart),
            checkout_session_id=session.session_id,
            subscription_ids=[s.subscription_id for s in subscriptions],
            charge_type="new" if recurring and not is_update_payment_method else None,
            service_periods=[
                ServicePeriod(
                    subscription_id=s.subscription_id, starts_at=now, ends_at=s.next_billing_date
                )
                for s in subscriptions
                if total > 0
            ],
            is_update_payment_method=is_update_payment_method,
            payment_method=payment_method,
            error_code=error_code if failed else None,
            error_message="The card was declined." if failed else None,
        )
        ledger.payments[payment.payment_id] = payment
        session.payment_id = payment.payment_id
        session.customer_email, session.customer_name = buyer.email, buyer.name
        events: list[Event] = [
            payment_event(state, ledger, f"payment.{payment.status}", payment.payment_id)
        ]
        events += [
            subscription_event(state, ledger, "subscription.active", s.subscription_id)
            for s in subscriptions
            if s.status == "active"
        ]
        state.publish(*events)
        return payment


def fail_checkout(state: EmulatorState, session_id: str, **options: Any) -> Payment:
    """A declined attempt: `payment.failed`. The session can still be paid afterwards."""
    return complete_checkout(state, session_id, succeed=False, **options)


def _subscribe(
    state: EmulatorState,
    ledger: Ledger,
    session: CheckoutSession,
    item: CartItem,
    buyer: Customer,
    *,
    pending: bool = False,
) -> Subscription:
    product = ledger.products[item.product_id]
    now = state.clock.now()
    first_bill = (
        add_interval(now, "Day", session.trial_period_days)
        if session.trial_period_days
        else add_interval(now, product.interval, product.interval_count)
    )
    subscription = Subscription(
        subscription_id=new_id("sub"),
        business_id=ledger.business_id,
        created_at=now,
        product_id=product.product_id,
        quantity=item.quantity,
        customer_id=buyer.customer_id,
        currency=product.currency,
        amount=item.amount,
        interval=product.interval,
        interval_count=product.interval_count,
        previous_billing_date=now,
        next_billing_date=first_bill,
        # The subscription keeps the checkout's metadata (FIELD a: same key on both).
        metadata=dict(session.metadata),
        status="pending" if pending else "active",
        trial_period_days=session.trial_period_days,
        checkout_session_id=session.session_id,
    )
    ledger.subscriptions[subscription.subscription_id] = subscription
    return subscription
