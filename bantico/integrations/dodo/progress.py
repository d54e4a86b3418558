"""How far polling has come, in numbers and in words, for the API, the dashboard and the CLI."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bantico.config import Settings
from bantico.integrations.dodo.models import DodoIntegration
from bantico.integrations.dodo.sync_state import SyncState
from bantico.integrations.rate_limit import bucket_state
from bantico.payments.models import Payment


def duration_words(seconds: float) -> str:
    if seconds < 60:
        return "less than a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {minutes / 60:.1f} h"


def _pending_details(session: Session, integration: DodoIntegration) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Payment)
            .where(
                Payment.project_id == integration.project_id,
                Payment.provider == "dodo",
                Payment.mode == integration.mode,
                Payment.details_pending.is_(True),
            )
        ).scalar_one()
    )


def backfill(
    session: Session, settings: Settings, integration: DodoIntegration, state: SyncState
) -> dict[str, Any]:
    """Listing first (a hundred objects a request), then one read per payment that counts as
    revenue; the time left is what those requests take at the configured rate."""
    job = state.job("backfill")
    pending = _pending_details(session, integration)
    windows = sum(len(listing.windows) for j in state.jobs for listing in j.lists.values())
    requests_left = pending + windows
    eta = requests_left * 60.0 / settings.dodo_rate_per_minute
    if integration.backfill_from is not None:
        phase = "starting"
    elif job is not None:
        phase = "listing"
    elif pending:
        phase = "reading payments"
    else:
        phase = "done"
    total = state.details_done + pending
    found = {k: listing.listed for k, listing in job.lists.items()} if job else {}
    words = {
        "starting": "starts on the next pass",
        "listing": f"listing history ({', '.join(f'{n} {k}' for k, n in found.items())} so far)",
        "reading payments": f"read {state.details_done} of {total} payments in full",
        "done": "complete",
    }[phase]
    if phase != "done" and phase != "starting":
        words += (
            f"; {duration_words(eta)} left at {settings.dodo_rate_per_minute} requests a minute"
        )
    return {
        "phase": phase,
        "done": state.details_done,
        "total": total,
        "found": found,
        "windowsLeft": windows,
        "etaSeconds": round(eta),
        "words": words,
    }


def sync_status(
    session: Session, settings: Settings, integration: DodoIntegration, bucket: str | None
) -> dict[str, Any]:
    state = SyncState.from_json(integration.sync_state)
    progress = backfill(session, settings, integration, state)
    return {
        "lastSyncAt": integration.last_sync_at,
        "lastError": integration.last_sync_error,
        "errors": dict(state.errors),
        "syncedUntil": integration.synced_until,
        "sweptAt": state.swept_at,
        "backfillPending": progress["phase"] != "done",
        "backfill": progress,
        "jobs": [
            {
                "name": job.name,
                "since": job.since,
                "until": job.until,
                "windowsLeft": sum(len(listing.windows) for listing in job.lists.values()),
            }
            for job in state.jobs
        ],
        "pageCap": state.page_cap,
        "rate": {
            "perMinute": settings.dodo_rate_per_minute,
            "burst": settings.dodo_rate_burst,
            **((bucket_state(session, bucket) if bucket else None) or {}),
        },
    }
