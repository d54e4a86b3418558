"""Dodo webhook payloads shaped as in docs/dodo.md §2, signed exactly as Dodo (Svix) signs them."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from bantico.config import Settings
from bantico.integrations.dodo.models import DodoIntegration
from bantico.kit.crypto import encrypt

BUSINESS = "bus_0NidpUR3LLwbZ99t97YEe"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def connect_for_webhooks(
    session: Session, settings: Settings, project_id: str, secret: str, mode: str = "test"
) -> DodoIntegration:
    integration = DodoIntegration(
        project_id=project_id,
        mode=mode,
        api_key_encrypted=encrypt(settings.secret_key, "k"),
        key_hint="k",
        webhook_state="registered",
        webhook_endpoint_id="ep_1",
        webhook_secret_encrypted=encrypt(settings.secret_key, secret),
    )
    session.add(integration)
    session.commit()
    return integration


def payment(payment_id: str = "pay_0NkBwXq2c5t8uYv1LmN3o", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payload_type": "Payment",
        "payment_id": payment_id,
        "business_id": BUSINESS,
        "brand_id": BUSINESS,
        "status": "succeeded",
        "total_amount": 4900,
        "currency": "USD",
        "tax": 0,
        "settlement_amount": 4612,
        "settlement_currency": "USD",
        "settlement_tax": 0,
        "created_at": "2026-11-20T10:15:30.123456Z",
        "updated_at": None,
        "customer": {
            "customer_id": "cus_0NkBwH3N9Ld41wgNzK6ty",
            "email": "jane@example.com",
            "name": "Jane Doe",
            "phone_number": None,
            "metadata": {},
        },
        "metadata": {"linkId": "lnk_8f2a", "campaignId": "cmp_spring26", "source": "newsletter"},
        "billing": {"country": "US"},
        "product_cart": [{"product_id": "pdt_1", "quantity": 1}],
        "checkout_session_id": "cks_0NkBmhmGVSy7WTCPOd8oh",
        "subscription_id": None,
        "subscription_ids": [],
        "charge_type": None,
        "is_update_payment_method": False,
        "refunds": [],
        "disputes": [],
        "payment_provider": "dodo",
    }
    data.update(overrides)
    return data


def refund(
    refund_id: str = "ref_0NkC1aBcDeFgHiJkLmNoP",
    payment_id: str = "pay_0NkBwXq2c5t8uYv1LmN3o",
    **overrides: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payload_type": "Refund",
        "refund_id": refund_id,
        "payment_id": payment_id,
        "business_id": BUSINESS,
        "brand_id": BUSINESS,
        "amount": 4900,
        "currency": "USD",
        "is_partial": False,
        "status": "succeeded",
        "reason": "Customer request",
        "created_at": "2026-11-21T09:00:00Z",
        "metadata": {},
        "customer": {
            "customer_id": "cus_0NkBwH3N9Ld41wgNzK6ty",
            "email": "jane@example.com",
            "name": "Jane Doe",
        },
    }
    data.update(overrides)
    return data


def envelope(event_type: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "business_id": BUSINESS,
            "type": event_type,
            "timestamp": "2026-11-20T10:15:31.002Z",
            "data": data,
        }
    ).encode()


def headers(
    secret: str,
    body: bytes,
    msg_id: str = "msg_3H9MzzHVbSUwcrGphkKn687qiIZ",
    at: datetime | None = None,
    extra_signatures: tuple[str, ...] = (),
) -> dict[str, str]:
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join((*extra_signatures, signature)),
        "content-type": "application/json",
        "user-agent": "Svix-Webhooks/rolling",
    }
