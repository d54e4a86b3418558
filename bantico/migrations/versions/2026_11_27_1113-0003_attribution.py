"""attribution

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:13:49.208360
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attribution_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=12), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_attribution_credits_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_attribution_credits_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attribution_credits")),
    )
    with op.batch_alter_table("attribution_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attribution_credits_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attribution_credits_project_id_model_payment_id"),
            ["project_id", "model", "payment_id"],
            unique=False,
        )

    op.create_table(
        "attributions",
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column("customer_email_key", sa.String(length=320), nullable=True),
        sa.Column("metadata_link_id", sa.String(length=200), nullable=True),
        sa.Column("metadata_lead_id", sa.String(length=200), nullable=True),
        sa.Column("metadata_campaign_id", sa.String(length=200), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.Column("resolved_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_attributions_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_attributions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_attributions")),
    )
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attributions_project_id_customer_email_key"),
            ["project_id", "customer_email_key"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_attributions_project_id_metadata_lead_id"),
            ["project_id", "metadata_lead_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_attributions_project_id_metadata_link_id"),
            ["project_id", "metadata_link_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_attributions_project_id_method"), ["project_id", "method"], unique=False
        )

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refunded_amount", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("disputed_amount", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("refunded_settlement", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("refunded_settlement")
        batch_op.drop_column("disputed_amount")
        batch_op.drop_column("refunded_amount")

    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attributions_project_id_method"))
        batch_op.drop_index(batch_op.f("ix_attributions_project_id_metadata_link_id"))
        batch_op.drop_index(batch_op.f("ix_attributions_project_id_metadata_lead_id"))
        batch_op.drop_index(batch_op.f("ix_attributions_project_id_customer_email_key"))

    op.drop_table("attributions")
    with op.batch_alter_table("attribution_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attribution_credits_project_id_model_payment_id"))
        batch_op.drop_index(batch_op.f("ix_attribution_credits_payment_id"))

    op.drop_table("attribution_credits")
