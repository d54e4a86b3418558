"""Failed webhook signatures, counted in memory: anyone can post junk to the public endpoint, so
a failure must not cost a database write. The count reaches the database at most once a minute
per project and process, where the status and the diagnostics of every process read it."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy.orm import Session

from bantico.db import utcnow
from bantico.integrations.dodo.models import DodoIntegration

FLUSH_EVERY = 60.0
_lock = threading.Lock()
_unwritten: dict[str, tuple[int, datetime]] = {}  # project → (failures not written, the last)
_written_at: dict[str, float] = {}


def count(session: Session, integration: DodoIntegration) -> None:
    """One more failure; written with the request's transaction when a minute has passed."""
    project_id, now = integration.project_id, utcnow()
    with _lock:
        failures, _ = _unwritten.get(project_id, (0, now))
        _unwritten[project_id] = (failures + 1, now)
        if time.monotonic() - _written_at.get(project_id, -FLUSH_EVERY) < FLUSH_EVERY:
            return
        _written_at[project_id] = time.monotonic()
        failures, last = _unwritten.pop(project_id)
    integration.webhook_failures += failures
    integration.last_webhook_failure_at = last


def unwritten(project_id: str) -> tuple[int, datetime | None]:
    """This process's failures not written yet, and when the last one was."""
    with _lock:
        failures, last = _unwritten.get(project_id, (0, None))
    return failures, last
