"""Connecting a project to Dodo with nothing but an API key: find the key's mode, register the
webhook endpoint where the key and the public URL allow it, and report the connection's health."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.crypto import decrypt, encrypt
from bantico.db import utcnow
from bantico.errors import BanticoError, Invalid, NotFound
from bantico.integrations.dodo.client import (
    DodoClient,
    DodoFailed,
    DodoRejected,
    DodoUnavailable,
)
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.payments.models import Dispute, Payment, Refund
from bantico.projects.models import Project

log = logging.getLogger("bantico.dodo")
MODES = ("test", "live")


class InvalidApiKey(BanticoError):
    status_code = 422
    code = "invalid_api_key"


class CouldNotVerify(BanticoError):
    status_code = 503
    code = "could_not_verify"


def base_url(settings: Settings, mode: str) -> str:
    return settings.dodo_test_url if mode == "test" else settings.dodo_live_url


def make_client(settings: Settings, api_key: str, mode: str, **options: Any) -> DodoClient:
    return DodoClient(api_key, base_url(settings, mode), **options)


def client_for(settings: Settings, integration: DodoIntegration, **options: Any) -> DodoClient:
    api_key = decrypt(settings.secret_key, integration.api_key_encrypted)
    return make_client(settings, api_key, integration.mode, **options)


def webhook_url(settings: Settings, project_id: str) -> str | None:
    return f"{settings.public_url}/webhooks/dodo/{project_id}" if settings.public_url else None


def detect_mode(settings: Settings, api_key: str) -> str:
    """Dodo keys do not say their mode; a key only authenticates on its own host (DODO.md §1)."""
    results = {}
    for mode in MODES:
        client = make_client(settings, api_key, mode, timeout=5.0, max_retries=0)
        try:
            results[mode] = client.probe()
        finally:
            client.close()
    accepted = [mode for mode, result in results.items() if result == "accepted"]
    if len(accepted) == 1:
        return accepted[0]
    if len(accepted) == 2:
        raise Invalid(
            "the key works on both the test and the live host; check "
            "BANTICO_DODO_TEST_URL and BANTICO_DODO_LIVE_URL point at different hosts"
        )
    if all(result == "rejected" for result in results.values()):
        raise InvalidApiKey(
            "Dodo rejected this API key in both test and live mode. Copy a key from the Dodo "
            "dashboard (Developer → API Keys) and paste it whole; nothing was saved."
        )
    raise CouldNotVerify(
        "could not verify the key with Dodo right now (it did not answer); "
        "nothing was saved, try again in a minute"
    )


def _register_webhook(settings: Settings, integration: DodoIntegration, api_key: str) -> None:
    url = webhook_url(settings, integration.project_id)
    integration.webhook_endpoint_id = integration.webhook_url = None
    integration.webhook_secret_encrypted = None
    if url is None:
        integration.webhook_state = "polling_only"
        integration.webhook_reason = (
            "BANTICO_PUBLIC_URL is not set, so Dodo cannot reach this server; payments arrive "
            "by polling every few minutes. Set it to your public address and reconnect for "
            "instant webhooks."
        )
        return
    client = make_client(settings, api_key, integration.mode)
    try:
        endpoint = client.ensure_webhook(url)
    except DodoRejected:
        integration.webhook_state = "polling_only"
        integration.webhook_reason = (
            "the API key is read-only: Dodo refused to create a webhook endpoint, so payments "
            "arrive by polling. Paste a key with write access to get instant webhooks."
        )
        return
    except (DodoUnavailable, DodoFailed) as error:
        integration.webhook_state = "polling_only"
        integration.webhook_reason = (
            f"webhook registration failed ({error.message}); "
            "payments arrive by polling. Reconnect to try again."
        )
        return
    finally:
        client.close()
    integration.webhook_state = "registered"
    integration.webhook_reason = None
    integration.webhook_endpoint_id = endpoint.id
    integration.webhook_url = url
    integration.webhook_secret_encrypted = encrypt(settings.secret_key, endpoint.secret)


def connect(
    session: Session, settings: Settings, project: Project, api_key: str
) -> DodoIntegration:
    api_key = api_key.strip()
    if not api_key:
        raise Invalid("apiKey is empty; paste your Dodo Payments API key")
    encrypt(settings.secret_key, "")  # fail before any network call when no secret key is set
    mode = detect_mode(settings, api_key)
    integration = session.get(DodoIntegration, project.id)
    fresh = integration is None or integration.mode != mode
    if integration is None:
        integration = DodoIntegration(project_id=project.id, webhook_state="polling_only")
        session.add(integration)
    integration.mode = mode
    integration.api_key_encrypted = encrypt(settings.secret_key, api_key)
    integration.key_hint = api_key[-4:]
    integration.connected_at = utcnow()
    integration.last_sync_error = None
    if fresh:
        integration.backfill_from = utcnow() - timedelta(days=settings.dodo_backfill_days)
        integration.synced_until = None
    _register_webhook(settings, integration, api_key)
    session.flush()
    log.info(
        "dodo.connected",
        extra={"project": project.id, "mode": mode, "webhook": integration.webhook_state},
    )
    return integration


def get_integration(session: Session, project_id: str) -> DodoIntegration:
    integration = session.get(DodoIntegration, project_id)
    if integration is None:
        raise NotFound(
            "Dodo Payments is not connected; PUT /api/v1/integrations/dodo "
            '{"apiKey": …} or run `bantico dodo connect`'
        )
    return integration


def disconnect(session: Session, settings: Settings, project_id: str) -> dict[str, Any]:
    integration = get_integration(session, project_id)
    removed, note = False, None
    if integration.webhook_endpoint_id:
        client = client_for(settings, integration)
        try:
            client.delete_webhook(integration.webhook_endpoint_id)
            removed = True
        except BanticoError as error:
            note = (
                f"could not remove the webhook endpoint from Dodo ({error.message}); "
                "delete it in the Dodo dashboard"
            )
        finally:
            client.close()
    session.delete(integration)
    session.flush()
    return {"disconnected": True, "webhookRemoved": removed, "note": note}


def _count(session: Session, model: Any, project_id: str, mode: str) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(model)
            .where(model.project_id == project_id, model.mode == mode)
        ).scalar_one()
    )


def status(session: Session, project_id: str) -> dict[str, Any]:
    integration = session.get(DodoIntegration, project_id)
    if integration is None:
        return {"connected": False}
    mode = integration.mode
    return {
        "connected": True,
        "mode": mode,
        "connectedAt": integration.connected_at,
        "keyLast4": integration.key_hint,
        "webhook": {
            "state": integration.webhook_state,
            "reason": integration.webhook_reason,
            "endpointId": integration.webhook_endpoint_id,
            "url": integration.webhook_url,
            "lastReceivedAt": integration.last_webhook_at,
            "failures": integration.webhook_failures,
            "lastFailureAt": integration.last_webhook_failure_at,
        },
        "sync": {
            "lastSyncAt": integration.last_sync_at,
            "lastError": integration.last_sync_error,
            "syncedUntil": integration.synced_until,
            "backfillPending": integration.backfill_from is not None,
        },
        "counts": {
            "payments": _count(session, Payment, project_id, mode),
            "refunds": _count(session, Refund, project_id, mode),
            "disputes": _count(session, Dispute, project_id, mode),
            "webhookMessages": _count(session, WebhookMessage, project_id, mode),
        },
    }
