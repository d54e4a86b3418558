"""`/_emulator/...`: drive the emulator over HTTP (not part of Dodo's API, never authenticated).

Every route calls the same function a test in the same process would call directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from bantico_emulators.dodo import billing, payloads
from bantico_emulators.dodo.auth import emulator_state
from bantico_emulators.dodo.checkouts import CheckoutOutcome, complete_checkout
from bantico_emulators.dodo.delivery import Attempt, Message
from bantico_emulators.dodo.errors import not_found
from bantico_emulators.dodo.ids import iso
from bantico_emulators.dodo.payloads import Json
from bantico_emulators.dodo.ratelimit import RateLimit
from bantico_emulators.dodo.records import FieldSet, Interval, Mode
from bantico_emulators.dodo.state import BUSINESS_ID, ONE_TIME_PRODUCT_ID, EmulatorState

router = APIRouter(prefix="/_emulator", tags=["emulator control"])
StateDep = Annotated[EmulatorState, Depends(emulator_state)]


class Completion(BaseModel):
    email: str | None = None
    name: str | None = None
    amount: int | None = None
    currency: str | None = None
    settlement_amount: int | None = None
    settlement_currency: str | None = None
    tax: int = 0
    is_update_payment_method: bool = False
    succeed: bool = True
    status: CheckoutOutcome | None = None  # wins over `succeed`; "processing" settles later


class RefundIn(BaseModel):
    amount: int | None = None
    reason: str | None = None
    status: billing.RefundStatus = "succeeded"


class RenewalIn(BaseModel):
    copy_metadata: bool | None = None
    succeed: bool = True
    amount: int | None = None


class DisputeIn(BaseModel):
    amount: int | None = None
    stage: Literal["pre_dispute", "dispute", "pre_arbitration"] = "dispute"


class BulkIn(BaseModel):
    count: int = Field(ge=1, le=1_000_000)
    start: datetime
    end: datetime
    mode: Mode = "test"
    business_id: str = BUSINESS_ID
    product_id: str = ONE_TIME_PRODUCT_ID
    customers: int | None = Field(None, ge=1)
    status: str = "succeeded"
    metadata: dict[str, Any] | None = None
    refund_every: int | None = Field(None, ge=1)
    partial_refund_every: int | None = Field(None, ge=1)
    partial_refund_amount: int | None = Field(None, ge=1)
    dispute_every: int | None = Field(None, ge=1)
    dispute_status: str = "dispute_lost"
    dispute_stage: str = "dispute"
    aftermath: timedelta = timedelta(days=2)


class KeyIn(BaseModel):
    key: str
    mode: Mode
    read_only: bool = False
    business_id: str = BUSINESS_ID


class ProductIn(BaseModel):
    name: str
    price: int = Field(ge=0)
    currency: str = "USD"
    recurring: bool = False
    interval: Interval = "Month"
    product_id: str | None = None


class FaultIn(BaseModel):
    status: int | None = 503
    count: int = Field(1, ge=1)
    path: str | None = None
    method: str | None = None
    mode: Mode | None = None
    delay: float = Field(0.0, ge=0)
    retry_after: int | None = None


class EndpointOptions(BaseModel):
    field_set: FieldSet | None = None


class RateLimitIn(BaseModel):
    """Dodo's Tier 0 by default; `enabled: false` turns the limits off."""

    enabled: bool = True
    per_second: int = Field(40, ge=1)
    per_minute: int = Field(240, ge=1)
    second: float = Field(1.0, gt=0)
    minute: float = Field(60.0, gt=0)


@router.get("")
def info(state: StateDep) -> Json:
    """Keys, products and ledgers, for a demo's first look."""
    with state.lock:
        return {
            "keys": [
                {
                    "key": k.key,
                    "mode": k.mode,
                    "read_only": k.read_only,
                    "business_id": k.business_id,
                }
                for k in state.keys.values()
            ],
            "products": [payloads.product(p) for p in state.ledger().products.values()],
            "ledgers": [
                {"business_id": b, "mode": m, "payments": len(ledger.payments)}
                for (b, m), ledger in state.ledgers.items()
            ],
        }


