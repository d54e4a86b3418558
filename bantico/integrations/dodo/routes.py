"""`/api/v1/integrations/dodo` (connect, status, disconnect, sync) and the webhook receiver."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bantico.db import session_scope
from bantico.deps import ProjectDep, RawBody, SessionDep, SettingsDep
from bantico.integrations.dodo import connect as service
from bantico.integrations.dodo import webhooks
from bantico.integrations.dodo.sync import run_sync
from bantico.schemas import ApiModel, as_utc

router = APIRouter(tags=["dodo"])


class DodoConnect(ApiModel):
    api_key: str = Field(min_length=1, max_length=500)


class DodoSync(ApiModel):
    since: datetime | None = None

    _utc = field_validator("since")(as_utc)


@router.put("/api/v1/integrations/dodo")
def connect_dodo(
    data: DodoConnect,
    request: Request,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Connect Dodo Payments with an API key. The key's mode (test or live) is found by asking
    both hosts; a webhook endpoint is registered when the key can write and `BANTICO_PUBLIC_URL`
    is set, otherwise payments arrive by polling. History is backfilled in the background."""
    service.connect(session, settings, project, data.api_key)
    session.commit()
    reconciler = getattr(request.app.state, "reconciler", None)
    if reconciler is not None:
        reconciler.wake()
    return service.status(session, project.id)


@router.get("/api/v1/integrations/dodo")
def dodo_status(project: ProjectDep, session: SessionDep) -> dict[str, Any]:
    """Mode, connected time, webhook state, last webhook and sync, and counts. Never the key."""
    return service.status(session, project.id)


@router.delete("/api/v1/integrations/dodo")
def disconnect_dodo(
    project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Disconnect, removing the webhook endpoint Bantico registered where Dodo allows it.
    Stored payments are kept."""
    return service.disconnect(session, settings, project.id)


@router.post("/api/v1/integrations/dodo/sync")
def sync_dodo(
    request: Request, project: ProjectDep, settings: SettingsDep, data: DodoSync | None = None
) -> dict[str, Any]:
    """Backfill or reconcile now: store every payment, refund and dispute created since
    `since` (default: where the last pass stopped). Safe to repeat."""
    since = data.since if data else None
    report = run_sync(request.app.state.sessionmaker, settings, project.id, since=since)
    return report.as_dict()


@router.post("/webhooks/dodo/{project_id}", tags=["webhooks"])
def receive_webhook(
    project_id: str, body: RawBody, request: Request, settings: SettingsDep
) -> JSONResponse:
    """Dodo Payments webhook receiver (Standard Webhooks signatures)."""
    factory = request.app.state.sessionmaker
    # SQLite has one writer at a time and its busy handler polls rather than queues: under a
    # burst of deliveries some would time out (503, retried by Dodo). Queue them here instead.
    # The transaction commits inside the lock, before the response is sent.
    with _writer_lock(factory), session_scope(factory) as session:
        status, payload = webhooks.receive(session, settings, project_id, body, request.headers)
    return JSONResponse(payload, status_code=status)


_SQLITE_WRITER = threading.Lock()


def _writer_lock(factory: sessionmaker[Session]) -> AbstractContextManager[object]:
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return _SQLITE_WRITER
    return nullcontext()
