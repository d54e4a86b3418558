"""Counting ids that named another project's rows where this project's were expected (an event's
context, a payment's metadata). They are ignored, never joined; the troubleshooting checklist
shows the counts (`diagnostics.checks.foreign_ids`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.db import upsert, utcnow
from bantico.tracking.models import ForeignId


def count_foreign(session: Session, project_id: str, field: str, value: str) -> None:
    now = utcnow()
    last = {"last_value": value[:200], "last_seen_at": now}
    session.execute(
        upsert(
            session,
            ForeignId,
            keys=["project_id", "field"],
            values={"project_id": project_id, "field": field, "count": 1, **last},
            update={"count": ForeignId.count + 1, **last},
        )
    )
