"""Storing payments, refunds and disputes exactly once, whichever path reports them first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.db import insert_ignoring_conflicts
from bantico.payments import hooks, rules
from bantico.payments.models import Dispute, Payment, PaymentSubscription, Refund


@dataclass(frozen=True)
class PaymentIn:
    """A provider's payment, normalised. `None` means the report did not say."""

    provider: str
    mode: str
    provider_payment_id: str
    status: str
    total_amount: int
    currency: str
    created_at: datetime
    raw: dict[str, Any]
    settlement_amount: int | None = None
    settlement_currency: str | None = None
    tax: int | None = None
    settlement_tax: int | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    subscription_id: str | None = None
    checkout_session_id: str | None = None
    charge_type: str | None = None
    is_update_payment_method: bool | None = None
    payment_metadata: dict[str, Any] = field(default_factory=dict)
    # Every subscription it pays for (a multi-subscription payment has no `subscription_id`).
    subscription_ids: tuple[str, ...] = ()
    # True for a list item, which lacks settlement and tax: it is read in full later.
    details_pending: bool | None = None


@dataclass(frozen=True)
class RefundIn:
    provider: str
    mode: str
    provider_refund_id: str
    provider_payment_id: str
    status: str
    created_at: datetime
    raw: dict[str, Any]
    amount: int | None = None
    currency: str | None = None
    is_partial: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class DisputeIn:
    provider: str
    mode: str
    provider_dispute_id: str
    provider_payment_id: str
    status: str
    created_at: datetime
    raw: dict[str, Any]
    amount: int | None = None
    currency: str | None = None
    stage: str | None = None


def _fields(data: Any, *skip: str) -> dict[str, Any]:
    return {k: v for k, v in asdict(data).items() if v is not None and k not in skip}


def _link_subscriptions(session: Session, payment: Payment, ids: tuple[str, ...]) -> bool:
    """Record every subscription the payment pays for; True when one was new."""
    ids = tuple(dict.fromkeys(i for i in (*ids, payment.subscription_id) if i))
    if not ids:
        return False
    known = set(
        session.execute(
            select(PaymentSubscription.subscription_id).where(
                PaymentSubscription.payment_id == payment.id
            )
        ).scalars()
    )
    new = [i for i in ids if i not in known]
    for subscription_id in new:
        session.add(
            PaymentSubscription(
                payment_id=payment.id,
                subscription_id=subscription_id,
                project_id=payment.project_id,
            )
        )
    if new:
        session.flush()
    return bool(new)


def store_payment(session: Session, project_id: str, data: PaymentIn, via: str) -> Payment:
    """Insert the payment once; later reports fill in what earlier ones did not say. A list
    item never overwrites what a full read said, and a status never moves back."""
    values = _fields(data, "subscription_ids", "details_pending")
    session.execute(
        insert_ignoring_conflicts(session, Payment).values(
            project_id=project_id,
            received_via=via,
            details_pending=bool(data.details_pending),
            **values,
        )
    )
    payment = session.execute(
        select(Payment)
        .where(
            Payment.project_id == project_id,
            Payment.provider == data.provider,
            Payment.provider_payment_id == data.provider_payment_id,
        )
        .with_for_update()
    ).scalar_one()
    full_before = not payment.details_pending and payment.settlement_amount is not None
    values["status"] = rules.payment_status(payment.status, data.status)
    status_changed = values["status"] != payment.status
    changed = set()
    for name, value in values.items():
        if name == "raw" and data.details_pending and full_before:
            continue  # the full payment says more than a list item
        if getattr(payment, name) != value:
            setattr(payment, name, value)
            changed.add(name)
    if data.details_pending is False:
        payment.details_pending = False
    elif data.details_pending and (status_changed or not full_before):
        payment.details_pending = True
    if _link_subscriptions(session, payment, data.subscription_ids):
        changed.add("subscription_ids")
    payment.is_update_payment_method = bool(payment.is_update_payment_method)
    payment.excluded_reason = rules.revenue_exclusion(payment)
    payment.counts_as_revenue = payment.excluded_reason is None
    if payment.details_pending and not payment.counts_as_revenue:
        payment.details_pending = False  # nothing a full read would add to revenue
    session.flush()
    settle(session, payment)
    hooks.payment_stored(session, payment, via, frozenset(changed))
    return payment


