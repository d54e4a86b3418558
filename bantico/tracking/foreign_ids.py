"""Counting ids that named another project's rows where this project's were expected (an event's
context, a payment's metadata). They are ignored, never joined; the troubleshooting checklist
shows the counts (`diagnostics.checks.foreign_ids`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.db import dialect_insert, utcnow
from bantico.tracking.models import ForeignId


def count_foreign(session: Session, project_id: str, field: str, value: str) -> None:
    now = utcnow()
    session.execute(
        dialect_insert(session, ForeignId)
        .values(
            project_id=project_id, field=field, count=1, last_value=value[:200], last_seen_at=now
        )
        .on_conflict_do_update(
            index_elements=["project_id", "field"],
            set_={
                "count": ForeignId.count + 1,
                "last_value": value[:200],
                "last_seen_at": now,
            },
        )
    )
