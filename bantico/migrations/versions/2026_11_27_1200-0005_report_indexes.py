"""report indexes

Covering indexes on events for the reports (see benchmarks/bench_reports.py and
docs/benchmarks.md). The (project_id, name, occurred_at) index becomes the first of them, which
starts with the same columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_project_id_name_occurred_at"))
        batch_op.create_index(
            "ix_events_report_name_time",
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
            "ix_events_report_name_visitor",
            ["project_id", "name", "visitor_id", "occurred_at", "is_bot", "link_id", "campaign_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_events_report_time",
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


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_report_time")
        batch_op.drop_index("ix_events_report_name_visitor")
        batch_op.drop_index("ix_events_report_name_time")
        batch_op.create_index(
            batch_op.f("ix_events_project_id_name_occurred_at"),
            ["project_id", "name", "occurred_at"],
            unique=False,
        )
