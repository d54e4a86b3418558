"""Reconciliation and backfill: page through Dodo's payments, refunds and disputes and store
what is missing. The same rows as the webhook path, so a payment seen by both is stored once.

Each page is committed on its own, so an interrupted run keeps what it stored; 429s and other
transient failures back off and retry the same page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.db import session_scope, utcnow
from bantico.integrations.dodo import payloads
from bantico.integrations.dodo.client import PAGE_SIZE, DodoClient, DodoUnavailable
from bantico.integrations.dodo.connect import client_for, get_integration
from bantico.payments import service as payments
from bantico.payments.models import Payment

log = logging.getLogger("bantico.dodo")
OVERLAP = timedelta(days=1)  # Dodo's list order is undocumented; windows overlap, ids dedupe.
MAX_ATTEMPTS = 6
# Full payments are read a few at a time: one by one, a backfill spends most of its time waiting
# for Dodo (10,000 payments at 100 ms a round trip would take 17 minutes). Dodo publishes no
# rate limit (DODO.md §1); a 429 backs off each reader as before.
FETCH_THREADS = 4


@dataclass
class SyncReport:
    since: datetime
    until: datetime
    pages: int = 0
    payments_seen: int = 0
    payments_stored: int = 0
    refunds_seen: int = 0
    disputes_seen: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "pages": self.pages,
            "paymentsSeen": self.payments_seen,
            "paymentsStored": self.payments_stored,
            "refundsSeen": self.refunds_seen,
            "disputesSeen": self.disputes_seen,
            "retries": self.retries,
        }


Progress = Callable[[str, int], None]
Sleep = Callable[[float], None]


_counting = threading.Lock()


def _with_backoff(fetch: Callable[[], Any], report: SyncReport, sleep: Sleep) -> Any:
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fetch()
        except DodoUnavailable as error:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            with _counting:
                report.retries += 1
            delay = error.retry_after if error.retry_after is not None else min(2**attempt, 30)
            log.info("dodo.sync.backoff", extra={"delay": delay, "reason": error.message})
            sleep(delay)
    raise AssertionError("unreachable")


def _stored_in_full(session: Session, project_id: str, payment_ids: list[str]) -> set[str]:
    """List items lack settlement, tax and is_update_payment_method (DODO.md §4): a payment is
    read in full unless it is already stored with them."""
    return set(
        session.execute(
            select(Payment.provider_payment_id).where(
                Payment.project_id == project_id,
                Payment.provider == "dodo",
                Payment.provider_payment_id.in_(payment_ids),
                Payment.settlement_amount.is_not(None),
            )
        ).scalars()
    )


def _read_in_full(
    pool: ThreadPoolExecutor,
    client: DodoClient,
    payment_ids: list[str],
    report: SyncReport,
    sleep: Sleep,
) -> Iterator[dict[str, Any]]:
    """The full payments, in order, read concurrently; the first failure stops the rest."""
    futures: list[Future[dict[str, Any]]] = [
        pool.submit(_with_backoff, partial(client.payment, payment_id), report, sleep)
        for payment_id in payment_ids
    ]
    try:
        for future in futures:
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def _pages(
    fetch_page: Callable[[int], list[dict[str, Any]]], report: SyncReport, sleep: Sleep
) -> Iterator[list[dict[str, Any]]]:
    page = 0
    while True:
        items: list[dict[str, Any]] = _with_backoff(partial(fetch_page, page), report, sleep)
        report.pages += 1
        yield items
        if len(items) < PAGE_SIZE:
            return
        page += 1


def run_sync(
    factory: sessionmaker[Session],
    settings: Settings,
    project_id: str,
    *,
    since: datetime | None = None,
    progress: Progress | None = None,
    sleep: Sleep = time.sleep,
    client: DodoClient | None = None,
) -> SyncReport:
    """Store every succeeded payment, refund and dispute created since `since` (default: the
    pending backfill, else the last pass minus an overlap)."""
    with session_scope(factory) as session:
        integration = get_integration(session, project_id)
        mode, connected_at = integration.mode, integration.connected_at
        backfill_from = integration.backfill_from
        default_since = backfill_from or (
            integration.synced_until - OVERLAP
            if integration.synced_until
            else utcnow() - timedelta(days=settings.dodo_backfill_days)
        )
        own_client = client is None
        # No SDK retries: the backoff below is the one retry layer, and it honours Retry-After.
        client = client or client_for(settings, integration, max_retries=0)
    report = SyncReport(since=since or default_since, until=utcnow())
    notify = progress or (lambda _stage, _count: None)
    pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="bantico-dodo-sync")
    try:
        for items in _pages(
            lambda n: client.payments_page(n, since=report.since, until=report.until), report, sleep
        ):
            report.payments_seen += len(items)
            with session_scope(factory) as session:
                succeeded = [i["payment_id"] for i in items if i.get("status") == "succeeded"]
                done = _stored_in_full(session, project_id, succeeded)
                missing = [payment_id for payment_id in succeeded if payment_id not in done]
                # Stored here, in this thread and this page's transaction, in list order.
                for full in _read_in_full(pool, client, missing, report, sleep):
                    payments.store_payment(
                        session, project_id, payloads.payment(full, mode), via="sync"
                    )
                    report.payments_stored += 1
            notify("payments", len(items))
        for items in _pages(lambda n: client.refunds_page(n, since=report.since), report, sleep):
            with session_scope(factory) as session:
                for item in items:
                    report.refunds_seen += 1
                    payments.store_refund(session, project_id, payloads.refund(item, mode))
            notify("refunds", len(items))
        for items in _pages(lambda n: client.disputes_page(n, since=report.since), report, sleep):
            with session_scope(factory) as session:
                for item in items:
                    report.disputes_seen += 1
                    payments.store_dispute(session, project_id, payloads.dispute(item, mode))
            notify("disputes", len(items))
    except Exception as error:
        with session_scope(factory) as session:
            integration = get_integration(session, project_id)
            integration.last_sync_error = getattr(error, "message", str(error))
            integration.last_sync_at = utcnow()
        raise
    finally:
        pool.shutdown(cancel_futures=True)
        if own_client:
            client.close()
    with session_scope(factory) as session:
        integration = get_integration(session, project_id)
        if integration.mode != mode or integration.connected_at != connected_at:
            return report  # reconnected meanwhile: this pass says nothing about the new key
        integration.last_sync_at = utcnow()
        integration.last_sync_error = None
        if since is None or (backfill_from and report.since <= backfill_from):
            integration.backfill_from = None
        if integration.synced_until is None or report.until > integration.synced_until:
            integration.synced_until = report.until
    log.info("dodo.sync.done", extra=report.as_dict())
    return report
