"""Polling Dodo: each pass brings Bantico closer to Dodo's current state, with or without
webhooks (a read-only key, which Dodo recommends for analytics tools, polls only).

A pass, in order:
1. completes webhooks acknowledged without what Bantico needs, reading each object by id;
2. keeps the webhook endpoint at the current public URL with every money event (once per
   sync interval, and on a process's first pass);
3. lists what was created since the last pass, in each list;
4. re-reads by id what is still unresolved (followups.py);
5. works on the listing jobs: a range asked for, the backfill, the sweep that re-lists the last
   `WATCH_DAYS` days every `SWEEP_EVERY` to see late changes (sync_state.py);
6. reads listed payments in full.
Steps 5 and 6 stop when the pass's time budget is spent; `report.more` then says work remains
and the next pass resumes it. A list that fails (after retries) is recorded in words and skipped;
the other lists and steps go on. Every request spends from the key's shared rate budget and
waits when it is spent: throttling slows a pass, it never fails it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.db import session_scope, utcnow
from bantico.integrations import provider
from bantico.integrations.dodo import endpoint, followups
from bantico.integrations.dodo.client import KINDS, DodoClient, DodoRejected, DodoUnavailable
from bantico.integrations.dodo.connect import apply_registration, client_for, get_integration
from bantico.integrations.dodo.listing import ID_FIELD, Stored, list_windows, store_page
from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync_state import Job, Listing, SyncState, Window
from bantico.integrations.provider import Kind
from bantico.kit.errors import BanticoError

log = logging.getLogger("bantico.dodo")
OVERLAP = timedelta(days=1)  # Dodo's list order is undocumented; windows overlap, ids dedupe.
SWEEP_EVERY = timedelta(hours=6)
ATTEMPTS = 5  # per request, for 5xx and connection errors; 429s wait in the rate limiter


@dataclass
class SyncReport:
    since: datetime | None
    until: datetime
    pages: int = 0
    payments_seen: int = 0
    payments_stored: int = 0
    refunds_seen: int = 0
    disputes_seen: int = 0
    details_read: int = 0
    rechecked: int = 0
    webhooks_completed: int = 0
    retries: int = 0
    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    more: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "pages": self.pages,
            "paymentsSeen": self.payments_seen,
            "paymentsStored": self.payments_stored,
            "refundsSeen": self.refunds_seen,
            "disputesSeen": self.disputes_seen,
            "detailsRead": self.details_read,
            "rechecked": self.rechecked,
            "webhooksCompleted": self.webhooks_completed,
            "retries": self.retries,
            "requests": self.requests,
            "throttled": self.throttled,
            "waitedSeconds": round(self.waited_seconds, 1),
            "more": self.more,
            "errors": dict(self.errors),
        }


Progress = Callable[[str, int], None]
Sleep = Callable[[float], None]
_counting = threading.Lock()


@dataclass
class Pass:
    """Everything one pass works with."""

    factory: sessionmaker[Session]
    settings: Settings
    project_id: str
    mode: str
    client: DodoClient
    state: SyncState
    report: SyncReport
    started: datetime
    deadline: float | None
    sleep: Sleep
    notify: Progress
    seen: dict[str, set[str]] = field(default_factory=dict)  # ids listed in this pass

    def keep_going(self) -> bool:
        return self.deadline is None or time.monotonic() < self.deadline

    def with_retries(self, fetch: Callable[[], Any]) -> Any:
        for attempt in range(ATTEMPTS):
            try:
                return fetch()
            except DodoUnavailable as error:
                if attempt == ATTEMPTS - 1:
                    raise
                with _counting:
                    self.report.retries += 1
                delay = min(0.5 * 2**attempt, 30.0)
                log.info("dodo.sync.backoff", extra={"delay": delay, "reason": error.message})
                self.sleep(delay)
        raise AssertionError("unreachable")

    def save(self, session: Session) -> DodoIntegration:
        integration = get_integration(session, self.project_id)
        integration.sync_state = self.state.to_json()
        return integration

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Record a failed step in words and go on with the next; clear it when it works. A
        refused key fails every step alike: it ends the pass."""
        try:
            yield
        except DodoRejected:
            raise
        except (BanticoError, provider.Incomplete) as error:
            message = str(getattr(error, "message", error))
            self.state.errors[name] = self.report.errors[name] = message
            log.warning("dodo.sync.step_failed", extra={"step": name, "error": message})
        else:
            self.state.errors.pop(name, None)


