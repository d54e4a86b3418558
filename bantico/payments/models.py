from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, utcnow


class Payment(Base):
    """A completed (or otherwise reported) payment from a payment provider, stored once."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "provider_payment_id"),
        Index(None, "project_id", "mode", "created_at"),
        Index(None, "project_id", "customer_id"),
        Index(None, "project_id", "subscription_id"),
        # The few payments still to read in full, without scanning the rest.
        Index(None, "project_id", "details_pending", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(8))
    provider_payment_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(40))
    total_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    settlement_amount: Mapped[int | None] = mapped_column(BigInteger)
    settlement_currency: Mapped[str | None] = mapped_column(String(3))
    tax: Mapped[int | None] = mapped_column(BigInteger)
    settlement_tax: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    checkout_session_id: Mapped[str | None] = mapped_column(String(64))
    charge_type: Mapped[str | None] = mapped_column(String(20))
    is_update_payment_method: Mapped[bool] = mapped_column(default=False)
    counts_as_revenue: Mapped[bool] = mapped_column(default=False)
    # Kept current as refunds and disputes arrive, in either order, so reports read one row.
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    disputed_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refunded_settlement: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    excluded_reason: Mapped[str | None] = mapped_column(String(100))
    payment_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    received_via: Mapped[str] = mapped_column(String(10))
    # Stored from a list item (no settlement, tax or is_update_payment_method): to be read in
    # full by id (docs/dodo.md §4).
    details_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When polling last read it by id to see whether it left an unresolved status.
    checked_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]]


class PaymentSubscription(Base):
    """Every subscription a payment pays for: a multi-subscription payment names several and no
    single `subscription_id`, and each of their renewals inherits its attribution."""

    __tablename__ = "payment_subscriptions"
    __table_args__ = (Index(None, "project_id", "subscription_id"),)

    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True
    )
    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))


class Refund(Base):
    """A refund; it may arrive before its payment, so it points at the provider's payment id."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "provider_refund_id"),
        Index(None, "project_id", "provider_payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(8))
    provider_refund_id: Mapped[str] = mapped_column(String(64))
    provider_payment_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    is_partial: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]]


class Dispute(Base):
    """A dispute; whether its amount leaves revenue depends on its status (payments/rules.py)."""

    __tablename__ = "disputes"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "provider_dispute_id"),
        Index(None, "project_id", "provider_payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(8))
    provider_dispute_id: Mapped[str] = mapped_column(String(64))
    provider_payment_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str | None] = mapped_column(String(30))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    # Whether the disputed amount is out of revenue now: set from `status` by the rules.
    subtracted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    checked_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]]
