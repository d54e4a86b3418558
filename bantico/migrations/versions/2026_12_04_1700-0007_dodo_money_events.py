"""dodo money events

Revenue rules for every dispute outcome, polling that sees late changes, a shared rate budget:

- `disputes.lost` becomes `subtracted` (an accepted or expired dispute takes its amount out too,
  see bantico/payments/rules.py) and disputes keep their `stage`; payments with a dispute, or a
  refund without an amount, are settled again under the new rules;
- `payment_subscriptions`: every subscription a payment pays for, filled from `subscription_id`
  and from the `subscription_ids` of multi-subscription payments;
- `payments.details_pending` (a list item not yet read in full) and `checked_at` on payments,
  refunds and disputes (when polling last re-read an unresolved one);
- `dodo_integrations.sync_state` (listing jobs, page cap, errors) and `webhook_checked_at`;
- `webhook_inbox.pending_fetch` (a delivery acknowledged without enough data);
- `rate_buckets`: the shared request budget of each provider key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBTRACTING = ("dispute_lost", "dispute_accepted", "dispute_expired")


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.Column("throttled", sa.Integer(), nullable=False),
        sa.Column("limit_seen", sa.Integer(), nullable=True),
        sa.Column("updated_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "payment_subscriptions",
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_subscriptions_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_payment_subscriptions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "payment_id", "subscription_id", name=op.f("pk_payment_subscriptions")
        ),
    )
    with op.batch_alter_table("payment_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_subscriptions_project_id_subscription_id"),
            ["project_id", "subscription_id"],
            unique=False,
        )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column("subtracted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("checked_at", bantico.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("dodo_integrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sync_state", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("webhook_checked_at", bantico.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("details_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("checked_at", bantico.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_payments_project_id_details_pending_created_at"),
            ["project_id", "details_pending", "created_at"],
            unique=False,
        )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checked_at", bantico.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_fetch", sa.String(length=100), nullable=True))

    connection = op.get_bind()
    _fill(connection)
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_column("lost")
        batch_op.alter_column("subtracted", server_default=None)


def _fill(connection: sa.Connection) -> None:
    disputes = sa.table(
        "disputes",
        sa.column("status", sa.String),
        sa.column("lost", sa.Boolean),
        sa.column("subtracted", sa.Boolean),
        sa.column("raw", sa.JSON),
        sa.column("stage", sa.String),
        sa.column("id", sa.Integer),
    )
    connection.execute(
        disputes.update()
        .where(sa.or_(disputes.c.lost.is_(True), disputes.c.status.in_(SUBTRACTING)))
        .values(subtracted=True)
    )
    for dispute_id, raw in connection.execute(sa.select(disputes.c.id, disputes.c.raw)).all():
        stage = _json(raw).get("dispute_stage")
        if isinstance(stage, str):
            connection.execute(
                disputes.update().where(disputes.c.id == dispute_id).values(stage=stage)
            )
    connection.execute(
        sa.text(
            "INSERT INTO payment_subscriptions (payment_id, subscription_id, project_id) "
            "SELECT id, subscription_id, project_id FROM payments "
            "WHERE subscription_id IS NOT NULL"
        )
    )
    rows = connection.execute(
        sa.text("SELECT id, project_id, raw FROM payments WHERE subscription_id IS NULL")
    ).all()
    for payment_id, project_id, raw in rows:
        ids = _json(raw).get("subscription_ids")
        for subscription_id in dict.fromkeys(ids if isinstance(ids, list) else []):
            if isinstance(subscription_id, str) and subscription_id:
                connection.execute(
                    sa.text(
                        "INSERT INTO payment_subscriptions (payment_id, subscription_id, "
                        "project_id) VALUES (:p, :s, :project)"
                    ),
                    {"p": payment_id, "s": subscription_id, "project": project_id},
                )
    _settle_again(connection)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _settle_again(connection: sa.Connection) -> None:
    """The rules of bantico/payments/rules.py as they are at this revision, for the payments
    whose amounts they change."""
    affected = connection.execute(
        sa.text(
            "SELECT id, project_id, provider, provider_payment_id, total_amount, "
            "settlement_amount FROM payments p WHERE EXISTS (SELECT 1 FROM disputes d WHERE "
            "d.project_id = p.project_id AND d.provider = p.provider AND "
            "d.provider_payment_id = p.provider_payment_id) OR EXISTS (SELECT 1 FROM refunds r "
            "WHERE r.project_id = p.project_id AND r.provider = p.provider AND "
            "r.provider_payment_id = p.provider_payment_id AND r.amount IS NULL)"
        )
    ).all()
    for payment_id, project_id, provider, provider_id, total, settlement in affected:
        keys = {"project": project_id, "provider": provider, "payment": provider_id}
        refunds = connection.execute(
            sa.text(
                "SELECT amount, is_partial FROM refunds WHERE project_id = :project AND "
                "provider = :provider AND provider_payment_id = :payment AND "
                "status = 'succeeded' ORDER BY created_at, id"
            ),
            keys,
        ).all()
        known = sum(a for a, _ in refunds if a is not None)
        refunded = sum(
            a if a is not None else (0 if partial else max(0, total - known))
            for a, partial in refunds
        )
        disputed = connection.execute(
            sa.text(
                "SELECT COALESCE(SUM(COALESCE(amount, :total)), 0) FROM disputes WHERE "
                "project_id = :project AND provider = :provider AND "
                "provider_payment_id = :payment AND subtracted"
            ),
            {**keys, "total": total},
        ).scalar_one()
        taken = min(total, refunded + int(disputed))
        settled = settlement if settlement is not None else total
        connection.execute(
            sa.text(
                "UPDATE payments SET refunded_amount = :r, disputed_amount = :d, "
                "refunded_settlement = :s WHERE id = :id"
            ),
            {
                "r": refunded,
                "d": int(disputed),
                "s": round(settled * taken / total) if total > 0 else 0,
                "id": payment_id,
            },
        )


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lost", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE disputes SET lost = subtracted WHERE status = 'dispute_lost'")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.alter_column("lost", server_default=None)
        batch_op.drop_column("checked_at")
        batch_op.drop_column("subtracted")
        batch_op.drop_column("stage")
    with op.batch_alter_table("webhook_inbox", schema=None) as batch_op:
        batch_op.drop_column("pending_fetch")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_project_id_details_pending_created_at"))
        batch_op.drop_column("checked_at")
        batch_op.drop_column("details_pending")
    with op.batch_alter_table("dodo_integrations", schema=None) as batch_op:
        batch_op.drop_column("webhook_checked_at")
        batch_op.drop_column("sync_state")
    with op.batch_alter_table("payment_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_subscriptions_project_id_subscription_id"))
    op.drop_table("payment_subscriptions")
    op.drop_table("rate_buckets")
