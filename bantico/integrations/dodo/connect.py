"""Connecting a project to Dodo with nothing but an API key: find the key's mode, register the
webhook endpoint where the key and the public URL allow it, and report the connection's health."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.db import utcnow
from bantico.integrations.dodo import failures
from bantico.integrations.dodo.client import DodoClient
from bantico.integrations.dodo.endpoint import register, webhook_url
from bantico.integrations.dodo.models import DodoIntegration, WebhookMessage
from bantico.integrations.dodo.progress import sync_status
from bantico.integrations.provider import Registration
from bantico.integrations.rate_limit import Budget, RateLimiter, bucket_key
from bantico.kit.crypto import decrypt, encrypt
from bantico.kit.errors import BanticoError, Invalid, NotFound
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


def make_client(
    settings: Settings,
    api_key: str,
    mode: str,
    *,
    factory: sessionmaker[Session] | None = None,
    **options: Any,
) -> DodoClient:
    """A client for `api_key`; with `factory`, every request spends from the key's shared rate
    budget (bantico/integrations/rate_limit.py)."""
    url = base_url(settings, mode)
    limiter = None
    if factory is not None:
        budget = Budget(settings.dodo_rate_per_minute, settings.dodo_rate_burst)
        limiter = RateLimiter(factory, bucket_key("dodo", url, api_key), budget)
    return DodoClient(api_key, url, limiter=limiter, **options)


def client_for(
    settings: Settings,
    integration: DodoIntegration,
    *,
    factory: sessionmaker[Session] | None = None,
    **options: Any,
) -> DodoClient:
    api_key = decrypt(settings.secret_key, integration.api_key_encrypted)
    return make_client(settings, api_key, integration.mode, factory=factory, **options)


def rate_bucket(settings: Settings, integration: DodoIntegration) -> str:
    api_key = decrypt(settings.secret_key, integration.api_key_encrypted)
    return bucket_key("dodo", base_url(settings, integration.mode), api_key)


def detect_mode(settings: Settings, api_key: str, factory: sessionmaker[Session]) -> str:
    """Dodo keys do not say their mode; a key only authenticates on its own host
    (docs/dodo.md §1)."""
    results = {}
    for mode in MODES:
        client = make_client(settings, api_key, mode, factory=factory, timeout=5.0, max_retries=0)
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


def apply_registration(
    settings: Settings, integration: DodoIntegration, registration: Registration
) -> None:
    integration.webhook_state = registration.state
    integration.webhook_reason = registration.reason
    integration.webhook_endpoint_id = registration.endpoint_id
    integration.webhook_url = registration.url
    if registration.state != "registered":
        integration.webhook_secret_encrypted = None
    elif registration.secret is not None:
        integration.webhook_secret_encrypted = encrypt(settings.secret_key, registration.secret)


def connect(
    session: Session, settings: Settings, project: Project, api_key: str
) -> DodoIntegration:
    api_key = api_key.strip()
    if not api_key:
        raise Invalid("the API key is empty: paste your Dodo Payments API key")
    if not (api_key.isascii() and api_key.isprintable()) or any(c.isspace() for c in api_key):
        raise Invalid(
            "apiKey has characters a Dodo API key never has (spaces, accents, symbols); copy "
            "it again from the Dodo dashboard (Developer → API Keys)"
        )
    encrypt(settings.secret_key, "")  # fail before any network call when no secret key is set
    # Dodo first, the database after: nothing is written while Dodo is being asked.
    factory = sessionmaker(session.get_bind())
    mode = detect_mode(settings, api_key, factory)
    client = make_client(settings, api_key, mode, factory=factory, throttle_wait=30)
    try:
        registration = register(client, webhook_url(settings, project.id))
    finally:
        client.close()
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
        integration.sync_state = None
    apply_registration(settings, integration, registration)
    integration.webhook_checked_at = utcnow()
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
        client = client_for(settings, integration, factory=sessionmaker(session.get_bind()))
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


def status(session: Session, settings: Settings, project_id: str) -> dict[str, Any]:
    integration = session.get(DodoIntegration, project_id)
    if integration is None:
        return {"connected": False}
    mode = integration.mode
    unwritten_failures, last_unwritten = failures.unwritten(project_id)
    last_failure = last_unwritten or integration.last_webhook_failure_at
    try:
        bucket: str | None = rate_bucket(settings, integration)
    except BanticoError:  # the secret key changed: the status still shows, without the budget
        bucket = None
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
            "failures": integration.webhook_failures + unwritten_failures,
            "lastFailureAt": last_failure,
        },
        "sync": sync_status(session, settings, integration, bucket),
        "counts": {
            "payments": _count(session, Payment, project_id, mode),
            "refunds": _count(session, Refund, project_id, mode),
            "disputes": _count(session, Dispute, project_id, mode),
            "webhookMessages": _count(session, WebhookMessage, project_id, mode),
            "webhooksNotHandled": int(
                session.execute(
                    select(func.count())
                    .select_from(WebhookMessage)
                    .where(
                        WebhookMessage.project_id == project_id,
                        WebhookMessage.mode == mode,
                        WebhookMessage.handled_at.is_(None),
                    )
                ).scalar_one()
            ),
        },
    }
