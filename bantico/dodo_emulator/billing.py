"""What happens to a payment after checkout: refunds, renewals, disputes, and bulk history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from bantico.dodo_emulator.clock import add_interval
from bantico.dodo_emulator.emit import (
    dispute_event,
    payment_event,
    refund_event,
    subscription_event,
)
from bantico.dodo_emulator.errors import invalid, not_found
from bantico.dodo_emulator.ids import new_id
from bantico.dodo_emulator.records import (
    CartItem,
    Customer,
    Dispute,
    Metadata,
    Mode,
    Payment,
    Refund,
    ServicePeriod,
)
from bantico.dodo_emulator.state import BUSINESS_ID, ONE_TIME_PRODUCT_ID, EmulatorState

RefundStatus = Literal["succeeded", "failed", "pending", "review"]
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
    """Refund `amount` (default: all that is left) and send `refund.succeeded` or `.failed`."""
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
    """A chargeback on a payment: `dispute.opened`."""
    with state.lock:
        ledger, paid = state.find_payment(payment_id)
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
        kind = "dispute." + status.removeprefix("dispute_")
        state.publish(dispute_event(state, ledger, kind, dispute_id))
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
) -> list[Payment]:
    """History for backfill tests: `count` payments spread evenly from `start` to `end`, shared
    among `customers` new customers (default one per four payments). No webhooks are sent —
    these happened before anyone listened."""
    with state.lock:
        ledger = state.ledger(business_id, mode)
        product = ledger.products.get(product_id)
        if product is None:
            raise not_found("Product", product_id)
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
        step = (end - start) / max(count - 1, 1)
        made = []
        for i in range(count):
            tags = metadata(i) if callable(metadata) else dict(metadata or {})
            payment = Payment(
                payment_id=new_id("pay"),
                business_id=business_id,
                created_at=start + step * i,
                status=status,
                currency=product.currency,
                total_amount=product.price,
                settlement_amount=product.price,
                settlement_currency=product.currency,
                customer_id=buyers[i % len(buyers)].customer_id,
                metadata=tags,
                cart=[CartItem(product_id=product_id, quantity=1, unit_price=product.price)],
            )
            ledger.payments[payment.payment_id] = payment
            made.append(payment)
        return made
