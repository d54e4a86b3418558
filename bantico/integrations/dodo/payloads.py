"""Dodo JSON (webhook `data`, or an API object) → Bantico's provider-neutral records.

Validate only what we read and keep the raw JSON (docs/dodo.md §2): older payloads lack the newer
fields, amounts are integers in the currency's smallest unit, and a dispute's amount is a string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bantico.integrations.provider import Incomplete, Kind
from bantico.kit.errors import BanticoError
from bantico.kit.money import MAX_AMOUNT, is_currency, parse_amount
from bantico.payments import service as payments
from bantico.payments.models import Dispute, Payment, Refund
from bantico.payments.service import DisputeIn, PaymentIn, RefundIn

PROVIDER = "dodo"


class MalformedPayload(BanticoError):
    status_code = 400
    code = "malformed"


def _require(data: dict[str, Any], kind: str, object_id: str, *keys: str) -> None:
    missing = [k for k in keys if data.get(k) is None or data.get(k) == ""]
    if missing:
        raise Incomplete(kind, object_id, missing)


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
    """An amount in the currency's smallest unit: a whole number from 0 to `MAX_AMOUNT`."""
    value = data.get(key)
    if value is None:
        if required:
            raise MalformedPayload(f"payload has no {key}")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{key} must be a whole number of the currency's smallest unit")
    return _amount(value, key)


def _amount(value: int, key: str) -> int:
    if not 0 <= value <= MAX_AMOUNT:
        raise MalformedPayload(f"{key} {value} is not an amount (0 to {MAX_AMOUNT})")
    return value


def _currency(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    code = (_text(data, key, required=required) or "").upper()
    if not code:
        return None
    if not is_currency(code):
        raise MalformedPayload(f"{key} {code[:20]!r} is not an ISO 4217 currency code")
    return code


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


def _ids(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("subscription_ids")
    if not isinstance(value, list):
        return ()
    return tuple(i for i in value if isinstance(i, str) and i)


def payment(data: dict[str, Any], mode: str, *, status: str | None = None) -> PaymentIn:
    """`status` is what the event type says, for a payload without `status`; the payload's own
    status wins, since a delivery carries the latest data (docs/dodo.md §2)."""
    payment_id = _text(data, "payment_id", required=True) or ""
    _require(data, "payment", payment_id, "total_amount", "currency", "created_at")
    if not data.get("status") and status is None:
        raise Incomplete("payment", payment_id, ["status"])
    customer = _customer(data)
    metadata = data.get("metadata")
    subscription_ids = _ids(data)
    subscription_id = _text(data, "subscription_id")
    if subscription_id is None and len(subscription_ids) == 1:
        subscription_id = subscription_ids[0]
    return PaymentIn(
        provider=PROVIDER,
        mode=mode,
        provider_payment_id=payment_id,
        status=_text(data, "status") or status or "",
        total_amount=_int(data, "total_amount", required=True) or 0,
        currency=_currency(data, "currency", required=True) or "",
        created_at=parse_time(data.get("created_at")),
        raw=data,
        settlement_amount=_int(data, "settlement_amount"),
        settlement_currency=_currency(data, "settlement_currency"),
        tax=_int(data, "tax"),
        settlement_tax=_int(data, "settlement_tax"),
        customer_id=_text(customer, "customer_id"),
        customer_email=_text(customer, "email"),
        customer_name=_text(customer, "name"),
        subscription_id=subscription_id,
        checkout_session_id=_text(data, "checkout_session_id"),
        charge_type=_text(data, "charge_type"),
        is_update_payment_method=(
            bool(data["is_update_payment_method"])
            if data.get("is_update_payment_method") is not None
            else None
        ),
        payment_metadata=metadata if isinstance(metadata, dict) else {},
        subscription_ids=subscription_ids,
        # A list item (and a sparse delivery) has no settlement: read it in full later.
        details_pending="settlement_amount" not in data,
    )


def refund(data: dict[str, Any], mode: str, *, status: str | None = None) -> RefundIn:
    refund_id = _text(data, "refund_id", required=True) or ""
    _require(data, "refund", refund_id, "payment_id", "created_at")
    if not data.get("status") and status is None:
        raise Incomplete("refund", refund_id, ["status"])
    return RefundIn(
        provider=PROVIDER,
        mode=mode,
        provider_refund_id=refund_id,
        provider_payment_id=_text(data, "payment_id", required=True) or "",
        status=_text(data, "status") or status or "",
        created_at=parse_time(data.get("created_at")),
        raw=data,
        amount=_int(data, "amount"),
        currency=_currency(data, "currency"),
        is_partial=bool(data.get("is_partial")),
        reason=_text(data, "reason"),
    )


def dispute(data: dict[str, Any], mode: str, *, status: str | None = None) -> DisputeIn:
    dispute_id = _text(data, "dispute_id", required=True) or ""
    _require(data, "dispute", dispute_id, "payment_id", "created_at", "amount")
    if not data.get("dispute_status") and status is None:
        raise Incomplete("dispute", dispute_id, ["dispute_status"])
    currency = _currency(data, "currency")
    raw_amount = data.get("amount")
    # The SDK types a dispute's amount as a string ("to accommodate precision"); numbers are
    # accepted too. A decimal point means major units (docs/dodo.md §2).
    if isinstance(raw_amount, bool) or not isinstance(raw_amount, (str, int, float)):
        raise MalformedPayload("amount must be a string or a number")
    amount = parse_amount(str(raw_amount), currency or "USD")
    if amount is None:
        raise MalformedPayload(f"amount {str(raw_amount)[:40]!r} is not a number")
    amount = _amount(amount, "amount")
    return DisputeIn(
        provider=PROVIDER,
        mode=mode,
        provider_dispute_id=dispute_id,
        provider_payment_id=_text(data, "payment_id", required=True) or "",
        status=_text(data, "dispute_status") or status or "",
        created_at=parse_time(data.get("created_at")),
        raw=data,
        amount=amount,
        currency=currency,
        stage=_text(data, "dispute_stage"),
    )


# Each list of Dodo's, the table it lands in and the column holding Dodo's id.
RECORDS: dict[Kind, tuple[Any, Any]] = {
    "payments": (Payment, Payment.provider_payment_id),
    "refunds": (Refund, Refund.provider_refund_id),
    "disputes": (Dispute, Dispute.provider_dispute_id),
}


def fetch_target(fetch: str) -> tuple[Kind, str]:
    """The list and id of an `Incomplete.fetch` ("payment:pay_…")."""
    noun, _, object_id = fetch.partition(":")
    kind: Kind = "refunds" if noun == "refund" else "disputes" if noun == "dispute" else "payments"
    return kind, object_id


def parse(kind: Kind, data: dict[str, Any], mode: str) -> PaymentIn | RefundIn | DisputeIn:
    """One object of Dodo's API (a list item or a full read) as its record."""
    if kind == "payments":
        return payment(data, mode)
    if kind == "refunds":
        return refund(data, mode)
    return dispute(data, mode)


def store(
    session: Session, kind: Kind, project_id: str, mode: str, data: dict[str, Any], via: str
) -> Payment | Refund | Dispute:
    """Store one object of Dodo's API (a list item or a full read) as its record."""
    record = parse(kind, data, mode)
    if isinstance(record, PaymentIn):
        return payments.store_payment(session, project_id, record, via=via)
    if isinstance(record, RefundIn):
        return payments.store_refund(session, project_id, record)
    return payments.store_dispute(session, project_id, record)
