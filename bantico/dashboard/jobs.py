"""Background work started from the dashboard, with its progress in the database.

"Sync now" runs the Dodo sync in a daemon thread of the process that got the click; the job
row (`dashboard_jobs`) records its state and counts, so the status partial can be polled
through any app process. The sync takes the same database lease as the periodic reconciler,
so the two never page through Dodo at once: the job waits for the lease first.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bantico.config import Settings
from bantico.dashboard.models import DashboardJob
from bantico.db import session_scope, utcnow
from bantico.integrations.dodo.scheduler import run_pass
from bantico.kit.errors import BanticoError
from bantico.kit.ids import new_id

log = logging.getLogger("bantico.dashboard")

DODO_SYNC = "dodo_sync"
STALE_AFTER = timedelta(minutes=10)  # no heartbeat for this long: the process died
LEASE_WAIT_SECONDS = 5 * 60
ACTIVE = ("waiting", "running")


def latest_job(session: Session, project_id: str, kind: str) -> DashboardJob | None:
    return session.execute(
        select(DashboardJob)
        .where(DashboardJob.project_id == project_id, DashboardJob.kind == kind)
        .order_by(DashboardJob.started_at.desc(), DashboardJob.id.desc())
        .limit(1)
    ).scalar()


def is_active(job: DashboardJob | None) -> bool:
    return job is not None and job.state in ACTIVE and utcnow() - job.updated_at < STALE_AFTER


def is_abandoned(job: DashboardJob | None) -> bool:
    return job is not None and job.state in ACTIVE and not is_active(job)


def create_job(session: Session, project_id: str, kind: str) -> tuple[DashboardJob, bool]:
    """The project's running job of this kind, or a new waiting one (True when new).
    Commit before `launch`ing it, so that the thread sees it."""
    job = latest_job(session, project_id, kind)
    if job is not None and is_active(job):
        return job, False
    now = utcnow()
    job = DashboardJob(
        id=new_id("job", 12),
        project_id=project_id,
        kind=kind,
        state="waiting",
        progress={},
        started_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job, True


def _update(factory: sessionmaker[Session], job_id: str, **values: Any) -> None:
    with session_scope(factory) as session:
        job = session.get(DashboardJob, job_id)
        if job is not None:
            for name, value in values.items():
                setattr(job, name, value)
            job.updated_at = utcnow()
            if values.get("state") in ("done", "failed"):
                job.finished_at = job.updated_at


def launch_dodo_sync(factory: sessionmaker[Session], settings: Settings, job: DashboardJob) -> None:
    thread = threading.Thread(
        target=run_dodo_sync_job,
        args=(factory, settings, job.project_id, job.id),
        name=f"dashboard-{job.id}",
        daemon=True,
    )
    thread.start()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _summary(counts: dict[str, int]) -> str:
    return (
        f"Checked {_count(counts['paymentsSeen'], 'payment')} "
        f"({counts['paymentsStored']} new), {_count(counts['refundsSeen'], 'refund')} "
        f"and {_count(counts['disputesSeen'], 'dispute')}."
    )


def run_dodo_sync_job(
    factory: sessionmaker[Session], settings: Settings, project_id: str, job_id: str
) -> None:
    """Wait for the project's sync lease, run one pass, and record progress on the job."""
    try:
        counts: dict[str, int] = {}

        def progress(stage: str, count: int) -> None:
            counts[stage] = counts.get(stage, 0) + count
            _update(factory, job_id, state="running", stage=stage, progress=dict(counts))

        report = run_pass(
            factory,
            settings,
            project_id,
            f"dashboard:{job_id}",
            wait=LEASE_WAIT_SECONDS,
            on_wait=lambda: _update(factory, job_id, stage="waiting"),  # heartbeat meanwhile
            progress=progress,
        )
        if report is None:
            raise BanticoError("another sync kept running for too long; try again later")
        result = {k: v for k, v in report.as_dict().items() if isinstance(v, int)}
        message = _summary(result)
        if report.errors:
            message += " Dodo did not answer everything: " + "; ".join(
                f"{k}: {v}" for k, v in report.errors.items()
            )
        elif report.more:
            message += " The rest of the history continues in the background."
        _update(factory, job_id, state="done", stage=None, progress=result, message=message)
    except BanticoError as error:
        _update(factory, job_id, state="failed", message=error.message)
    except Exception as error:
        log.exception("dashboard.sync.failed", extra={"project": project_id})
        _update(factory, job_id, state="failed", message=f"The sync stopped: {error}")