def _commit(p: Pass, kind: Kind, items: list[dict[str, Any]], *, save: bool) -> Stored:
    with session_scope(p.factory) as session:
        stored = store_page(session, kind, p.project_id, p.mode, items)
        if save:
            p.save(session)
    p.report.pages += 1
    seen = p.seen.setdefault(kind, set())
    new = {str(i.get(ID_FIELD[kind])) for i in items} - seen
    seen |= new
    if kind == "payments":
        p.report.payments_seen += len(new)
        p.report.payments_stored += stored.stored
    elif kind == "refunds":
        p.report.refunds_seen += len(new)
    else:
        p.report.disputes_seen += len(new)
    p.notify(kind, len(new))
    return stored


def _list_new(p: Pass) -> None:
    """Step 3: what was created since each list was last read, up to the pass's start."""
    for kind in KINDS:
        with p.step(kind):
            last = p.state.listed_until.get(kind)
            if last is not None and last >= p.started:
                continue  # the backfill planned in this pass reaches up to now
            since = (last or p.started) - OVERLAP
            listing = Listing([Window(since, p.started)])
            list_windows(
                p.client,
                kind,
                listing,
                p.state,
                partial(_commit, p, kind, save=False),
                with_retries=p.with_retries,
            )
            p.state.listed_until[kind] = p.started


def _work_jobs(p: Pass) -> None:
    """Step 5: listing jobs, page by page; each page saved with the job's progress."""
    for job in list(p.state.jobs):
        for kind in KINDS:
            with p.step(kind):
                list_windows(
                    p.client,
                    kind,
                    job.listing(kind),
                    p.state,
                    partial(_commit, p, kind, save=True),
                    keep_going=p.keep_going,
                    with_retries=p.with_retries,
                )
        if job.done and job.name == "sweep":
            p.state.swept_at = job.until
    p.state.drop_done()


def _plan(p: Pass, integration: DodoIntegration, since: datetime | None) -> None:
    state = p.state
    if integration.backfill_from is not None:
        # History up to where listing new items takes over.
        until = min(state.listed_until.values(), default=p.started)
        state.add(Job.new("backfill", integration.backfill_from, until))
        for kind in KINDS:
            state.listed_until.setdefault(kind, until)
        state.details_done = 0
        integration.backfill_from = None
    if since is not None:
        state.add(Job.new("range", since, p.started))
    swept = state.swept_at or integration.connected_at
    if p.started - swept >= SWEEP_EVERY and state.job("sweep") is None:
        state.add(Job.new("sweep", p.started - timedelta(days=followups.WATCH_DAYS), p.started))


def _keep_endpoint(p: Pass, force: bool) -> None:
    """Step 2: the webhook endpoint, at most once per sync interval unless forced."""
    with session_scope(p.factory) as session:
        integration = get_integration(session, p.project_id)
        checked = integration.webhook_checked_at
        current = provider.Registration(
            integration.webhook_state,
            integration.webhook_reason,
            integration.webhook_endpoint_id,
            integration.webhook_url,
        )
    every = timedelta(seconds=max(p.settings.dodo_sync_interval_seconds, 60))
    if not force and checked is not None and p.started - checked < every:
        return
    with p.step("webhooks"):
        url = endpoint.webhook_url(p.settings, p.project_id)
        change = p.with_retries(lambda: endpoint.upkeep(p.client, url, current))
        with session_scope(p.factory) as session:
            integration = get_integration(session, p.project_id)
            integration.webhook_checked_at = utcnow()
            if change is not None:
                apply_registration(p.settings, integration, change)


