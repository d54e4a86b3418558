"""Background work started from the dashboard (e.g. "Sync now"), with progress every app
process can read, so the status partial can be polled through any process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, utcnow


class DashboardJob(Base):
    __tablename__ = "dashboard_jobs"
    __table_args__ = (Index(None, "project_id", "kind", "started_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "dodo_sync"
    state: Mapped[str] = mapped_column(String(12))  # waiting | running | done | failed
    stage: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
