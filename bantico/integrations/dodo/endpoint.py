"""Bantico's webhook endpoint on the merchant's Dodo account: registered at connect, and kept up
to date afterwards (its event list, its URL when `BANTICO_PUBLIC_URL` changes, recreated when
it was deleted) without the merchant reconnecting."""

from __future__ import annotations

import logging

from bantico.config import Settings
from bantico.integrations.dodo.client import (
    WEBHOOK_EVENT_TYPES,
    DodoClient,
    DodoFailed,
    DodoRejected,
    DodoUnavailable,
)
from bantico.integrations.provider import Registration

log = logging.getLogger("bantico.dodo")

NO_PUBLIC_URL = (
    "BANTICO_PUBLIC_URL is not set, so Dodo cannot reach this server; payments arrive by "
    "polling every few minutes. Set it to your public address for instant webhooks."
)
READ_ONLY = (
    "the API key is read-only: Dodo refused to create a webhook endpoint, so payments arrive "
    "by polling. Paste a key with write access to get instant webhooks."
)


def webhook_url(settings: Settings, project_id: str) -> str | None:
    return f"{settings.public_url}/webhooks/dodo/{project_id}" if settings.public_url else None


def _current(client: DodoClient, endpoint_id: str, url: str) -> str:
    """Bring an existing endpoint up to date; returns its id."""
    endpoint = client.webhook(endpoint_id)
    if endpoint is None:
        raise LookupError(endpoint_id)
    if endpoint.url != url or set(endpoint.filter_types) != set(WEBHOOK_EVENT_TYPES):
        client.update_webhook(endpoint.id, url)
        log.info("dodo.webhook.updated", extra={"endpoint": endpoint.id, "url": url})
    return endpoint.id


def register(client: DodoClient, url: str | None) -> Registration:
    """Reuse the endpoint already registered for `url` (bringing its events up to date), or
    create it; then read its secret. Never raises for a refusal: it says why in `reason`."""
    if url is None:
        return Registration("polling_only", NO_PUBLIC_URL)
    try:
        found = next((e for e in client.webhooks() if e.url == url), None)
        endpoint_id = _current(client, found.id, url) if found else client.create_webhook(url).id
        secret = client.webhook_secret(endpoint_id)
    except DodoRejected:
        return Registration("polling_only", READ_ONLY)
    except (DodoUnavailable, DodoFailed) as error:
        return Registration(
            "polling_only",
            f"webhook registration failed ({error.message}); payments arrive by polling. "
            "Bantico tries again on its next reconciliation pass.",
        )
    return Registration("registered", None, endpoint_id, url, secret)


def upkeep(client: DodoClient, url: str | None, current: Registration) -> Registration | None:
    """What to record about a project's endpoint now, or None when nothing changed.

    A registered endpoint gets every money event and the current public URL; one deleted in
    Dodo's dashboard is created again. A project that polls because no public URL was set, or
    because registration failed, registers once a URL is there. A read-only key is not retried.
    Dodo's refusals and outages raise: the pass records them and tries again next time.
    """
    if current.state == "registered" and current.endpoint_id:
        if url is None:
            return None  # keep the address Dodo has: there is no better one to give it
        try:
            kept = _current(client, current.endpoint_id, url)
        except LookupError:
            return register(client, url)
        if (kept, url) == (current.endpoint_id, current.url):
            return None
        return Registration("registered", None, kept, url)
    if current.reason == READ_ONLY or url is None:
        return None
    return register(client, url)
