"""`POST /webhooks/dodo/{projectId}`: verify, store once in the inbox, handle once.

One rule for every provider: no secret configured → 404, bad or missing signature → 401,
malformed body → 400, database unavailable → 503 (so Dodo retries), otherwise 2xx — including
event types Bantico does not use, which are kept in the inbox.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from bantico.config import Settings
from bantico.db import insert_ignoring_conflicts, utcnow
from bantico.integrations import provider
from bantico.integrations.dodo import failures, payloads
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.integrations.provider import Kind
from bantico.kit import strict_input
from bantico.kit.crypto import decrypt
from bantico.kit.errors import BanticoError, NotFound, Unauthorized

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
        envelope = strict_input.loads(body)
    except strict_input.MalformedJson as error:
        raise payloads.MalformedPayload(error.message.replace("body", "webhook body", 1)) from None
    if not isinstance(envelope, dict):
        raise payloads.MalformedPayload("webhook body must be a JSON object")
    event_type, data = envelope.get("type"), envelope.get("data")
    if not isinstance(event_type, str) or not event_type:
        raise payloads.MalformedPayload("webhook body has no type")
    if not isinstance(data, dict):
        raise payloads.MalformedPayload("webhook body has no data object")
    return event_type, data


# The status an event type implies, for a payload that does not carry its own.
_PAYMENT_STATUS = {
    "payment.succeeded": "succeeded",
    "payment.failed": "failed",
    "payment.processing": "processing",
    "payment.cancelled": "cancelled",
}


def handle(
    session: Session, project_id: str, mode: str, event_type: str, data: dict[str, Any]
) -> str:
    """Apply one event. Raises `Incomplete` when the payload lacks what Bantico needs: the
    caller acknowledges it and reads the object."""
    return provider.apply(session, project_id, PROVIDER, to_event(event_type, data, mode))


def to_event(event_type: str, data: dict[str, Any], mode: str) -> provider.Event:
    """One event's `data` as Bantico's records. Branch on the raw `type` string: the SDK
    parses unknown types as the wrong class (docs/dodo.md §5)."""
    if event_type.startswith("payment."):
        implied = _PAYMENT_STATUS.get(event_type)
        record = payloads.payment(data, mode, status=implied)
        _agrees(record.status, implied, "payment", record.provider_payment_id)
        return provider.Event(event_type, (record,))
    if event_type.startswith("refund."):
        implied = event_type.removeprefix("refund.")
        refund = payloads.refund(data, mode, status=implied)
        _agrees(refund.status, implied, "refund", refund.provider_refund_id)
        return provider.Event(event_type, (refund,))
    if event_type.startswith("dispute."):
        implied = "dispute_" + event_type.removeprefix("dispute.")
        dispute = payloads.dispute(data, mode, status=implied)
        _agrees(dispute.status, implied, "dispute", dispute.provider_dispute_id)
        return provider.Event(event_type, (dispute,))
    if event_type.startswith("subscription."):
        # A renewal's money arrives as its own `payment.succeeded`; `subscription.renewed`
        # names that payment, so one whose payment event was missed is read by id
        # (docs/dodo.md §6).
        payment_id = data.get("payment_id")
        subscription_id = data.get("subscription_id")
        return provider.Event(
            event_type,
            (
                provider.Renewal(
                    subscription_id if isinstance(subscription_id, str) else None,
                    payment_id if isinstance(payment_id, str) and payment_id else None,
                ),
            ),
        )
    return provider.Event(event_type, ())


def _agrees(status: str, implied: str | None, kind: str, object_id: str) -> None:
    """A delivery carries the object's latest data, so its status may have moved past the event
    type (docs/dodo.md §2), and published examples disagree outright. Rather than guess, read
    the object from Dodo; its answer is stored."""
    if implied is not None and status != implied:
        raise provider.Incomplete(kind, object_id, [f"a {implied} status (it says {status})"])


def receive(
    session: Session, settings: Settings, project_id: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    integration = session.get(DodoIntegration, project_id)
    if integration is None or not integration.webhook_secret_encrypted:
        raise NotFound("no Dodo webhook secret is configured for this project")
    try:
        verify(decrypt(settings.secret_key, integration.webhook_secret_encrypted), body, headers)
    except Unauthorized:
        failures.count(session, integration)
        log.warning("dodo.webhook.invalid_signature", extra={"project": project_id})
        return 401, {"error": {"code": "unauthorized", "message": "webhook signature check failed"}}
    webhook_id = headers["webhook-id"][:100]
    try:
        event_type, data = parse_envelope(body)
    except payloads.MalformedPayload as error:
        # Signed, so from Dodo (or whoever has the secret): kept, so that it can be looked at
        # and replayed once Bantico reads it.
        event_type, data = _peek_type(body), {}
        status, answer = _store_and_process(
            session, project_id, integration.mode, webhook_id, body, event_type, data, error
        )
    else:
        status, answer = _store_and_process(
            session, project_id, integration.mode, webhook_id, body, event_type, data
        )
    # Stamped last, so the UPDATE is flushed with the commit: every delivery writes this one
    # row, and on PostgreSQL its lock is held until the commit, so stamping it first would make
    # concurrent deliveries wait for each other's whole transaction.
    integration.last_webhook_at = utcnow()
    return status, answer


def _peek_type(body: bytes) -> str:
    match = re.search(rb'"type"\s*:\s*"([A-Za-z0-9_.]{1,100})"', body[:4096])
    return match.group(1).decode() if match else "unreadable"


def _store_and_process(
    session: Session,
    project_id: str,
    mode: str,
    webhook_id: str,
    body: bytes,
    event_type: str,
    data: dict[str, Any],
    malformed: BanticoError | None = None,
) -> tuple[int, dict[str, Any]]:
    # Stored as text; bytes that are not UTF-8, and NUL characters (PostgreSQL refuses them in
    # text), are replaced, so this copy can differ from the signed bytes.
    text = body.decode("utf-8", "replace").replace("\x00", "\ufffd")
    session.execute(
        insert_ignoring_conflicts(session, WebhookMessage).values(
            provider=PROVIDER,
            project_id=project_id,
            webhook_id=webhook_id,
            event_type=event_type[:100],
            mode=mode,
            body=text,
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
    if malformed is not None:
        return _rejected(message, malformed)
    return process(session, message, event_type, data)


def _rejected(message: WebhookMessage, error: BanticoError) -> tuple[int, dict[str, Any]]:
    """Kept unhandled with the reason, for `bantico dodo inbox` and a replay after a fix."""
    message.last_error, message.pending_fetch = error.message, None
    message.outcome = f"rejected: {error.message}"[:200]
    log.warning("dodo.webhook.rejected", extra={"webhook_id": message.webhook_id})
    return error.status_code, {"error": {"code": error.code, "message": error.message}}


def process(
    session: Session, message: WebhookMessage, event_type: str, data: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Handle a stored message; a payload we cannot read stays in the inbox for replay, and
    one that lacks fields is acknowledged and completed by reading the object from Dodo."""
    try:
        with session.begin_nested():
            outcome = handle(session, message.project_id, message.mode, event_type, data)
    except provider.Incomplete as missing:
        message.pending_fetch, message.last_error = missing.fetch, None
        message.outcome = f"waiting for Dodo: {missing}; reading it by id"[:200]
        log.info("dodo.webhook.incomplete", extra={"webhook_id": message.webhook_id})
        return 202, {"status": "accepted", "outcome": message.outcome}
    except BanticoError as error:
        return _rejected(message, error)
    except (DataError, IntegrityError) as error:
        # A value the database refuses (validation should have caught it): rejected, not 500.
        refused = payloads.MalformedPayload(
            f"the database refused a value of this payload ({type(error.orig).__name__})"
        )
        return _rejected(message, refused)
    message.handled_at, message.outcome, message.last_error = utcnow(), outcome, None
    message.pending_fetch = None
    return 200, {"status": "handled", "outcome": outcome}


