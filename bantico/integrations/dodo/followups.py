"""Reads by id, after listing: payments listed without their details, objects that are still
changing, and webhooks that arrived without what Bantico needs.

Dodo's lists filter by creation time only (docs/dodo.md §4), so an object that changes after it
was listed (a payment leaving `processing`, a refund leaving `pending`, a dispute moving on) is
read again by id while it is unresolved, for `WATCH_DAYS` after it was created; the periodic
sweep (sync.py) re-lists those days too, at a hundred objects a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from bantico.db import session_scope, utcnow
from bantico.integrations.dodo import payloads, webhooks
from bantico.integrations.dodo.client import DodoClient
from bantico.integrations.dodo.models import WebhookMessage
from bantico.integrations.provider import Kind
from bantico.payments import rules
from bantico.payments import service as payments
from bantico.payments.models import Dispute, Payment, Refund

log = logging.getLogger("bantico.dodo")

WATCH_DAYS = 120
WATCH_PER_PASS = 60  # reads by id of unresolved objects, in all, per pass
DETAIL_BATCH = 40  # full payments read, then stored in one transaction
FETCH_THREADS = 4
COMPLETIONS_PER_PASS = 200


def read_many(
    client: DodoClient, kind: Kind, ids: list[str], with_retries: Callable[[Any], Any]
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Read objects by id a few at a time (the rate limiter spaces them), in order."""
    if not ids:
        return
    with ThreadPoolExecutor(min(FETCH_THREADS, len(ids)), "bantico-dodo-read") as pool:
        futures = [pool.submit(with_retries, lambda i=i: client.read(kind, i)) for i in ids]
        try:
            for object_id, future in zip(ids, futures, strict=True):
                yield object_id, future.result()
        finally:
            for future in futures:
                future.cancel()


def recheck_after(age: timedelta) -> timedelta:
    """How long an unresolved object waits between reads: young objects change fast."""
    return min(timedelta(hours=6), max(timedelta(minutes=5), age / 24))


def _unresolved(
    session: Session, project_id: str, mode: str, now: datetime
) -> list[tuple[Kind, str, Any]]:
    horizon = now - timedelta(days=WATCH_DAYS)
    unresolved: dict[Kind, ColumnElement[bool]] = {
        "payments": Payment.status.not_in(rules.FINAL_PAYMENT_STATUSES),
        "refunds": Refund.status.not_in(rules.FINAL_REFUND_STATUSES),
        "disputes": Dispute.status.in_(rules.OPEN_DISPUTE_STATUSES),
    }
    found: list[tuple[Kind, str, Any]] = []
    for kind, (model, id_column) in payloads.RECORDS.items():
        rows = session.execute(
            select(model)
            .where(
                model.project_id == project_id,
                model.provider == "dodo",
                model.mode == mode,
                model.created_at >= horizon,
                unresolved[kind],
            )
            .order_by(model.checked_at.asc().nulls_first(), model.created_at.desc())
            .limit(WATCH_PER_PASS * 3)
        ).scalars()
        for row in rows:
            due = row.checked_at is None or now - row.checked_at >= recheck_after(
                now - row.created_at
            )
            if due:
                found.append((kind, getattr(row, id_column.key), row.created_at))
    found.sort(key=lambda f: f[2], reverse=True)
    return found[:WATCH_PER_PASS]


def _stamp(session: Session, kind: Kind, project_id: str, object_id: str, now: datetime) -> None:
    model, id_column = payloads.RECORDS[kind]
    row = session.execute(
        select(model).where(
            model.project_id == project_id, model.provider == "dodo", id_column == object_id
        )
    ).scalar_one_or_none()
    if row is not None:
        row.checked_at = now


def watch(
    factory: sessionmaker[Session],
    client: DodoClient,
    project_id: str,
    mode: str,
    with_retries: Callable[[Any], Any],
) -> int:
    """Re-read unresolved objects by id; returns how many were read."""
    now = utcnow()
    with session_scope(factory) as session:
        due = _unresolved(session, project_id, mode, now)
    read = 0
    for kind in ("payments", "refunds", "disputes"):
        ids = [object_id for k, object_id, _ in due if k == kind]
        for object_id, data in read_many(client, kind, ids, with_retries):
            with session_scope(factory) as session:
                if data is not None:
                    payloads.store(session, kind, project_id, mode, data, via="sync")
                _stamp(session, kind, project_id, object_id, now)
            read += 1
    return read


def pending_details(session: Session, project_id: str, mode: str, limit: int) -> list[str]:
    return list(
        session.execute(
            select(Payment.provider_payment_id)
            .where(
                Payment.project_id == project_id,
                Payment.provider == "dodo",
                Payment.mode == mode,
                Payment.details_pending.is_(True),
            )
            .order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(limit)
        ).scalars()
    )


def read_details(
    factory: sessionmaker[Session],
    client: DodoClient,
    project_id: str,
    mode: str,
    with_retries: Callable[[Any], Any],
    keep_going: Callable[[], bool],
    done: Callable[[int], None],
) -> int:
    """Read listed payments in full (settlement, tax), newest first, a batch at a time."""
    total = 0
    while keep_going():
        with session_scope(factory) as session:
            ids = pending_details(session, project_id, mode, DETAIL_BATCH)
        if not ids:
            break
        fetched = list(read_many(client, "payments", ids, with_retries))
        with session_scope(factory) as session:
            for payment_id, data in fetched:
                if data is not None:
                    stored = payments.store_payment(
                        session, project_id, payloads.payment(data, mode), via="sync"
                    )
                else:  # Dodo no longer has it: nothing more to read
                    stored = session.execute(
                        select(Payment).where(
                            Payment.project_id == project_id,
                            Payment.provider == "dodo",
                            Payment.provider_payment_id == payment_id,
                        )
                    ).scalar_one()
                # A full read without settlement (or none at all) is as full as it gets.
                stored.details_pending = False
        total += len(fetched)
        done(len(fetched))
    return total


def complete_webhooks(
    factory: sessionmaker[Session],
    client: DodoClient,
    project_id: str,
    with_retries: Callable[[Any], Any],
) -> int:
    """Finish the webhooks that were acknowledged without enough data, reading each object."""
    with session_scope(factory) as session:
        waiting = list(
            session.execute(
                select(WebhookMessage.id, WebhookMessage.pending_fetch)
                .where(
                    WebhookMessage.project_id == project_id,
                    WebhookMessage.provider == "dodo",
                    WebhookMessage.handled_at.is_(None),
                    WebhookMessage.pending_fetch.is_not(None),
                )
                .order_by(WebhookMessage.id)
                .limit(COMPLETIONS_PER_PASS)
            ).all()
        )
    for message_id, fetch in waiting:
        kind, object_id = payloads.fetch_target(fetch or "")
        data = with_retries(lambda k=kind, o=object_id: client.read(k, o))
        with session_scope(factory) as session:
            message = session.get(WebhookMessage, message_id)
            if message is None or message.handled_at is not None:
                continue
            webhooks.complete(session, message, kind, object_id, data)
    return len(waiting)
