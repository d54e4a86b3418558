"""foreign ids

`foreign_ids`: per project and field, how often an id from another project was
sent where this project's was expected, ignored rather than joined (bantico/tracking/service.py
`own_context`), for the troubleshooting checklist.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "foreign_ids",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.String(length=200), nullable=False),
        sa.Column("last_seen_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_foreign_ids_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "field", name=op.f("pk_foreign_ids")),
    )


def downgrade() -> None:
    op.drop_table("foreign_ids")
