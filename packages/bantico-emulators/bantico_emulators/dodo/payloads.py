"""JSON shapes of Dodo's objects (SDK 1.123.0 `types/`), built from the emulator's records.

Webhook `data` adds `payload_type`, which real deliveries still carry although the SDK models
dropped it in Jan 2026 (docs/dodo.md §2).
"""

from __future__ import annotations

from typing import Any

from bantico_emulators.dodo.ids import iso
from bantico_emulators.dodo.records import (
    CheckoutSession,
    Customer,
    Dispute,
    FieldSet,
    Ledger,
    Payment,
    Product,
    Refund,
    Subscription,
    WebhookEndpoint,
)

Json = dict[str, Any]

# Older payloads (CLI fixtures, FIELD a) lack these; `field_set="old"` leaves them out.
NEWER_PAYMENT_FIELDS = frozenset(
    {
        "subscription_ids",
        "service_periods",
        "charge_type",
        "retry_attempt",
        "payment_provider",
        "includes_usage",
        "is_multi_subscription",
    }
)
# `PaymentListResponse` is a subset of `Payment`: no settlement, tax, billing, refunds, …
_LIST_ONLY = ("has_license_key", "dispute_status")
_NOT_IN_LIST = frozenset(
    {
        "settlement_amount",
        "settlement_currency",
        "settlement_tax",
        "tax",
        "billing",
        "refunds",
        "disputes",
        "product_cart",
        "payment_link",
        "discount_id",
        "discounts",
        "error_code",
        "error_message",
        "business_id",
        "is_update_payment_method",
        "updated_at",
        "custom_field_responses",
        "payment_method_id",
        "card_holder_name",
        "card_issuing_country",
    }
)
_BILLING = {"city": "San Francisco", "state": "CA", "street": "1 Market St", "zipcode": "94105"}


def customer(c: Customer) -> Json:
    return {
        "customer_id": c.customer_id,
        "business_id": c.business_id,
        "email": c.email,
        "name": c.name,
        "created_at": iso(c.created_at),
        "phone_number": c.phone_number,
        "metadata": c.metadata,
        "blocked_at": None,
        "preferred_locale": None,
    }


def customer_limited(c: Customer) -> Json:
    return {
        "customer_id": c.customer_id,
        "email": c.email,
        "name": c.name,
        "phone_number": c.phone_number,
        "metadata": c.metadata,
    }


def payment(ledger: Ledger, p: Payment, *, fields: FieldSet = "new") -> Json:
    data = _payment(ledger, p)
    for name in _LIST_ONLY:
        del data[name]
    return _with_field_set(data, fields)


def payment_list_item(ledger: Ledger, p: Payment) -> Json:
    return {k: v for k, v in _payment(ledger, p).items() if k not in _NOT_IN_LIST}


def refund(ledger: Ledger, r: Refund) -> Json:
    _, owner = _payment_and_customer(ledger, r.payment_id)
    return refund_list_item(r) | {
        "brand_id": r.business_id,
        "customer": customer_limited(owner),
        "metadata": r.metadata,
    }


def refund_list_item(r: Refund) -> Json:
    return {
        "refund_id": r.refund_id,
        "payment_id": r.payment_id,
        "business_id": r.business_id,
        "created_at": iso(r.created_at),
        "amount": r.amount,
        "currency": r.currency,
        "is_partial": r.is_partial,
        "status": r.status,
        "reason": r.reason,
        "network_reference": None,
        "network_reference_type": None,
        "network_reference_updated_at": None,
    }


def dispute(d: Dispute) -> Json:
    return {
        "dispute_id": d.dispute_id,
        "payment_id": d.payment_id,
        "business_id": d.business_id,
        "created_at": iso(d.created_at),
        "currency": d.currency,
        "amount": str(d.amount),  # a string in the SDK model, unlike every other amount
        "dispute_stage": d.stage,
        "dispute_status": d.status,
        "is_resolved_by_rdr": False,
        "remarks": d.remarks,
    }


def dispute_list_item(d: Dispute) -> Json:
    return dispute(d) | {"payment_provider": "dodo"}


def dispute_detail(ledger: Ledger, d: Dispute) -> Json:
    """`GET /disputes/{id}` (`GetDispute`): the dispute plus brand and customer."""
    _, owner = _payment_and_customer(ledger, d.payment_id)
    return dispute_list_item(d) | {
        "brand_id": d.business_id,
        "customer": customer_limited(owner),
        "reason": None,
    }


def subscription(ledger: Ledger, s: Subscription) -> Json:
    owner = ledger.customers[s.customer_id]
    return {
        "subscription_id": s.subscription_id,
        "brand_id": s.business_id,
        "status": s.status,
        "product_id": s.product_id,
        "quantity": s.quantity,
        "currency": s.currency,
        "recurring_pre_tax_amount": s.amount,
        "tax_inclusive": False,
        "created_at": iso(s.created_at),
        "previous_billing_date": iso(s.previous_billing_date),
        "next_billing_date": iso(s.next_billing_date),
        "customer": customer_limited(owner),
        "metadata": s.metadata,
        "billing": {"country": "US", **_BILLING},
        "payment_frequency_count": s.interval_count,
        "payment_frequency_interval": s.interval,
        "subscription_period_count": 10,
        "subscription_period_interval": "Year",
        "trial_period_days": s.trial_period_days,
        "on_demand": False,
        "cancel_at_next_billing_date": False,
        "cancelled_at": None,
        "has_payment_method": True,
        "addons": [],
        "meters": [],
        "credit_entitlement_cart": [],
        "meter_credit_entitlement_cart": [],
        "discount_id": None,
        "expires_at": None,
        "payment_method_id": None,
    }


