"""Webhook event types (SDK `types/webhook_event_type.py`, v1.123.0) and the event envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bantico_emulators.dodo.ids import iso
from bantico_emulators.dodo.records import FieldSet, Mode

EVENT_TYPES = frozenset(
    {
        *(f"payment.{s}" for s in ("succeeded", "failed", "processing", "cancelled")),
        "refund.succeeded",
        "refund.failed",
        *(
            f"dispute.{s}"
            for s in ("opened", "expired", "accepted", "cancelled", "challenged", "won", "lost")
        ),
        *(
            f"subscription.{s}"
            for s in (
                "active",
                "renewed",
                "on_hold",
                "past_due",
                "paused",
                "unpaused",
                "cancelled",
                "failed",
                "expired",
                "plan_changed",
                "updated",
                "update_payment_method",
            )
        ),
        "license_key.created",
        *(f"payout.{s}" for s in ("created", "on_hold", "in_progress", "failed", "success")),
        *(
            f"credit.{s}"
            for s in (
                "added",
                "deducted",
                "expired",
                "rolled_over",
                "rollover_forfeited",
                "overage_charged",
                "overage_reset",
                "manual_adjustment",
                "balance_low",
            )
        ),
        "abandoned_checkout.detected",
        "abandoned_checkout.recovered",
        "dunning.started",
        "dunning.recovered",
        *(f"entitlement_grant.{s}" for s in ("created", "delivered", "failed", "revoked")),
    }
)

Render = Callable[[FieldSet], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened. `render` builds `data` when each attempt is sent, because Dodo
    delivers "the latest data at the time of delivery attempt" (webhooks doc), so a retried
    `payment.succeeded` can already show a refund."""

    business_id: str
    mode: Mode
    type: str
    occurred_at: datetime
    render: Render

    def envelope(self, field_set: FieldSet) -> dict[str, Any]:
        return {
            "business_id": self.business_id,
            "type": self.type,
            "timestamp": iso(self.occurred_at),
            "data": self.render(field_set),
        }
