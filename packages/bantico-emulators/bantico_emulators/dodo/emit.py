"""Events for the emulator's records. Each renders its `data` when an attempt is sent."""

from __future__ import annotations

from bantico_emulators.dodo import payloads
from bantico_emulators.dodo.events import Event, Render
from bantico_emulators.dodo.payloads import Json
from bantico_emulators.dodo.records import FieldSet, Ledger
from bantico_emulators.dodo.state import EmulatorState


def payment_event(state: EmulatorState, ledger: Ledger, kind: str, payment_id: str) -> Event:
    def render(fields: FieldSet) -> Json:
        with state.lock:
            data = payloads.payment(ledger, ledger.payments[payment_id], fields=fields)
        return {"payload_type": "Payment", **data}

    return _event(state, ledger, kind, render)


def refund_event(state: EmulatorState, ledger: Ledger, kind: str, refund_id: str) -> Event:
    def render(_: FieldSet) -> Json:
        with state.lock:
            return {"payload_type": "Refund", **payloads.refund(ledger, ledger.refunds[refund_id])}

    return _event(state, ledger, kind, render)


def dispute_event(state: EmulatorState, ledger: Ledger, kind: str, dispute_id: str) -> Event:
    def render(_: FieldSet) -> Json:
        with state.lock:
            return {"payload_type": "Dispute", **payloads.dispute(ledger.disputes[dispute_id])}

    return _event(state, ledger, kind, render)


def subscription_event(
    state: EmulatorState,
    ledger: Ledger,
    kind: str,
    subscription_id: str,
    payment_id: str | None = None,
) -> Event:
    # `payment_id` is set only for `subscription.renewed` (SDK subscription_renewed_webhook_event).
    def render(_: FieldSet) -> Json:
        with state.lock:
            data = payloads.subscription(ledger, ledger.subscriptions[subscription_id])
        return {
            "payload_type": "Subscription",
            **data,
            "past_due_ends_at": None,
            "payment_id": payment_id,
        }

    return _event(state, ledger, kind, render)


def _event(state: EmulatorState, ledger: Ledger, kind: str, render: Render) -> Event:
    return Event(ledger.business_id, ledger.mode, kind, state.clock.now(), render)