def complete(
    session: Session,
    message: WebhookMessage,
    kind: Kind,
    object_id: str,
    data: dict[str, Any] | None,
) -> None:
    """Finish a message with the object read from Dodo (None: Dodo has no such object)."""
    noun = kind.removesuffix("s")
    if data is None:
        # e.g. a dashboard "Send Example" message: its ids name nothing in the account.
        message.handled_at, message.pending_fetch = utcnow(), None
        message.outcome = f"Dodo has no {noun} {object_id}; nothing stored"[:200]
        return
    try:
        with session.begin_nested():
            stored = payloads.store(
                session, kind, message.project_id, message.mode, data, via="webhook"
            )
    except (BanticoError, provider.Incomplete) as error:
        message.last_error = str(getattr(error, "message", error))
        return
    message.handled_at, message.pending_fetch, message.last_error = utcnow(), None, None
    message.outcome = f"{noun} {object_id} stored ({stored.status}), read from Dodo by id"[:200]


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
            _rejected(message, error)
            results.append({"webhookId": message.webhook_id, "error": error.message})
            continue
        status, body = process(session, message, event_type, data)
        results.append({"webhookId": message.webhook_id, "ok": status < 300, **body})
    return results


def state_of(message: WebhookMessage) -> str:
    if message.handled_at is not None:
        return "handled"
    return "waiting" if message.pending_fetch else "rejected"


def inbox(
    session: Session, project_id: str, *, unhandled_only: bool = True, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest deliveries (by default those not handled: rejected with their reason, or
    waiting for an object to be read from Dodo), for the dashboard, the API and the CLI."""
    query = select(WebhookMessage).where(
        WebhookMessage.project_id == project_id, WebhookMessage.provider == PROVIDER
    )
    if unhandled_only:
        query = query.where(WebhookMessage.handled_at.is_(None))
    rows = session.execute(query.order_by(WebhookMessage.id.desc()).limit(limit)).scalars()
    return [
        {
            "webhookId": m.webhook_id,
            "type": m.event_type,
            "state": state_of(m),
            "receivedAt": m.received_at,
            "deliveries": m.deliveries,
            "reason": m.last_error if state_of(m) == "rejected" else m.outcome,
            "outcome": m.outcome,
        }
        for m in rows
    ]
