"""Who runs the passes: the periodic reconciler in each server process, and `run_pass` for the
API, the dashboard and the CLI.

A lease in the database lets one process at a time work on a project, so several app processes
behind a load balancer do not page through Dodo in parallel. Passes are bounded in time (a long
backfill is many passes), so a "Sync now" or a webhook completion never waits behind a backfill
for long, and the reconciler follows a backlog without waiting its interval between passes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.db import session_scope
from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync import Progress, SyncReport, run_sync
from bantico.kit.leases import acquire, release

log = logging.getLogger("bantico.dodo")
PASS_BUDGET = 60.0  # seconds of listing and detail reads in one pass
LEASE_TTL = timedelta(minutes=15)  # renewed at every page; outlives a pass stuck on Dodo


def lease_name(project_id: str) -> str:
    return f"dodo-sync:{project_id}"


def new_holder(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_pass(
    factory: sessionmaker[Session],
    settings: Settings,
    project_id: str,
    holder: str,
    *,
    wait: float = 0.0,
    on_wait: Callable[[], None] | None = None,
    budget: float | None = PASS_BUDGET,
    progress: Progress | None = None,
    since: datetime | None = None,
    check_endpoint: bool = False,
) -> SyncReport | None:
    """Take the project's lease (waiting up to `wait` seconds), run one pass, release it.
    None when another process kept the lease."""
    name = lease_name(project_id)
    deadline = time.monotonic() + wait
    while True:
        with session_scope(factory) as session:
            if acquire(session, name, holder, LEASE_TTL):
                break
        if time.monotonic() >= deadline:
            return None
        if on_wait is not None:
            on_wait()
        time.sleep(1.0)

    def renewing(stage: str, count: int) -> None:
        with session_scope(factory) as session:
            acquire(session, name, holder, LEASE_TTL)
        if progress is not None:
            progress(stage, count)

    try:
        return run_sync(
            factory,
            settings,
            project_id,
            budget=budget,
            progress=renewing,
            since=since,
            check_endpoint=check_endpoint,
        )
    finally:
        with session_scope(factory) as session:
            release(session, name, holder)


class Reconciler:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self.interval = settings.dodo_sync_interval_seconds
        self.holder = new_holder("reconciler")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._endpoints_checked = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dodo-reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        """Run a pass now (after a connect, or a webhook that needs an object read)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            more = False
            try:
                more = self.run_once()
            except Exception:
                log.exception("dodo.reconcile.failed")
            if more and not self._stop.is_set():
                continue  # a backfill in progress: follow it without waiting
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_once(self) -> bool:
        """One pass over every connected project; True when one has work left and no error."""
        with session_scope(self.factory) as session:
            project_ids = list(session.execute(select(DodoIntegration.project_id)).scalars())
        more = False
        # The first pass of a process brings every endpoint up to date (events, public URL).
        check = not self._endpoints_checked
        for project_id in project_ids:
            try:
                report = run_pass(
                    self.factory, self.settings, project_id, self.holder, check_endpoint=check
                )
            except Exception as error:
                log.warning(
                    "dodo.reconcile.project_failed",
                    extra={"project": project_id, "error": str(error)},
                )
                continue
            if report is not None:
                more = more or (report.more and not report.errors)
            if self._stop.is_set():
                break
        self._endpoints_checked = True
        return more
