"""`/api/v1/integrations/dodo` (connect, status, disconnect, sync) and the webhook receiver."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bantico.db import session_scope
from bantico.deps import ProjectDep, RawBody, SessionDep, SettingsDep
from bantico.integrations.dodo import connect as service
from bantico.integrations.dodo import webhooks
from bantico.integrations.dodo.scheduler import new_holder, run_pass
from bantico.kit.errors import Conflict
from bantico.kit.schemas import ApiModel, as_utc

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
    _wake(request)
    return service.status(session, settings, project.id)


@router.get("/api/v1/integrations/dodo")
def dodo_status(project: ProjectDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Mode, connected time, webhook state, last webhook, the sync (backfill done of total
    with the time left, errors in words, the rate budget) and counts. Never the key."""
    return service.status(session, settings, project.id)


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
    """Reconcile now: one pass (new and changed payments, refunds and disputes; with `since`,
    everything created since then too), bounded to about half a minute of reading. When
    `more` is true the rest goes on in the background. Safe to repeat. 409 while another
    process's pass holds the project for more than a minute."""
    since = data.since if data else None
    factory = request.app.state.sessionmaker
    with session_scope(factory) as session:
        service.get_integration(session, project.id)
    report = run_pass(
        factory, settings, project.id, new_holder("api"), wait=70.0, budget=30.0, since=since
    )
    if report is None:
        raise Conflict("another pass is running for this project; try again in a minute")
    if report.more:
        _wake(request)
    return report.as_dict()


@router.get("/api/v1/integrations/dodo/inbox")
def dodo_inbox(
    project: ProjectDep,
    session: SessionDep,
    all: bool = False,
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """Webhook deliveries, newest first: by default those not handled — rejected (with the
    reason) or waiting for an object to be read from Dodo. `all=true` lists handled ones too."""
    return {"items": webhooks.inbox(session, project.id, unhandled_only=not all, limit=limit)}


@router.post("/api/v1/integrations/dodo/inbox/replay")
def dodo_replay(project: ProjectDep, session: SessionDep) -> dict[str, Any]:
    """Run every delivery that is not handled through the handlers again (after a fix)."""
    return {"results": webhooks.replay(session, project.id)}


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
    if status == 202:
        _wake(request)  # a payload without enough data: read the object from Dodo now
    return JSONResponse(payload, status_code=status)


def _wake(request: Request) -> None:
    reconciler = getattr(request.app.state, "reconciler", None)
    if reconciler is not None:
        reconciler.wake()


_SQLITE_WRITER = threading.Lock()


def _writer_lock(factory: sessionmaker[Session]) -> AbstractContextManager[object]:
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return _SQLITE_WRITER
    return nullcontext()
