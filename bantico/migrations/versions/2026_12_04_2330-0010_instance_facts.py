"""instance facts

`instance_facts`: what an installation keeps about itself for every process and command, such
as the address `bantico serve` last listened on (bantico/kit/instance.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_facts",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_facts")),
    )


def downgrade() -> None:
    op.drop_table("instance_facts")
