"""What happens to a payment after checkout: settling a processing payment, refunds (settled
later when pending), renewals, disputes through their stages, and bulk history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from bantico_emulators.dodo.clock import add_interval
from bantico_emulators.dodo.emit import (
    dispute_event,
    payment_event,
    refund_event,
    subscription_event,
)
from bantico_emulators.dodo.errors import invalid, not_found
from bantico_emulators.dodo.ids import new_id
from bantico_emulators.dodo.records import (
    CartItem,
    Customer,
    Dispute,
    Metadata,
    Mode,
    Payment,
    Refund,
    ServicePeriod,
)
from bantico_emulators.dodo.state import BUSINESS_ID, ONE_TIME_PRODUCT_ID, EmulatorState

RefundStatus = Literal["succeeded", "failed", "pending", "review"]
SettledStatus = Literal["succeeded", "failed", "cancelled"]  # where a processing payment ends
RefundOutcome = Literal["succeeded", "failed"]  # where a pending refund ends
# SDK `types/intent_status.py`
INTENT_STATUSES = frozenset(
    {
        "succeeded",
        "failed",
        "cancelled",
        "processing",
        "requires_customer_action",
        "requires_merchant_action",
        "requires_payment_method",
        "requires_confirmation",
        "requires_capture",
        "partially_captured",
        "partially_captured_and_capturable",
    }
)
# SDK `types/dispute_status.py`; each has its `dispute.*` event (`dispute_won` → `dispute.won`).
DISPUTE_STATUSES = frozenset(
    {
        "dispute_opened",
        "dispute_expired",
        "dispute_accepted",
        "dispute_cancelled",
        "dispute_challenged",
        "dispute_won",
        "dispute_lost",
    }
)
# SDK `types/dispute_stage.py`, in the order a chargeback goes through them.
DISPUTE_STAGES = ("pre_dispute", "dispute", "pre_arbitration")


def settle_payment(
    state: EmulatorState,
    payment_id: str,
    status: SettledStatus,
    *,
    error_code: str = "CARD_DECLINED",
) -> Payment:
    """Finish a `processing` payment: `payment.succeeded`, `.failed` or `.cancelled`.

    A first subscription payment also settles its subscription, as `complete_checkout` does
    at once for a card: `subscription.active` on success, else `subscription.failed`.
    """
    if status not in ("succeeded", "failed", "cancelled"):
        raise invalid(f"a processing payment ends succeeded, failed or cancelled, not {status!r}")
    with state.lock:
        ledger, paid = state.find_payment(payment_id)
        if paid.status != "processing":
            raise invalid(f"Payment {payment_id} is {paid.status}", "PAYMENT_NOT_PROCESSING")
        paid.status = status
        paid.updated_at = state.clock.now()
        if status != "succeeded":
            paid.service_periods = []
            paid.error_code = error_code if status == "failed" else None
            paid.error_message = "The payment failed." if status == "failed" else None
        events = [payment_event(state, ledger, f"payment.{status}", payment_id)]
        for subscription_id in paid.subscription_ids:
            subscription = ledger.subscriptions[subscription_id]
            if subscription.status != "pending":
                continue
            # Assumption: a subscription whose first payment fails or is cancelled ends
            # `failed` with `subscription.failed` ("failed to be created"); Dodo does not say.
            subscription.status = "active" if status == "succeeded" else "failed"
            kind = "subscription.active" if status == "succeeded" else "subscription.failed"
            events.append(subscription_event(state, ledger, kind, subscription_id))
        state.publish(*events)
        return paid


def refundable(state: EmulatorState, payment_id: str) -> int:
    """What is left to refund: the total minus refunds that succeeded or may still succeed."""
    with state.lock:
        ledger, paid = state.find_payment(payment_id)
        taken = sum(
            ledger.refunds[r].amount
            for r in paid.refund_ids
            if ledger.refunds[r].status in ("succeeded", "pending", "review")
        )
        return paid.total_amount - taken


def refund_payment(
    state: EmulatorState,
    payment_id: str,
    amount: int | None = None,
    *,
    reason: str | None = None,
    status: RefundStatus = "succeeded",
    metadata: Metadata | None = None,
) -> Refund:
    """Refund `amount` (default: all that is left) and send `refund.succeeded` or `.failed`.

    A `pending` (or `review`) refund sends nothing: there is no `refund.pending` event type.
    `settle_refund` finishes it later.
    """
    with state.lock:
        ledger, paid = state.find_payment(payment_id)
        if paid.status != "succeeded":
            raise invalid(f"Payment {payment_id} has not succeeded", "PAYMENT_NOT_SUCCEEDED")
        left = refundable(state, payment_id)
        if left <= 0:
            raise invalid(f"Payment {payment_id} is already fully refunded", "ALREADY_REFUNDED")
        amount = left if amount is None else amount
        if amount <= 0:
            raise invalid("Refund amount must be positive")
        if amount > left:
            raise invalid(
                f"Refund amount {amount} exceeds the refundable amount {left}",
                "REFUND_AMOUNT_EXCEEDS_PAYMENT",
            )
        now = state.clock.now()
        refund = Refund(
            refund_id=new_id("ref"),
            payment_id=payment_id,
            business_id=ledger.business_id,
            created_at=now,
            amount=amount,
            currency=paid.currency,
            is_partial=amount < paid.total_amount,
            status=status,
            reason=reason,
            metadata=dict(metadata or {}),
        )
        ledger.refunds[refund.refund_id] = refund
        paid.refund_ids.append(refund.refund_id)
        paid.updated_at = now
        if status in ("succeeded", "failed"):
            state.publish(refund_event(state, ledger, f"refund.{status}", refund.refund_id))
        return refund


def settle_refund(state: EmulatorState, refund_id: str, status: RefundOutcome) -> Refund:
    """Finish a pending refund: `succeeded` or `failed`, with `refund.succeeded` / `.failed`."""
    if status not in ("succeeded", "failed"):
        raise invalid(f"a pending refund ends succeeded or failed, not {status!r}")
    with state.lock:
        ledger, refund = state.find_refund(refund_id)
        if refund.status not in ("pending", "review"):
            raise invalid(f"Refund {refund_id} is {refund.status}", "REFUND_NOT_PENDING")
        refund.status = status
        ledger.payments[refund.payment_id].updated_at = state.clock.now()
        state.publish(refund_event(state, ledger, f"refund.{status}", refund_id))
        return refund


def renew_subscription(
    state: EmulatorState,
    subscription_id: str,
    *,
    copy_metadata: bool | None = None,
    succeed: bool = True,
    amount: int | None = None,
    retry_attempt: int = 0,
) -> Payment:
    """Charge the next period as a new Payment (`charge_type="renewal"`).

    Success sends `payment.succeeded` then `subscription.renewed` (whose `payment_id` names the
    payment); failure sends `payment.failed` and `subscription.on_hold`. `copy_metadata`
    defaults to `options.renewal_copies_metadata`, since Dodo does not document it.
    """
    with state.lock:
        ledger, subscription = state.find_subscription(subscription_id)
        if subscription.status not in ("active", "on_hold", "past_due"):
            raise invalid(f"Subscription {subscription_id} is {subscription.status}")
        copy = state.options.renewal_copies_metadata if copy_metadata is None else copy_metadata
        starts = subscription.next_billing_date
        ends = add_interval(starts, subscription.interval, subscription.interval_count)
        total = subscription.amount if amount is None else amount
        payment = Payment(
            payment_id=new_id("pay"),
            business_id=ledger.business_id,
            created_at=state.clock.now(),
            status="succeeded" if succeed else "failed",
            currency=subscription.currency,
            total_amount=total,
            settlement_amount=total,
            settlement_currency=subscription.currency,
            customer_id=subscription.customer_id,
            metadata=dict(subscription.metadata) if copy else {},
            subscription_ids=[subscription_id],
            charge_type="renewal",
            retry_attempt=retry_attempt,
            service_periods=(
                [ServicePeriod(subscription_id=subscription_id, starts_at=starts, ends_at=ends)]
                if succeed
                else []
            ),
            error_code=None if succeed else "INSUFFICIENT_FUNDS",
            error_message=None if succeed else "The card has insufficient funds.",
        )
        ledger.payments[payment.payment_id] = payment
        if succeed:
            subscription.previous_billing_date, subscription.next_billing_date = starts, ends
            subscription.status = "active"
            state.publish(
                payment_event(state, ledger, "payment.succeeded", payment.payment_id),
                subscription_event(
                    state, ledger, "subscription.renewed", subscription_id, payment.payment_id
                ),
            )
        else:
            subscription.status = "on_hold"
            state.publish(
                payment_event(state, ledger, "payment.failed", payment.payment_id),
                subscription_event(state, ledger, "subscription.on_hold", subscription_id),
            )
        return payment


def open_dispute(
    state: EmulatorState, payment_id: str, amount: int | None = None, *, stage: str = "dispute"
) -> Dispute:
    """A chargeback on a payment, `dispute_opened` at `stage`: `dispute.opened`."""
    if stage not in DISPUTE_STAGES:
        raise invalid(f"unknown dispute stage {stage!r}")
    with state.lock:
        ledger, paid = state.find_payment(payment_id)
        # Assumption: only a captured (succeeded) payment can be charged back.
        if paid.status != "succeeded":
            raise invalid(f"Payment {payment_id} has not succeeded", "PAYMENT_NOT_SUCCEEDED")
        dispute = Dispute(
            dispute_id=new_id("dsp"),
            payment_id=payment_id,
            business_id=ledger.business_id,
            created_at=state.clock.now(),
            amount=paid.total_amount if amount is None else amount,
            currency=paid.currency,
            stage=stage,
        )
        ledger.disputes[dispute.dispute_id] = dispute
        paid.dispute_ids.append(dispute.dispute_id)
        paid.updated_at = dispute.created_at
        state.publish(dispute_event(state, ledger, "dispute.opened", dispute.dispute_id))
        return dispute


def resolve_dispute(state: EmulatorState, dispute_id: str, status: str) -> Dispute:
    """Move a dispute to `status` (e.g. `dispute_lost`) and send the matching `dispute.*`."""
    if status not in DISPUTE_STATUSES:
        raise invalid(f"unknown dispute status {status!r}")
    with state.lock:
        ledger, dispute = state.find_dispute(dispute_id)
        dispute.status = status
        ledger.payments[dispute.payment_id].updated_at = state.clock.now()
        kind = "dispute." + status.removeprefix("dispute_")
        state.publish(dispute_event(state, ledger, kind, dispute_id))
        return dispute


def escalate_dispute(state: EmulatorState, dispute_id: str, stage: str) -> Dispute:
    """Move a dispute to a later stage (`pre_dispute` → `dispute` → `pre_arbitration`),
    open again: `dispute.opened`."""
    if stage not in DISPUTE_STAGES:
        raise invalid(f"unknown dispute stage {stage!r}")
    with state.lock:
        ledger, dispute = state.find_dispute(dispute_id)
        if DISPUTE_STAGES.index(stage) <= DISPUTE_STAGES.index(dispute.stage):
            raise invalid(
                f"Dispute {dispute_id} is already at stage {dispute.stage}", "INVALID_DISPUTE_STAGE"
            )
        # Assumption: a new stage reopens the dispute (`dispute_opened`, `dispute.opened`)
        # whatever its status was, as a won dispute can go on to pre-arbitration; Dodo
        # documents the stages and statuses but not the moves between them.
        dispute.stage = stage
        dispute.status = "dispute_opened"
        ledger.payments[dispute.payment_id].updated_at = state.clock.now()
        state.publish(dispute_event(state, ledger, "dispute.opened", dispute_id))
        return dispute


def lose_dispute(state: EmulatorState, dispute_id: str) -> Dispute:
    return resolve_dispute(state, dispute_id, "dispute_lost")


def create_payments(
    state: EmulatorState,
    count: int,
    *,
    start: datetime,
    end: datetime,
    mode: Mode = "test",
    business_id: str = BUSINESS_ID,
    product_id: str = ONE_TIME_PRODUCT_ID,
    customers: int | None = None,
    status: str = "succeeded",
    metadata: Metadata | Callable[[int], Metadata] | None = None,
    refund_every: int | None = None,
    partial_refund_every: int | None = None,
    partial_refund_amount: int | None = None,
    dispute_every: int | None = None,
    dispute_status: str = "dispute_lost",
    dispute_stage: str = "dispute",
    aftermath: timedelta = timedelta(days=2),
) -> list[Payment]:
    """History for backfill tests: `count` payments spread evenly from `start` to `end`, shared
    among `customers` new customers (default one per four payments).

    Every `refund_every`-th payment (the N-th, 2N-th, …) is refunded in full, every
    `partial_refund_every`-th in part (`partial_refund_amount`, default half; a full refund
    wins where both fall), and every `dispute_every`-th is disputed, ending in
    `dispute_status` at `dispute_stage`. Refunds and disputes are dated `aftermath` after
    their payment, or halfway to `end` if that is sooner. No webhooks are sent: all of this
    happened before anyone listened.
    """
    if status not in INTENT_STATUSES:
        raise invalid(f"unknown payment status {status!r}")
    for every in (refund_every, partial_refund_every, dispute_every):
        if every is not None and every < 1:
            raise invalid("refund_every, partial_refund_every and dispute_every must be ≥ 1")
    if (refund_every or partial_refund_every or dispute_every) and status != "succeeded":
        raise invalid("only succeeded payments can be refunded or disputed")
    if dispute_status not in DISPUTE_STATUSES or dispute_stage not in DISPUTE_STAGES:
        raise invalid(f"unknown dispute status or stage: {dispute_status!r}, {dispute_stage!r}")
    with state.lock:
        ledger = state.ledger(business_id, mode)
        product = ledger.products.get(product_id)
        if product is None:
            raise not_found("Product", product_id)
        price = product.price
        part = price // 2 if partial_refund_amount is None else partial_refund_amount
        if partial_refund_every and not 0 < part < price:
            raise invalid(f"partial_refund_amount must be between 0 and {price}, exclusive")
        batch = new_id("b", 6)[2:]
        buyers = [
            Customer(
                customer_id=new_id("cus"),
                business_id=business_id,
                email=f"buyer{i}.{batch}@example.com",
                name=f"Buyer {i}",
                created_at=start,
            )
            for i in range(customers or max(1, count // 4))
        ]
        ledger.customers.update((c.customer_id, c) for c in buyers)
        span, steps = end - start, max(count - 1, 1)
        failed = status == "failed"
        made = []
        for i in range(count):
            tags = metadata(i) if callable(metadata) else dict(metadata or {})
            created = start + span * i / steps  # not `step * i`: its rounding overshoots `end`
            payment = Payment(
                payment_id=new_id("pay"),
                business_id=business_id,
                created_at=created,
                status=status,
                currency=product.currency,
                total_amount=price,
                settlement_amount=price,
                settlement_currency=product.currency,
                customer_id=buyers[i % len(buyers)].customer_id,
                metadata=tags,
                cart=[CartItem(product_id=product_id, quantity=1, unit_price=price)],
                error_code="CARD_DECLINED" if failed else None,
                error_message="The card was declined." if failed else None,
            )
            ledger.payments[payment.payment_id] = payment
            made.append(payment)
            nth = i + 1
            full = bool(refund_every) and nth % (refund_every or 1) == 0
            partial = bool(partial_refund_every) and nth % (partial_refund_every or 1) == 0
            disputed = bool(dispute_every) and nth % (dispute_every or 1) == 0
            if not (full or partial or disputed):
                continue
            # Strictly after the payment, and never much past `end` (the last payment's
            # aftermath is a microsecond after it).
            later = created + max(min(aftermath, (end - created) / 2), timedelta(microseconds=1))
            payment.updated_at = later
            if full or partial:
                amount = price if full else part
                refund = Refund(
                    refund_id=new_id("ref"),
                    payment_id=payment.payment_id,
                    business_id=business_id,
                    created_at=later,
                    amount=amount,
                    currency=product.currency,
                    is_partial=amount < price,
                    status="succeeded",
                    reason="Customer request",
                )
                ledger.refunds[refund.refund_id] = refund
                payment.refund_ids.append(refund.refund_id)
            if disputed:
                dispute = Dispute(
                    dispute_id=new_id("dsp"),
                    payment_id=payment.payment_id,
                    business_id=business_id,
                    created_at=later,
                    amount=price,
                    currency=product.currency,
                    stage=dispute_stage,
                    status=dispute_status,
                )
                ledger.disputes[dispute.dispute_id] = dispute
                payment.dispute_ids.append(dispute.dispute_id)
        return made