def _payment_of(
    session: Session, project_id: str, provider: str, payment_id: str
) -> Payment | None:
    return session.execute(
        select(Payment).where(
            Payment.project_id == project_id,
            Payment.provider == provider,
            Payment.provider_payment_id == payment_id,
        )
    ).scalar_one_or_none()


def _locked_row(
    session: Session, project_id: str, model: Any, id_column: Any, values: dict[str, Any]
) -> Any:
    """The row of `model` for `values` (inserted when new), locked for this transaction, so
    that concurrent deliveries of the same object apply one after the other."""
    session.execute(
        insert_ignoring_conflicts(session, model).values(project_id=project_id, **values)
    )
    return session.execute(
        select(model)
        .where(
            model.project_id == project_id,
            model.provider == values["provider"],
            id_column == values[id_column.key],
        )
        .with_for_update()
    ).scalar_one()


def _settle_payment_of(session: Session, project_id: str, provider: str, payment_id: str) -> None:
    session.flush()
    payment = _payment_of(session, project_id, provider, payment_id)
    if payment is not None:
        settle(session, payment)


def store_refund(session: Session, project_id: str, data: RefundIn) -> Refund:
    values = _fields(data)
    refund: Refund = _locked_row(session, project_id, Refund, Refund.provider_refund_id, values)
    values["status"] = rules.refund_status(refund.status, data.status)
    for name, value in values.items():
        setattr(refund, name, value)
    _settle_payment_of(session, project_id, data.provider, data.provider_payment_id)
    return refund


def store_dispute(session: Session, project_id: str, data: DisputeIn) -> Dispute:
    values = _fields(data)
    dispute: Dispute = _locked_row(
        session, project_id, Dispute, Dispute.provider_dispute_id, values
    )
    if not rules.dispute_moves(dispute.stage, dispute.status, data.stage, data.status):
        values.pop("status")
        values.pop("stage", None)
    for name, value in values.items():
        setattr(dispute, name, value)
    dispute.subtracted = rules.dispute_rule(dispute.status).subtracts
    _settle_payment_of(session, project_id, data.provider, data.provider_payment_id)
    return dispute


def settle(session: Session, payment: Payment) -> None:
    """What refunds and disputes took back, in the payment's currency and, in proportion, in
    its settlement currency (refunds are reported in the customer's currency). A refund or
    dispute that arrived before its payment is counted here when the payment arrives."""
    refunds = session.execute(
        select(Refund)
        .where(
            Refund.project_id == payment.project_id,
            Refund.provider == payment.provider,
            Refund.provider_payment_id == payment.provider_payment_id,
        )
        .order_by(Refund.created_at, Refund.id)
    ).scalars()
    refunded = sum(a or 0 for a in rules.refund_amounts(payment.total_amount, refunds))
    disputes = session.execute(
        select(Dispute).where(
            Dispute.project_id == payment.project_id,
            Dispute.provider == payment.provider,
            Dispute.provider_payment_id == payment.provider_payment_id,
            Dispute.subtracted.is_(True),
        )
    ).scalars()
    # A dispute without an amount (Dodo always sends one) is taken as the whole payment.
    disputed = rdr = 0
    for dispute in disputes:
        amount = dispute.amount if dispute.amount is not None else payment.total_amount
        if rules.is_rdr(dispute.raw):
            rdr += amount
        else:
            disputed += amount
    taken = rules.taken_back(refunded, disputed, rdr, payment.total_amount)
    payment.refunded_amount, payment.disputed_amount = refunded, taken - min(taken, refunded)
    settled = (
        payment.settlement_amount if payment.settlement_amount is not None else payment.total_amount
    )
    payment.refunded_settlement = (
        round(settled * taken / payment.total_amount) if payment.total_amount > 0 else 0
    )
    session.flush()
