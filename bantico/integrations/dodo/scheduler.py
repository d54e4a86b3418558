"""The periodic reconciliation pass, run in a background thread of each server process.

A lease in the database makes one process at a time do the work for a project, so several app
processes behind a load balancer do not page through Dodo in parallel.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.db import session_scope
from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync import run_sync
from bantico.leases import acquire, release

log = logging.getLogger("bantico.dodo")


class Reconciler:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self.interval = settings.dodo_sync_interval_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dodo-reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        """Run a pass now (e.g. right after a connect, to start the backfill)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("dodo.reconcile.failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_once(self) -> int:
        """One pass over every connected project; returns how many this process synced."""
        with session_scope(self.factory) as session:
            project_ids = list(session.execute(select(DodoIntegration.project_id)).scalars())
        done = 0
        lease_time = timedelta(seconds=max(self.interval * 2, 900))
        for project_id in project_ids:
            name = f"dodo-sync:{project_id}"
            with session_scope(self.factory) as session:
                if not acquire(session, name, self.holder, lease_time):
                    continue
            try:
                run_sync(self.factory, self.settings, project_id)
                done += 1
            except Exception as error:
                log.warning(
                    "dodo.reconcile.project_failed",
                    extra={"project": project_id, "error": str(error)},
                )
            finally:
                with session_scope(self.factory) as session:
                    release(session, name, self.holder)
            if self._stop.is_set():
                break
        return done
