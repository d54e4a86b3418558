"""dodo payments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:00:28.824598
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("provider_dispute_id", sa.String(length=64), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("lost", sa.Boolean(), nullable=False),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_disputes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint(
            "project_id",
            "provider",
            "provider_dispute_id",
            name=op.f("uq_disputes_project_id_provider_provider_dispute_id"),
        ),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disputes_project_id_provider_payment_id"),
            ["project_id", "provider_payment_id"],
            unique=False,
        )

    op.create_table(
        "dodo_integrations",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("key_hint", sa.String(length=8), nullable=False),
        sa.Column("connected_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("webhook_state", sa.String(length=20), nullable=False),
        sa.Column("webhook_reason", sa.Text(), nullable=True),
        sa.Column("webhook_endpoint_id", sa.String(length=64), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("last_webhook_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_webhook_failure_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("webhook_failures", sa.Integer(), nullable=False),
        sa.Column("backfill_from", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("synced_until", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_dodo_integrations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_dodo_integrations")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settlement_amount", sa.BigInteger(), nullable=True),
        sa.Column("settlement_currency", sa.String(length=3), nullable=True),
        sa.Column("tax", sa.BigInteger(), nullable=True),
        sa.Column("settlement_tax", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("subscription_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_session_id", sa.String(length=64), nullable=True),
        sa.Column("charge_type", sa.String(length=20), nullable=True),
        sa.Column("is_update_payment_method", sa.Boolean(), nullable=False),
        sa.Column("counts_as_revenue", sa.Boolean(), nullable=False),
        sa.Column("excluded_reason", sa.String(length=100), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_via", sa.String(length=10), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_payments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "project_id",
            "provider",
            "provider_payment_id",
            name=op.f("uq_payments_project_id_provider_provider_payment_id"),
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_project_id_customer_id"),
            ["project_id", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_project_id_mode_created_at"),
            ["project_id", "mode", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_project_id_subscription_id"),
            ["project_id", "subscription_id"],
            unique=False,
        )

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=64), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("is_partial", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_refunds_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint(
            "project_id",
            "provider",
            "provider_refund_id",
            name=op.f("uq_refunds_project_id_provider_provider_refund_id"),
        ),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refunds_project_id_provider_payment_id"),
            ["project_id", "provider_payment_id"],
            unique=False,
        )

    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("handled_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_webhook_inbox_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_inbox")),
        sa.UniqueConstraint(
            "provider",
            "project_id",
            "webhook_id",
            name=op.f("uq_webhook_inbox_provider_project_id_webhook_id"),
        ),
    )
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_inbox_project_id_received_at"),
            ["project_id", "received_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_inbox_project_id_received_at"))

    op.drop_table("webhook_inbox")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_project_id_provider_payment_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_project_id_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_payments_project_id_mode_created_at"))
        batch_op.drop_index(batch_op.f("ix_payments_project_id_customer_id"))

    op.drop_table("payments")
    op.drop_table("dodo_integrations")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_project_id_provider_payment_id"))

    op.drop_table("disputes")
    op.drop_table("leases")
