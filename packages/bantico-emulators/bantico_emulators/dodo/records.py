"""The emulator's in-memory records. Field names follow Dodo's; JSON shapes live in `payloads`."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Mode = Literal["test", "live"]
FieldSet = Literal["new", "old"]
Interval = Literal["Day", "Week", "Month", "Year"]
Metadata = dict[str, Any]
MODES: tuple[Mode, ...] = ("test", "live")


def new_signing_secret() -> str:
    """`whsec_` + base64, the form `GET /webhooks/{id}/secret` returns."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(slots=True, kw_only=True)
class ApiKey:
    key: str
    business_id: str
    mode: Mode
    read_only: bool = False


@dataclass(slots=True, kw_only=True)
class Customer:
    customer_id: str
    business_id: str
    email: str
    name: str
    created_at: datetime
    phone_number: str | None = None
    metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Product:
    product_id: str
    business_id: str
    name: str
    price: int
    currency: str
    created_at: datetime
    recurring: bool = False
    interval: Interval = "Month"
    interval_count: int = 1
    description: str | None = None


@dataclass(slots=True, kw_only=True)
class CartItem:
    product_id: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(slots=True, kw_only=True)
class CheckoutSession:
    session_id: str
    business_id: str
    created_at: datetime
    cart: list[CartItem]
    currency: str
    metadata: Metadata
    customer_id: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    return_url: str | None = None
    trial_period_days: int = 0
    payment_id: str | None = None


@dataclass(slots=True, kw_only=True)
class ServicePeriod:
    subscription_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(slots=True, kw_only=True)
class Payment:
    payment_id: str
    business_id: str
    created_at: datetime
    status: str
    currency: str
    total_amount: int
    settlement_amount: int
    settlement_currency: str
    customer_id: str
    metadata: Metadata
    tax: int = 0
    cart: list[CartItem] | None = None
    checkout_session_id: str | None = None
    payment_link: str | None = None
    subscription_ids: list[str] = field(default_factory=list)
    charge_type: str | None = None
    retry_attempt: int = 0
    service_periods: list[ServicePeriod] = field(default_factory=list)
    is_update_payment_method: bool = False
    payment_method: str = "card"
    billing_country: str = "US"
    error_code: str | None = None
    error_message: str | None = None
    refund_ids: list[str] = field(default_factory=list)
    dispute_ids: list[str] = field(default_factory=list)
    updated_at: datetime | None = None

    @property
    def subscription_id(self) -> str | None:
        # A multi-subscription payment names no single owner (SDK `payment.py` docstring).
        return self.subscription_ids[0] if len(self.subscription_ids) == 1 else None


@dataclass(slots=True, kw_only=True)
class Refund:
    refund_id: str
    payment_id: str
    business_id: str
    created_at: datetime
    amount: int
    currency: str
    is_partial: bool
    status: str
    reason: str | None = None
    metadata: Metadata = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Dispute:
    dispute_id: str
    payment_id: str
    business_id: str
    created_at: datetime
    amount: int
    currency: str
    stage: str = "dispute"
    status: str = "dispute_opened"
    remarks: str | None = None


@dataclass(slots=True, kw_only=True)
class Subscription:
    subscription_id: str
    business_id: str
    created_at: datetime
    product_id: str
    quantity: int
    customer_id: str
    currency: str
    amount: int
    interval: Interval
    interval_count: int
    previous_billing_date: datetime
    next_billing_date: datetime
    metadata: Metadata
    status: str = "active"
    trial_period_days: int = 0
    checkout_session_id: str | None = None


@dataclass(slots=True, kw_only=True)
class SigningSecret:
    value: str
    expires_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class WebhookEndpoint:
    id: str
    business_id: str
    mode: Mode
    url: str
    created_at: datetime
    updated_at: datetime
    secrets: list[SigningSecret]
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    disabled: bool = False
    filter_types: list[str] = field(default_factory=list)
    rate_limit: int | None = None
    idempotency_key: str | None = None
    field_set: FieldSet | None = None  # emulator-only: override the emulator-wide field set
    deleted: bool = False

    def signing_secrets(self, now: datetime) -> list[str]:
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def wants(self, event_type: str) -> bool:
        # A new endpoint receives every event unless `filter_types` narrows it (Dodo webhooks doc).
        if self.deleted or self.disabled:
            return False
        return not self.filter_types or event_type in self.filter_types


@dataclass(slots=True)
class Ledger:
    """Everything one business owns in one mode. Test and live ledgers never share records."""

    business_id: str
    mode: Mode
    customers: dict[str, Customer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    checkouts: dict[str, CheckoutSession] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    webhooks: dict[str, WebhookEndpoint] = field(default_factory=dict)
