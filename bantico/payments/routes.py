"""`/api/v1/payments`: the payments Bantico received, with their refunds and disputes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from bantico.deps import ProjectDep, SessionDep
from bantico.kit.errors import Invalid
from bantico.kit.schemas import as_utc
from bantico.payments import schemas
from bantico.reports import payments as queries

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.get("")
def list_payments(
    project: ProjectDep,
    session: SessionDep,
    mode: Literal["live", "test"] = "live",
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query()] = None,
    attributed: bool | None = None,
) -> schemas.PaymentList:
    """Payments newest first, for one mode (test and live never mix). `from` is inclusive and
    `to` exclusive; `attributed=true|false` keeps attributed or unattributed payments only;
    follow `nextCursor` for the next page."""
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise Invalid("cursor must be the nextCursor value of a previous page")
    return queries.list_payments(
        session,
        project.id,
        mode=mode,
        since=as_utc(since),
        until=as_utc(until),
        limit=limit,
        cursor=int(cursor) if cursor else None,
        attributed=attributed,
    )


@router.get("/{payment_id}")
def get_payment(payment_id: str, project: ProjectDep, session: SessionDep) -> schemas.PaymentDetail:
    """One payment by its provider id (e.g. `pay_…`), with refunds, disputes and raw payload."""
    return queries.get_payment(session, project.id, payment_id)