@router.post("/checkouts/{session_id}/complete")
def complete(state: StateDep, session_id: str, body: Completion) -> Json:
    payment = complete_checkout(state, session_id, **body.model_dump())
    with state.lock:
        return payloads.payment(state.find_payment(payment.payment_id)[0], payment)


@router.post("/payments/{payment_id}/refund")
def refund(state: StateDep, payment_id: str, body: RefundIn) -> Json:
    made = billing.refund_payment(
        state, payment_id, body.amount, reason=body.reason, status=body.status
    )
    with state.lock:
        return payloads.refund(state.find_payment(payment_id)[0], made)


@router.post("/subscriptions/{subscription_id}/renew")
def renew(state: StateDep, subscription_id: str, body: RenewalIn) -> Json:
    payment = billing.renew_subscription(state, subscription_id, **body.model_dump())
    with state.lock:
        return payloads.payment(state.find_payment(payment.payment_id)[0], payment)


@router.post("/payments/{payment_id}/disputes")
def dispute(state: StateDep, payment_id: str, body: DisputeIn) -> Json:
    opened = billing.open_dispute(state, payment_id, body.amount, stage=body.stage)
    return payloads.dispute(opened)


@router.post("/disputes/{dispute_id}/stage/{stage}")
def escalate(state: StateDep, dispute_id: str, stage: str) -> Json:
    """Move a dispute on to `pre_arbitration` (or from `pre_dispute` to `dispute`)."""
    return payloads.dispute(billing.escalate_dispute(state, dispute_id, stage))


@router.post("/disputes/{dispute_id}/{status}")
def resolve(state: StateDep, dispute_id: str, status: str) -> Json:
    """`status` is a dispute status such as `dispute_lost` (or just `lost`)."""
    name = status if status.startswith("dispute_") else f"dispute_{status}"
    return payloads.dispute(billing.resolve_dispute(state, dispute_id, name))


@router.post("/refunds/{refund_id}/{status}")
def settle_refund(state: StateDep, refund_id: str, status: billing.RefundOutcome) -> Json:
    """Finish a pending refund: `succeeded` or `failed`."""
    settled = billing.settle_refund(state, refund_id, status)
    with state.lock:
        return payloads.refund(state.find_refund(refund_id)[0], settled)


@router.post("/payments/bulk")
def bulk(state: StateDep, body: BulkIn) -> Json:
    """History with no webhooks; optionally every N-th payment refunded or disputed."""
    made = billing.create_payments(state, **body.model_dump())
    return {
        "count": len(made),
        "first": made[0].payment_id,
        "last": made[-1].payment_id,
        "refunds": sum(len(p.refund_ids) for p in made),
        "disputes": sum(len(p.dispute_ids) for p in made),
    }


@router.post("/keys")
def add_key(state: StateDep, body: KeyIn) -> Json:
    state.add_key(body.key, mode=body.mode, read_only=body.read_only, business_id=body.business_id)
    return body.model_dump()


@router.delete("/keys/{key}")
def revoke_key(state: StateDep, key: str) -> Json:
    state.revoke_key(key)
    return {"revoked": key}


@router.post("/products")
def add_product(state: StateDep, body: ProductIn) -> Json:
    return payloads.product(state.add_product(**body.model_dump()))


@router.post("/faults")
def inject_fault(state: StateDep, body: FaultIn) -> Json:
    state.faults.inject(**body.model_dump())
    return {"pending": state.faults.pending}


@router.delete("/faults")
def clear_faults(state: StateDep) -> Json:
    state.faults.clear()
    return {"pending": 0, "down": False}


@router.put("/down")
def set_down(state: StateDep, down: bool = True) -> Json:
    state.faults.down = down
    return {"down": down}