def run_sync(
    factory: sessionmaker[Session],
    settings: Settings,
    project_id: str,
    *,
    since: datetime | None = None,
    budget: float | None = None,
    progress: Progress | None = None,
    sleep: Sleep = time.sleep,
    client: DodoClient | None = None,
    check_endpoint: bool = False,
) -> SyncReport:
    """One pass (see the module docstring). `since` adds a listing job for everything created
    since then; `budget` (seconds) bounds steps 5 and 6."""
    started = utcnow()
    with session_scope(factory) as session:
        integration = get_integration(session, project_id)
        mode, connected_at = integration.mode, integration.connected_at
        state = SyncState.from_json(integration.sync_state)
        own_client = client is None
        client = client or client_for(settings, integration, factory=factory, max_retries=0)
        p = Pass(
            factory=factory,
            settings=settings,
            project_id=project_id,
            mode=mode,
            client=client,
            state=state,
            report=SyncReport(since=since, until=started),
            started=started,
            deadline=None if budget is None else time.monotonic() + budget,
            sleep=sleep,
            notify=progress or (lambda _stage, _count: None),
        )
        _plan(p, integration, since)
        integration.sync_state = state.to_json()
    limiter_before = _limiter_stats(client)
    try:
        _steps(p, check_endpoint)
    except DodoRejected as error:
        with session_scope(factory) as session:
            integration = get_integration(session, project_id)
            error.message += (
                ": the API key was revoked, or cannot read; paste a new key in Settings, "
                "Integrations, Dodo Payments"
            )
            integration.last_sync_error = error.message
            integration.last_sync_at = utcnow()
        raise DodoRejected(error.message) from None
    finally:
        _add_limiter_stats(p.report, client, limiter_before)
        if own_client:
            client.close()
    return _finish(p, factory, connected_at)


def _steps(p: Pass, check_endpoint: bool) -> None:
    factory, client, project_id, mode = p.factory, p.client, p.project_id, p.mode
    with p.step("webhooks"):
        p.report.webhooks_completed = followups.complete_webhooks(
            factory, client, project_id, p.with_retries
        )
    _keep_endpoint(p, check_endpoint)
    _list_new(p)
    with p.step("watch"):
        p.report.rechecked = followups.watch(factory, client, project_id, mode, p.with_retries)
    _work_jobs(p)
    with p.step("details"):
        p.report.details_read = followups.read_details(
            factory, client, project_id, mode, p.with_retries, p.keep_going, _count_details(p)
        )


def _finish(p: Pass, factory: sessionmaker[Session], connected_at: datetime) -> SyncReport:
    project_id, mode = p.project_id, p.mode
    with session_scope(factory) as session:
        integration = get_integration(session, project_id)
        if integration.mode != mode or integration.connected_at != connected_at:
            return p.report  # reconnected meanwhile: this pass says nothing about the new key
        pending = followups.pending_details(session, project_id, mode, 1)
        p.report.more = bool(p.state.jobs) or bool(pending)
        integration.sync_state = p.state.to_json()
        integration.last_sync_at = utcnow()
        integration.last_sync_error = "; ".join(f"{k}: {v}" for k, v in p.state.errors.items())
        integration.last_sync_error = integration.last_sync_error or None
        listed = [p.state.listed_until.get(k) for k in KINDS]
        if all(listed):
            integration.synced_until = min(t for t in listed if t is not None)
    log.info("dodo.sync.done", extra=p.report.as_dict())
    return p.report


def _count_details(p: Pass) -> Callable[[int], None]:
    def done(count: int) -> None:
        p.state.details_done += count
        p.notify("details", count)

    return done


def _limiter_stats(client: DodoClient) -> tuple[int, int, float]:
    stats = client.limiter.stats if client.limiter else None
    return (stats.requests, stats.throttled, stats.waited) if stats else (0, 0, 0.0)


def _add_limiter_stats(
    report: SyncReport, client: DodoClient, before: tuple[int, int, float]
) -> None:
    now = _limiter_stats(client)
    report.requests = now[0] - before[0]
    report.throttled = now[1] - before[1]
    report.waited_seconds = now[2] - before[2]
