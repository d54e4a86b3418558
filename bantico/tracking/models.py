from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base, BigIntPK, utcnow


class Visitor(Base):
    """A browser, known by the id the loader keeps in its first-party cookie."""

    __tablename__ = "visitors"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))


class VisitSession(Base):
    """A visit: events from one visitor with no gap longer than 30 minutes."""

    __tablename__ = "sessions"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    landing_url: Mapped[str | None] = mapped_column(String(2048))
    referrer: Mapped[str | None] = mapped_column(String(2048))

    __table_args__ = (Index(None, "project_id", "visitor_id"),)


class Touch(Base):
    """A moment a visitor picked up attribution context: a tracked-link click, a UTM landing,
    or a referral from another site."""

    __tablename__ = "touches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    click_id: Mapped[str | None] = mapped_column(String(40))
    link_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    medium: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index(None, "project_id", "visitor_id", "occurred_at"),
        Index(None, "click_id"),
    )


class Event(Base):
    """Everything that happened: clicks, page views, signups, custom events."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))
    click_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    link_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    medium: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2048))
    referrer: Mapped[str | None] = mapped_column(String(2048))
    is_bot: Mapped[bool] = mapped_column(default=False)
    props: Mapped[dict[str, Any] | None]

    # Reports read traffic from the daily rollup (bantico/reports/models.py) and only the
    # events it has not reached, or the partial days at a range's ends, from here: by time
    # (project_id, occurred_at). The funnel reads events by name: those of one name in a range
    # (its first step), and a visitor's first event of a name after a moment (each later step).
    # The visitor id is deliberately left out of the first of those two indexes: SQLite keeps no
    # statistics, and with it both looked as good for the per-visitor probe (it picked the
    # wrong one depending on the order they were created in: 84 s instead of 0.3 s).
    __table_args__ = (
        Index(
            "ix_events_report_name_time",
            "project_id",
            "name",
            "occurred_at",
            "is_bot",
            "link_id",
            "campaign_id",
            "source",
            "medium",
            "content",
            "lead_id",
        ),
        Index(
            "ix_events_report_name_visitor",
            "project_id",
            "name",
            "visitor_id",
            "occurred_at",
            "is_bot",
            "link_id",
            "campaign_id",
        ),
        Index(None, "project_id", "occurred_at"),
        Index(None, "link_id", "name"),
    )


class Identity(Base):
    """Each `identify()` call: who a visitor said they were, and when."""

    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    traits: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForeignId(Base):
    """Ids that named another project's rows where this project's were expected,
    ignored rather than joined; counted here for the troubleshooting checklist."""

    __tablename__ = "foreign_ids"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_value: Mapped[str] = mapped_column(String(200))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
