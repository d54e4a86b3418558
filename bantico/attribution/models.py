from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, utcnow


class Attribution(Base):
    """How one payment was attributed: the method, the resolved context, and every run's trace."""

    __tablename__ = "attributions"
    __table_args__ = (
        Index(None, "project_id", "method"),
        Index(None, "project_id", "customer_email_key"),
        Index(None, "project_id", "metadata_link_id"),
        Index(None, "project_id", "metadata_lead_id"),
        Index(None, "project_id", "visitor_id"),  # the funnel's last step: did they pay?
    )

    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    confidence: Mapped[float] = mapped_column(Float)
    link_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    medium: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(String(200))
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    customer_email_key: Mapped[str | None] = mapped_column(String(320))
    metadata_link_id: Mapped[str | None] = mapped_column(String(200))
    metadata_lead_id: Mapped[str | None] = mapped_column(String(200))
    metadata_campaign_id: Mapped[str | None] = mapped_column(String(200))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    resolved_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credit(Base):
    """A payment's share of credit under one model; every payment's weights sum to 1 per model.
    Unattributed payments get one credit with no context, which reports show as its own row."""

    __tablename__ = "attribution_credits"
    __table_args__ = (Index(None, "project_id", "model", "payment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(12))
    weight: Mapped[float] = mapped_column(Float)
    link_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    medium: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(String(200))
