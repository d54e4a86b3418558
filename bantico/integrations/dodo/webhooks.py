"""`POST /webhooks/dodo/{projectId}`: verify, store once in the inbox, handle once.

One rule for every provider: no secret configured → 404, bad or missing signature → 401,
malformed body → 400, database unavailable → 503 (so Dodo retries), otherwise 2xx — including
event types Bantico does not use, which are kept in the inbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from bantico.config import Settings
from bantico.crypto import decrypt
from bantico.db import insert_ignoring_conflicts, utcnow
from bantico.errors import BanticoError, NotFound, Unauthorized
from bantico.integrations.dodo import payloads
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.payments import service as payments

log = logging.getLogger("bantico.dodo")
PROVIDER = "dodo"


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Standard Webhooks: HMAC over `id.timestamp.body`, ±5 minutes, any of several signatures
    (secret rotation puts two in one header)."""
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except Exception as error:  # the library raises ValueError/binascii errors on junk headers
        raise Unauthorized(f"webhook signature check failed: {error}") from None


def parse_envelope(body: bytes) -> tuple[str, dict[str, Any]]:
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise payloads.MalformedPayload("webhook body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise payloads.MalformedPayload("webhook body must be a JSON object")
    event_type, data = envelope.get("type"), envelope.get("data")
    if not isinstance(event_type, str) or not event_type:
        raise payloads.MalformedPayload("webhook body has no type")
    if not isinstance(data, dict):
        raise payloads.MalformedPayload("webhook body has no data object")
    return event_type, data


def handle(
    session: Session, project_id: str, mode: str, event_type: str, data: dict[str, Any]
) -> str:
    """Apply one event. Branch on the raw `type` string: the SDK parses unknown types as the
    wrong class (DODO.md §5). Every branch is idempotent."""
    if event_type == "payment.succeeded":
        payment = payments.store_payment(
            session, project_id, payloads.payment(data, mode), via="webhook"
        )
        return f"payment {payment.provider_payment_id} stored"
    if event_type == "refund.succeeded":
        refund = payments.store_refund(session, project_id, payloads.refund(data, mode))
        return f"refund {refund.provider_refund_id} of {refund.provider_payment_id} stored"
    if event_type.startswith("dispute."):
        dispute = payments.store_dispute(session, project_id, payloads.dispute(data, mode))
        return f"dispute {dispute.provider_dispute_id} is {dispute.status}"
    return "acknowledged; Bantico does not use this event type"


def receive(
    session: Session, settings: Settings, project_id: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    integration = session.get(DodoIntegration, project_id)
    if integration is None or not integration.webhook_secret_encrypted:
        raise NotFound("no Dodo webhook secret is configured for this project")
    try:
        verify(decrypt(settings.secret_key, integration.webhook_secret_encrypted), body, headers)
    except Unauthorized:
        integration.webhook_failures += 1
        integration.last_webhook_failure_at = utcnow()
        log.warning("dodo.webhook.invalid_signature", extra={"project": project_id})
        return 401, {"error": {"code": "unauthorized", "message": "webhook signature check failed"}}
    event_type, data = parse_envelope(body)
    webhook_id = headers["webhook-id"]
    status, answer = _store_and_process(
        session, project_id, integration.mode, webhook_id, body, event_type, data
    )
    # Stamped last, so the UPDATE is flushed with the commit: every delivery writes this one
    # row, and on PostgreSQL its lock is held until the commit, so stamping it first would make
    # concurrent deliveries wait for each other's whole transaction.
    integration.last_webhook_at = utcnow()
    return status, answer


def _store_and_process(
    session: Session,
    project_id: str,
    mode: str,
    webhook_id: str,
    body: bytes,
    event_type: str,
    data: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    session.execute(
        insert_ignoring_conflicts(session, WebhookMessage).values(
            provider=PROVIDER,
            project_id=project_id,
            webhook_id=webhook_id,
            event_type=event_type,
            mode=mode,
            body=body.decode(),
            received_at=utcnow(),
            deliveries=0,
        )
    )
    message = session.execute(
        select(WebhookMessage)
        .where(
            WebhookMessage.provider == PROVIDER,
            WebhookMessage.project_id == project_id,
            WebhookMessage.webhook_id == webhook_id,
        )
        .with_for_update()
    ).scalar_one()
    message.deliveries += 1
    if message.handled_at is not None:
        return 200, {"status": "duplicate", "outcome": message.outcome}
    return process(session, message, event_type, data)


def process(
    session: Session, message: WebhookMessage, event_type: str, data: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Handle a stored message; a payload we cannot read stays in the inbox for replay."""
    try:
        with session.begin_nested():
            outcome = handle(session, message.project_id, message.mode, event_type, data)
    except BanticoError as error:
        message.last_error = error.message
        log.warning("dodo.webhook.unprocessable", extra={"webhook_id": message.webhook_id})
        return error.status_code, {"error": {"code": error.code, "message": error.message}}
    message.handled_at, message.outcome, message.last_error = utcnow(), outcome, None
    return 200, {"status": "handled", "outcome": outcome}


def replay(
    session: Session, project_id: str, *, webhook_id: str | None = None, unhandled_only: bool = True
) -> list[dict[str, Any]]:
    """Run stored events through the handlers again (e.g. after a fix)."""
    query = select(WebhookMessage).where(WebhookMessage.project_id == project_id)
    if webhook_id is not None:
        query = query.where(WebhookMessage.webhook_id == webhook_id)
    elif unhandled_only:
        query = query.where(WebhookMessage.handled_at.is_(None))
    results: list[dict[str, Any]] = []
    for message in session.execute(query.order_by(WebhookMessage.id)).scalars():
        try:
            event_type, data = parse_envelope(message.body.encode())
        except BanticoError as error:
            message.last_error = error.message
            results.append({"webhookId": message.webhook_id, "error": error.message})
            continue
        status, body = process(session, message, event_type, data)
        results.append({"webhookId": message.webhook_id, "ok": status < 300, **body})
    return results