def product(p: Product) -> Json:
    """A `GET /products` item (`ProductListResponse`)."""
    price: Json = {
        "type": "one_time_price",
        "currency": p.currency,
        "price": p.price,
        "discount": 0,
        "purchasing_power_parity": False,
        "tax_inclusive": False,
    }
    if p.recurring:
        price |= {
            "type": "recurring_price",
            "payment_frequency_count": p.interval_count,
            "payment_frequency_interval": p.interval,
            "subscription_period_count": 10,
            "subscription_period_interval": "Year",
            "trial_period_days": 0,
        }
    return {
        "product_id": p.product_id,
        "business_id": p.business_id,
        "name": p.name,
        "description": p.description,
        "price": p.price,
        "currency": p.currency,
        "is_recurring": p.recurring,
        "price_detail": price,
        "tax_category": "saas",
        "tax_inclusive": False,
        "metadata": {},
        "entitlements": [],
        "image": None,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.created_at),
    }


def product_detail(p: Product) -> Json:
    """`GET /products/{id}`: here `price` is the price object, not an integer."""
    detail = product(p)
    price = detail.pop("price_detail")
    return detail | {
        "price": price,
        "brand_id": p.business_id,
        "credit_entitlements": [],
        "license_key_enabled": False,
        "addons": [],
    }


def checkout_status(ledger: Ledger, s: CheckoutSession) -> Json:
    paid = ledger.payments.get(s.payment_id) if s.payment_id else None
    return {
        "id": s.session_id,
        "created_at": iso(s.created_at),
        "customer_email": s.customer_email,
        "customer_name": s.customer_name,
        "payment_id": s.payment_id,
        "payment_status": paid.status if paid else None,
    }


def webhook(e: WebhookEndpoint) -> Json:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "metadata": e.metadata,
        "disabled": e.disabled,
        "filter_types": e.filter_types,
        "rate_limit": e.rate_limit,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }


def _with_field_set(data: Json, fields: FieldSet) -> Json:
    if fields == "old":
        return {k: v for k, v in data.items() if k not in NEWER_PAYMENT_FIELDS}
    return data


def _payment_and_customer(ledger: Ledger, payment_id: str) -> tuple[Payment, Customer]:
    owner = ledger.payments[payment_id]
    return owner, ledger.customers[owner.customer_id]


def _refund_status(ledger: Ledger, p: Payment) -> str | None:
    refunded = sum(
        ledger.refunds[r].amount for r in p.refund_ids if ledger.refunds[r].status == "succeeded"
    )
    if not refunded:
        return None
    return "full" if refunded >= p.total_amount else "partial"


def _payment(ledger: Ledger, p: Payment) -> Json:
    disputes = [ledger.disputes[d] for d in p.dispute_ids]
    card = p.payment_method == "card"
    return {
        "payment_id": p.payment_id,
        "business_id": p.business_id,
        "brand_id": p.business_id,
        "status": p.status,
        "total_amount": p.total_amount,
        "currency": p.currency,
        "tax": p.tax,
        "settlement_amount": p.settlement_amount,
        "settlement_currency": p.settlement_currency,
        "settlement_tax": 0,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "customer": customer_limited(ledger.customers[p.customer_id]),
        "metadata": p.metadata,
        "billing": {"country": p.billing_country, **_BILLING},
        "product_cart": (
            None
            if p.cart is None
            else [{"product_id": i.product_id, "quantity": i.quantity} for i in p.cart]
        ),
        "checkout_session_id": p.checkout_session_id,
        "payment_link": p.payment_link,
        "payment_method": p.payment_method,
        "payment_method_type": p.payment_method,
        "card_last_four": "4242" if card else None,
        "card_network": "visa" if card else None,
        "card_type": "credit" if card else None,
        "card_issuing_country": "US" if card else None,
        "card_holder_name": None,
        "card_exp_month": "12" if card else None,
        "card_exp_year": "2030" if card else None,
        "subscription_id": p.subscription_id,
        "subscription_ids": list(p.subscription_ids),
        "is_multi_subscription": len(p.subscription_ids) > 1,
        "charge_type": p.charge_type,
        "service_periods": [
            {
                "subscription_id": s.subscription_id,
                "starts_at": iso(s.starts_at),
                "ends_at": iso(s.ends_at),
                "proration_factor": "1",
            }
            for s in p.service_periods
        ],
        "retry_attempt": p.retry_attempt,
        "includes_usage": False,
        "is_update_payment_method": p.is_update_payment_method,
        "payment_provider": "dodo",
        "digital_products_delivered": False,
        "has_license_key": False,
        "discount_id": None,
        "discounts": [],
        "invoice_id": None,
        "invoice_url": None,
        "refunds": [refund_list_item(ledger.refunds[r]) for r in p.refund_ids],
        "refund_status": _refund_status(ledger, p),
        "disputes": [dispute(d) for d in disputes],
        "dispute_status": disputes[-1].status if disputes else None,
        "error_code": p.error_code,
        "error_message": p.error_message,
        "custom_field_responses": None,
        "payment_method_id": None,
        "three_ds_flow": None,
        "three_ds_status": None,
        "three_ds_version": None,
    }
