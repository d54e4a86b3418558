"""`/webhooks`: endpoint management with an API key, as Dodo's CLI does it (docs/dodo.md §3)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bantico_emulators.dodo import payloads
from bantico_emulators.dodo.auth import Caller, CallerDep
from bantico_emulators.dodo.errors import invalid, not_found
from bantico_emulators.dodo.events import EVENT_TYPES
from bantico_emulators.dodo.ids import new_id
from bantico_emulators.dodo.payloads import Json
from bantico_emulators.dodo.records import SigningSecret, WebhookEndpoint, new_signing_secret

router = APIRouter(prefix="/webhooks")


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str | None = None
    description: str | None = None
    disabled: bool | None = None
    filter_types: list[str] | None = None
    metadata: dict[str, str] | None = None
    rate_limit: int | None = Field(None, ge=1)


class WebhookCreate(WebhookUpdate):
    url: str
    headers: dict[str, str] | None = None
    idempotency_key: str | None = None


class HeadersUpdate(BaseModel):
    headers: dict[str, str]


@router.post("")
def create_webhook(caller: CallerDep, body: WebhookCreate) -> Json:
    """Register an endpoint. It receives every event type unless `filter_types` narrows it."""
    state, ledger = caller.state, caller.ledger
    _check(body)
    with state.lock:
        live = list(ledger.webhooks.values())
        token = body.idempotency_key
        again = next((e for e in live if token and e.idempotency_key == token), None)
        if again is not None:
            return payloads.webhook(again)
        limit = state.options.max_webhook_endpoints
        if limit is not None and len(live) >= limit:
            raise invalid(f"At most {limit} webhook endpoints are allowed", "LIMIT_EXCEEDED")
        now = state.clock.now()
        endpoint = WebhookEndpoint(
            id=new_id("ep", 27),
            business_id=ledger.business_id,
            mode=ledger.mode,
            url=body.url,
            created_at=now,
            updated_at=now,
            secrets=[SigningSecret(value=new_signing_secret())],
            description=body.description or "",
            metadata=body.metadata or {},
            headers=body.headers or {},
            disabled=bool(body.disabled),
            filter_types=body.filter_types or [],
            rate_limit=body.rate_limit,
            idempotency_key=body.idempotency_key,
        )
        ledger.webhooks[endpoint.id] = endpoint
        return payloads.webhook(endpoint)


@router.get("")
def list_webhooks(
    caller: CallerDep,
    iterator: str | None = None,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
) -> Json:
    """A cursor page: pass the returned `iterator` until `done` is true."""
    with caller.state.lock:
        ids = list(caller.ledger.webhooks)
        start = ids.index(iterator) + 1 if iterator in ids else 0
        chosen = ids[start : start + limit]
        done = start + limit >= len(ids)
        return {
            "data": [payloads.webhook(caller.ledger.webhooks[i]) for i in chosen],
            "iterator": None if done else chosen[-1],
            "done": done,
        }


@router.get("/{webhook_id}")
def get_webhook(caller: CallerDep, webhook_id: str) -> Json:
    return payloads.webhook(_endpoint(caller, webhook_id))


@router.patch("/{webhook_id}")
def update_webhook(caller: CallerDep, webhook_id: str, body: WebhookUpdate) -> Json:
    _check(body)
    with caller.state.lock:
        endpoint = _endpoint(caller, webhook_id)
        for name in body.model_fields_set & {"url", "description", "disabled", "rate_limit"}:
            setattr(endpoint, name, getattr(body, name))
        if body.filter_types is not None:
            endpoint.filter_types = body.filter_types
        if body.metadata is not None:
            endpoint.metadata = body.metadata
        endpoint.updated_at = caller.state.clock.now()
        return payloads.webhook(endpoint)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(caller: CallerDep, webhook_id: str) -> Response:
    """Deleting stops delivery at once, retries included."""
    with caller.state.lock:
        endpoint = _endpoint(caller, webhook_id)
        endpoint.deleted = True
        del caller.ledger.webhooks[webhook_id]
    return Response(status_code=204)


@router.get("/{webhook_id}/secret")
def get_webhook_secret(caller: CallerDep, webhook_id: str) -> Json:
    """The current signing secret, `whsec_…`."""
    with caller.state.lock:
        return {"secret": _endpoint(caller, webhook_id).secrets[0].value}


@router.get("/{webhook_id}/headers")
def get_webhook_headers(caller: CallerDep, webhook_id: str) -> Json:
    return {"headers": dict(_endpoint(caller, webhook_id).headers), "sensitive": []}


@router.patch("/{webhook_id}/headers")
def update_webhook_headers(caller: CallerDep, webhook_id: str, body: HeadersUpdate) -> Response:
    with caller.state.lock:
        _endpoint(caller, webhook_id).headers.update(body.headers)
    return Response(status_code=200)


def _endpoint(caller: Caller, webhook_id: str) -> WebhookEndpoint:
    with caller.state.lock:
        found = caller.ledger.webhooks.get(webhook_id)
    if found is None:
        raise not_found("Webhook", webhook_id)
    return found


def _check(body: WebhookUpdate) -> None:
    if body.url is not None:
        parts = urlsplit(body.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid(f"Invalid webhook url {body.url!r}")
    unknown = sorted(set(body.filter_types or []) - EVENT_TYPES)
    if unknown:
        raise invalid(f"Unknown event types: {', '.join(unknown)}")
