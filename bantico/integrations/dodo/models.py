from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, utcnow


class DodoIntegration(Base):
    """A project's connection to its Dodo Payments account. Secrets are stored encrypted."""

    __tablename__ = "dodo_integrations"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(8))
    api_key_encrypted: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(8))
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    webhook_state: Mapped[str] = mapped_column(String(20))
    webhook_reason: Mapped[str | None] = mapped_column(Text)
    webhook_endpoint_id: Mapped[str | None] = mapped_column(String(64))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    last_webhook_at: Mapped[datetime | None]
    last_webhook_failure_at: Mapped[datetime | None]
    webhook_failures: Mapped[int] = mapped_column(default=0)
    backfill_from: Mapped[datetime | None]
    synced_until: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    # The polling state that must survive restarts: listing jobs (backfill, sweep, ranges asked
    # for) with their windows and pages, the learned page cap, errors per list. See sync_state.py.
    sync_state: Mapped[dict[str, Any] | None]
    webhook_checked_at: Mapped[datetime | None]


class WebhookMessage(Base):
    """The webhook inbox: every verified delivery, stored once by its `webhook-id`, handled once."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("provider", "project_id", "webhook_id"),
        Index(None, "project_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliveries: Mapped[int] = mapped_column(default=1)
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    # "payment:pay_…" when the payload lacked what Bantico needs: acknowledged, and completed by
    # reading that object from Dodo's API outside the request.
    pending_fetch: Mapped[str | None] = mapped_column(String(100))