@router.post("/clock/advance")
def advance_clock(state: StateDep, seconds: float) -> Json:
    return {"now": iso(state.clock.advance(timedelta(seconds=seconds)))}


@router.get("/requests")
def request_counts(state: StateDep) -> Json:
    """API requests answered so far: total, 429s, by status and by `METHOD /route`."""
    return state.requests.snapshot()


@router.delete("/requests")
def reset_requests(state: StateDep) -> Json:
    state.requests.reset()
    return state.requests.snapshot()


@router.get("/rate-limit")
def rate_limit(state: StateDep) -> Json:
    return _rate_limit(state.options.rate_limit)


@router.put("/rate-limit")
def set_rate_limit(state: StateDep, body: RateLimitIn) -> Json:
    """Change the limits from now on (`TIER_1` is 100/1000, `TIER_2` 500/5000)."""
    fields = body.model_dump(exclude={"enabled"})
    state.options.rate_limit = RateLimit(**fields) if body.enabled else None
    state.limiter.reset()
    return _rate_limit(state.options.rate_limit)


@router.post("/webhooks/{webhook_id}/rotate")
def rotate(state: StateDep, webhook_id: str) -> Json:
    return {"secret": state.rotate_secret(webhook_id)}


@router.patch("/webhooks/{webhook_id}")
def endpoint_options(state: StateDep, webhook_id: str, body: EndpointOptions) -> Json:
    """Emulator-only endpoint settings: `field_set` "old" sends the older Payment fields."""
    with state.lock:
        _, endpoint = state.find_webhook(webhook_id)
        endpoint.field_set = body.field_set
    return {"id": webhook_id, "field_set": body.field_set}


@router.get("/deliveries")
def deliveries(
    state: StateDep, event_type: str | None = None, endpoint_id: str | None = None
) -> Json:
    """Every attempt, oldest first, plus each message's outcome."""
    attempts = state.deliveries.attempts(event_type=event_type, endpoint_id=endpoint_id)
    messages = state.deliveries.messages(event_type)
    return {
        "attempts": [_attempt(a) for a in attempts],
        "messages": [_message(m) for m in messages if endpoint_id in (None, m.endpoint.id)],
    }


@router.post("/deliveries/{message_id}/redeliver")
def redeliver(state: StateDep, message_id: str) -> Json:
    try:
        return _message(state.deliveries.redeliver(message_id))
    except KeyError:
        raise not_found("Message", message_id) from None


@router.post("/deliveries/wait")
def wait(state: StateDep, timeout: float = 10.0) -> Json:
    return {"idle": state.deliveries.wait_idle(timeout)}


def _attempt(a: Attempt) -> Json:
    return {
        "message_id": a.message_id,
        "endpoint_id": a.endpoint_id,
        "url": a.url,
        "event_type": a.event_type,
        "number": a.number,
        "sent_at": iso(a.sent_at),
        "status_code": a.status_code,
        "error": a.error,
        "manual": a.manual,
        "headers": a.headers,
        "body": a.body,
    }


def _message(m: Message) -> Json:
    return {
        "message_id": m.message_id,
        "endpoint_id": m.endpoint.id,
        "event_type": m.event.type,
        "attempts": m.attempts,
        "status": m.status,
    }


# Declared last: `/payments/{id}/refund` and `/payments/{id}/disputes` above must match first.
@router.post("/payments/{payment_id}/{status}")
def settle_payment(state: StateDep, payment_id: str, status: billing.SettledStatus) -> Json:
    """Finish a processing payment: `succeeded`, `failed` or `cancelled`."""
    settled = billing.settle_payment(state, payment_id, status)
    with state.lock:
        return payloads.payment(state.find_payment(payment_id)[0], settled)


def _rate_limit(rule: RateLimit | None) -> Json:
    if rule is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "per_second": rule.per_second,
        "per_minute": rule.per_minute,
        "second": rule.second,
        "minute": rule.minute,
    }
