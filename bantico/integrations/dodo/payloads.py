"""Dodo JSON (webhook `data`, or an API object) → Bantico's provider-neutral records.

Validate only what we read and keep the raw JSON (DODO.md §2): older payloads lack the newer
fields, amounts are integers in the currency's smallest unit, and a dispute's amount is a string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bantico.errors import BanticoError
from bantico.money import parse_amount
from bantico.payments.service import DisputeIn, PaymentIn, RefundIn

PROVIDER = "dodo"


class MalformedPayload(BanticoError):
    status_code = 400
    code = "malformed"


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise MalformedPayload(f"payload has no {key}")
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{key} must be a string")
    return value


def _int(data: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = data.get(key)
    if value is None:
        if required:
            raise MalformedPayload(f"payload has no {key}")
        return None
    if isinstance(value, bool):
        raise MalformedPayload(f"{key} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MalformedPayload(f"{key} must be an integer") from None


def parse_time(value: object, key: str = "created_at") -> datetime:
    if not isinstance(value, str):
        raise MalformedPayload(f"payload has no {key}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"{key} is not an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _customer(data: dict[str, Any]) -> dict[str, Any]:
    customer = data.get("customer")
    return customer if isinstance(customer, dict) else {}


def payment(data: dict[str, Any], mode: str) -> PaymentIn:
    customer = _customer(data)
    metadata = data.get("metadata")
    return PaymentIn(
        provider=PROVIDER,
        mode=mode,
        provider_payment_id=_text(data, "payment_id", required=True) or "",
        status=_text(data, "status") or "succeeded",
        total_amount=_int(data, "total_amount", required=True) or 0,
        currency=(_text(data, "currency", required=True) or "").upper(),
        created_at=parse_time(data.get("created_at")),
        raw=data,
        settlement_amount=_int(data, "settlement_amount"),
        settlement_currency=(_text(data, "settlement_currency") or "").upper() or None,
        tax=_int(data, "tax"),
        settlement_tax=_int(data, "settlement_tax"),
        customer_id=_text(customer, "customer_id"),
        customer_email=_text(customer, "email"),
        customer_name=_text(customer, "name"),
        subscription_id=_text(data, "subscription_id"),
        checkout_session_id=_text(data, "checkout_session_id"),
        charge_type=_text(data, "charge_type"),
        is_update_payment_method=(
            bool(data["is_update_payment_method"])
            if data.get("is_update_payment_method") is not None
            else None
        ),
        payment_metadata=metadata if isinstance(metadata, dict) else {},
    )


def refund(data: dict[str, Any], mode: str) -> RefundIn:
    return RefundIn(
        provider=PROVIDER,
        mode=mode,
        provider_refund_id=_text(data, "refund_id", required=True) or "",
        provider_payment_id=_text(data, "payment_id", required=True) or "",
        status=_text(data, "status") or "succeeded",
        created_at=parse_time(data.get("created_at")),
        raw=data,
        amount=_int(data, "amount"),
        currency=(_text(data, "currency") or "").upper() or None,
        is_partial=bool(data.get("is_partial")),
        reason=_text(data, "reason"),
    )


def dispute(data: dict[str, Any], mode: str) -> DisputeIn:
    currency = (_text(data, "currency") or "").upper() or None
    raw_amount = data.get("amount")
    # Dodo sends a dispute's amount as a string "to accommodate precision" (SDK dispute.py).
    amount = parse_amount(str(raw_amount), currency or "USD") if raw_amount is not None else None
    return DisputeIn(
        provider=PROVIDER,
        mode=mode,
        provider_dispute_id=_text(data, "dispute_id", required=True) or "",
        provider_payment_id=_text(data, "payment_id", required=True) or "",
        status=_text(data, "dispute_status") or "dispute_opened",
        created_at=parse_time(data.get("created_at")),
        raw=data,
        amount=amount,
        currency=currency,
    )
