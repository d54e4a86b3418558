"""The daily traffic rollups the reports read instead of scanning every event of a range.

`visitor_days` holds one row per (project, visitor, UTC day, context) with that day's counts,
and, for each context column, the previous day on which the same visitor had a row with the
same value (`prev_*`, in the order of the rows' keys, so that a second row of the same visitor
and value on the same day points at that day; `prev_any` the same for any context). A visitor
counts once for a value over the days [d1, d2] exactly on their first row in that run: the
one whose previous day is before d1, or absent. That turns "distinct visitors over a range"
into a plain sum, which `traffic_days` keeps ready: per (project, dimension, day, value,
previous day) the number of such visitor rows, with their clicks and signups. The reports sum
it over a range's whole days, counting visitors only where `prev < d1`; a year of a busy
project is a few hundred thousand rows per dimension instead of millions of events.

Clicks are kept on the visitor '' rows: unique visitors are the visitors the site itself saw
(page views, signups, custom events), not the redirect, whose click the loader ties to the
visitor only afterwards. Absent context values are '' (a primary key cannot hold NULL), an
absent previous day is `NEVER`, and the visitor '' rows point at their own day (never a new
visitor). Bot traffic is not rolled up: no report counts it.

`bantico.reports.rollup.catch_up` fills both from the events after `rollup_progress`'s
`last_event_id`, in the background; `bantico.reports.traffic` adds the events not rolled up yet
and the partial days at a range's ends from `events` itself, so reports are always exact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bantico.db import Base
from bantico.kit.schemas import CONTEXT_FIELDS

NONE = ""  # an absent visitor or context value
NEVER = date(1, 1, 1)  # an absent previous day in `traffic_days`
CONTEXT_COLUMNS = CONTEXT_FIELDS  # the six context columns, in the order events carry them
ANY = "any"  # the dimension of `traffic_days` that counts every visitor, whatever the context
# The funnel's steps as events, in order (its last step, a payment, is not an event).
FUNNEL_EVENTS = ("link_clicked", "page_view", "pricing_view", "signup_started", "signup_completed")


class VisitorDay(Base):
    __tablename__ = "visitor_days"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    link_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    medium: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[str] = mapped_column(String(200), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    clicks: Mapped[int] = mapped_column(default=0)
    signups: Mapped[int] = mapped_column(default=0)
    events: Mapped[int] = mapped_column(default=0)
    prev_any: Mapped[date | None]
    prev_link_id: Mapped[date | None]
    prev_campaign_id: Mapped[date | None]
    prev_source: Mapped[date | None]
    prev_medium: Mapped[date | None]
    prev_content: Mapped[date | None]
    prev_lead_id: Mapped[date | None]

    # Stored in key order on SQLite (no rowid): a visitor's days are one contiguous read.
    __table_args__ = ({"sqlite_with_rowid": False},)


class TrafficDay(Base):
    __tablename__ = "traffic_days"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(12), primary_key=True)  # link_id, …, any
    day: Mapped[date] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    prev: Mapped[date] = mapped_column(primary_key=True)
    visitors: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)
    signups: Mapped[int] = mapped_column(default=0)

    # The key serves a dimension over a range of days; the index one value of it (a time
    # series for one link or campaign).
    __table_args__ = (
        Index(None, "project_id", "dimension", "value", "day"),
        {"sqlite_with_rowid": False},
    )


class RollupProgress(Base):
    """How far a rollup has read `events` (by id)."""

    __tablename__ = "rollup_progress"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class FunnelClick(Base):
    """Each human click a visitor is known for, with how far they went from it: for each later
    funnel step, the time of their first such event at or after the previous step's, over
    every event of the visitor (`*_at`), over those with the click's link (`link_*_at`), and
    over those with the click's campaign (`campaign_*_at`). A funnel over [since, until) then
    takes each visitor's first click in the range and counts the steps reached before `until`
    (bantico/reports/funnel.py): one read of the range's clicks, with no search through the
    events and no grouping."""

    __tablename__ = "funnel_clicks"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    clicked_at: Mapped[datetime] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    # The visitor's previous click (in time, then id order): any, with the same link, with the
    # same campaign. A click is the visitor's first in [since, until) when it is in the range
    # and the previous one is not.
    prev_clicked_at: Mapped[datetime | None]
    link_prev_clicked_at: Mapped[datetime | None]
    campaign_prev_clicked_at: Mapped[datetime | None]
    page_view_at: Mapped[datetime | None]
    pricing_view_at: Mapped[datetime | None]
    signup_started_at: Mapped[datetime | None]
    signup_completed_at: Mapped[datetime | None]
    link_page_view_at: Mapped[datetime | None]
    link_pricing_view_at: Mapped[datetime | None]
    link_signup_started_at: Mapped[datetime | None]
    link_signup_completed_at: Mapped[datetime | None]
    campaign_page_view_at: Mapped[datetime | None]
    campaign_pricing_view_at: Mapped[datetime | None]
    campaign_signup_started_at: Mapped[datetime | None]
    campaign_signup_completed_at: Mapped[datetime | None]

    # Stored in time order on SQLite (no rowid): a range of clicks is one contiguous read.
    __table_args__ = (
        Index(None, "project_id", "visitor_id"),
        {"sqlite_with_rowid": False},
    )


class RollupVisitor(Base):
    """A visitor whose rolled-up funnel must be recomputed although no new event of theirs
    arrived: the loader tied an already rolled-up click to them."""

    __tablename__ = "rollup_visitors"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
