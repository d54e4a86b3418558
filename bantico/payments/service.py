"""Storing payments, refunds and disputes exactly once, whichever path reports them first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.attribution.models import Attribution
from bantico.attribution.service import attribute
from bantico.db import insert_ignoring_conflicts
from bantico.payments.models import Dispute, Payment, Refund


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


ATTRIBUTION_INPUTS = {
    "payment_metadata",
    "customer_email",
    "customer_id",
    "subscription_id",
    "created_at",
}


def revenue_exclusion(payment: Payment) -> str | None:
    """Why a payment is not revenue (PRODUCT.md decisions), or None when it is."""
    if payment.status != "succeeded":
        return f"status is {payment.status}"
    if payment.is_update_payment_method:
        return "only updates the payment method"
    if payment.total_amount <= 0:
        return "zero amount (e.g. a free trial)"
    return None


def store_payment(session: Session, project_id: str, data: PaymentIn, via: str) -> Payment:
    """Insert the payment once; later reports fill in what earlier ones did not say."""
    values = {k: v for k, v in asdict(data).items() if v is not None}
    session.execute(
        insert_ignoring_conflicts(session, Payment).values(
            project_id=project_id, received_via=via, **values
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
    changed = set()
    for name, value in values.items():
        if name == "raw" and via == "sync" and payment.received_via == "webhook":
            continue  # the webhook's full payload says more than a list item
        if getattr(payment, name) != value:
            setattr(payment, name, value)
            changed.add(name)
    payment.is_update_payment_method = bool(payment.is_update_payment_method)
    payment.excluded_reason = revenue_exclusion(payment)
    payment.counts_as_revenue = payment.excluded_reason is None
    session.flush()
    settle_refunds(session, project_id, payment.provider, payment.provider_payment_id)
    if session.get(Attribution, payment.id) is None:
        attribute(session, payment, f"payment received by {via}")
    elif changed & ATTRIBUTION_INPUTS:
        attribute(
            session,
            payment,
            f"payment details changed ({', '.join(sorted(changed & ATTRIBUTION_INPUTS))})",
        )
    return payment


def store_refund(session: Session, project_id: str, data: RefundIn) -> Refund:
    values = {k: v for k, v in asdict(data).items() if v is not None}
    session.execute(
        insert_ignoring_conflicts(session, Refund).values(project_id=project_id, **values)
    )
    refund = session.execute(
        select(Refund).where(
            Refund.project_id == project_id,
            Refund.provider == data.provider,
            Refund.provider_refund_id == data.provider_refund_id,
        )
    ).scalar_one()
    for name, value in values.items():
        setattr(refund, name, value)
    session.flush()
    settle_refunds(session, project_id, data.provider, data.provider_payment_id)
    return refund


def store_dispute(session: Session, project_id: str, data: DisputeIn) -> Dispute:
    values = {k: v for k, v in asdict(data).items() if v is not None}
    session.execute(
        insert_ignoring_conflicts(session, Dispute).values(project_id=project_id, **values)
    )
    dispute = session.execute(
        select(Dispute).where(
            Dispute.project_id == project_id,
            Dispute.provider == data.provider,
            Dispute.provider_dispute_id == data.provider_dispute_id,
        )
    ).scalar_one()
    for name, value in values.items():
        setattr(dispute, name, value)
    dispute.lost = dispute.lost or data.status == "dispute_lost"
    session.flush()
    settle_refunds(session, project_id, data.provider, data.provider_payment_id)
    return dispute


def settle_refunds(session: Session, project_id: str, provider: str, payment_id: str) -> None:
    """What refunds and lost disputes took back, in the payment's currency and, in proportion,
    in its settlement currency (refunds are reported in the customer's currency)."""
    payment = session.execute(
        select(Payment).where(
            Payment.project_id == project_id,
            Payment.provider == provider,
            Payment.provider_payment_id == payment_id,
        )
    ).scalar_one_or_none()
    if payment is None:
        return  # a refund before its payment: settled when the payment arrives
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.project_id == project_id,
            Refund.provider == provider,
            Refund.provider_payment_id == payment_id,
            Refund.status == "succeeded",
        )
    ).scalar_one()
    disputed = session.execute(
        select(func.coalesce(func.sum(Dispute.amount), 0)).where(
            Dispute.project_id == project_id,
            Dispute.provider == provider,
            Dispute.provider_payment_id == payment_id,
            Dispute.lost.is_(True),
        )
    ).scalar_one()
    payment.refunded_amount, payment.disputed_amount = int(refunded or 0), int(disputed or 0)
    taken = min(payment.total_amount, payment.refunded_amount + payment.disputed_amount)
    settled = (
        payment.settlement_amount if payment.settlement_amount is not None else payment.total_amount
    )
    payment.refunded_settlement = (
        round(settled * taken / payment.total_amount) if payment.total_amount > 0 else 0
    )
    session.flush()
