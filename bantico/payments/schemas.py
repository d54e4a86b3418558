from __future__ import annotations

from datetime import datetime
from typing import Any

from bantico.kit.schemas import ApiModel


class Money(ApiModel):
    amount: int
    currency: str
    formatted: str


class RefundOut(ApiModel):
    refund_id: str
    status: str
    amount: Money | None
    # What it takes out of revenue: its amount, or for a full refund sent without one, what
    # the other refunds left; None while a partial refund's amount is being read from Dodo.
    counted: Money | None
    is_partial: bool
    reason: str | None
    created_at: datetime


class DisputeOut(ApiModel):
    dispute_id: str
    status: str
    stage: str | None
    amount: Money | None
    subtracted: bool  # whether its amount is out of revenue now
    rule: str  # the revenue rule its status follows, in words
    created_at: datetime


class Customer(ApiModel):
    id: str | None
    email: str | None
    name: str | None


class AttributionOut(ApiModel):
    method: str
    confidence: float
    link_id: str | None
    campaign_id: str | None
    source: str | None
    medium: str | None
    content: str | None
    lead_id: str | None
    visitor_id: str | None
    warnings: list[str]


class PaymentOut(ApiModel):
    payment_id: str
    provider: str
    mode: str
    status: str
    total: Money
    settlement: Money | None
    tax: int | None
    refunded: Money | None
    # Taken back by disputes lost (beyond what refunds already took), in the payment's currency.
    disputed: Money | None = None
    # What revenue counts of it now: the settlement less what refunds and lost disputes took.
    net: Money | None = None
    customer: Customer
    subscription_id: str | None
    checkout_session_id: str | None
    charge_type: str | None
    metadata: dict[str, Any]
    counts_as_revenue: bool
    excluded_reason: str | None
    created_at: datetime
    received_via: str
    attribution: AttributionOut | None


class PaymentDetail(PaymentOut):
    explanation: list[str]
    trace: list[dict[str, Any]]
    refunds: list[RefundOut]
    disputes: list[DisputeOut]
    raw: dict[str, Any]


class PaymentList(ApiModel):
    items: list[PaymentOut]
    next_cursor: str | None
