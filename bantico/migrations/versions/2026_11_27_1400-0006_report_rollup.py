"""report rollup

The rollups the reports read (`visitor_days`, `traffic_days` and `funnel_clicks`, see
bantico/reports/models.py) and their bookkeeping. They start empty: each server process's
rollup worker fills them from the existing events in batches, and until then the reports read
those events directly. The events index over every column by time goes (the rollups answer what
it served); the by-name index loses the visitor id (see `Event.__table_args__`); (project_id,
visitor_id, occurred_at) was used by no query.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_progress",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_progress")),
    )
    op.create_table(
        "funnel_clicks",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("clicked_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("prev_clicked_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_prev_clicked_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("campaign_prev_clicked_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("page_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pricing_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signup_started_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signup_completed_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_page_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_pricing_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_signup_started_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_signup_completed_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("campaign_page_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("campaign_pricing_view_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "campaign_signup_started_at", bantico.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "campaign_signup_completed_at", bantico.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_funnel_clicks_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "clicked_at", "event_id", name=op.f("pk_funnel_clicks")
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("funnel_clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_funnel_clicks_project_id_visitor_id"),
            ["project_id", "visitor_id"],
            unique=False,
        )

    op.create_table(
        "rollup_visitors",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_rollup_visitors_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "visitor_id", name=op.f("pk_rollup_visitors")),
    )
    op.create_table(
        "traffic_days",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("dimension", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("prev", sa.Date(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("signups", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_traffic_days_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "dimension", "day", "value", "prev", name=op.f("pk_traffic_days")
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("traffic_days", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_traffic_days_project_id_dimension_value_day"),
            ["project_id", "dimension", "value", "day"],
            unique=False,
        )

    op.create_table(
        "visitor_days",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("medium", sa.String(length=200), nullable=False),
        sa.Column("content", sa.String(length=200), nullable=False),
        sa.Column("lead_id", sa.String(length=200), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("signups", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("prev_any", sa.Date(), nullable=True),
        sa.Column("prev_link_id", sa.Date(), nullable=True),
        sa.Column("prev_campaign_id", sa.Date(), nullable=True),
        sa.Column("prev_source", sa.Date(), nullable=True),
        sa.Column("prev_medium", sa.Date(), nullable=True),
        sa.Column("prev_content", sa.Date(), nullable=True),
        sa.Column("prev_lead_id", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_visitor_days_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id",
            "visitor_id",
            "day",
            "link_id",
            "campaign_id",
            "source",
            "medium",
            "content",
            "lead_id",
            name=op.f("pk_visitor_days"),
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_project_id_visitor_id_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_report_time"))
        batch_op.drop_index(batch_op.f("ix_events_report_name_time"))
        batch_op.create_index(
            "ix_events_report_name_time",
            [
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
            ],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_project_id_occurred_at"),
            ["project_id", "occurred_at"],
            unique=False,
        )

    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attributions_project_id_visitor_id"),
            ["project_id", "visitor_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attributions_project_id_visitor_id"))

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_project_id_occurred_at"))
        batch_op.drop_index("ix_events_report_name_time")
        batch_op.create_index(
            batch_op.f("ix_events_report_name_time"),
            [
                "project_id",
                "name",
                "occurred_at",
                "is_bot",
                "visitor_id",
                "link_id",
                "campaign_id",
                "source",
                "medium",
                "content",
                "lead_id",
            ],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_report_time"),
            [
                "project_id",
                "occurred_at",
                "is_bot",
                "visitor_id",
                "name",
                "link_id",
                "campaign_id",
                "source",
                "medium",
                "content",
                "lead_id",
            ],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_project_id_visitor_id_occurred_at"),
            ["project_id", "visitor_id", "occurred_at"],
            unique=False,
        )

    op.drop_table("visitor_days")
    with op.batch_alter_table("traffic_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_days_project_id_dimension_value_day"))

    op.drop_table("traffic_days")
    op.drop_table("rollup_visitors")
    with op.batch_alter_table("funnel_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funnel_clicks_project_id_visitor_id"))

    op.drop_table("funnel_clicks")
    op.drop_table("rollup_progress")
