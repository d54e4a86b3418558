"""tracking core

Revision ID: 0001
Revises:
Create Date: 2026-11-27 10:52:35.634547
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bantico.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("pricing_path", sa.String(length=500), nullable=False),
        sa.Column("attribution_window_days", sa.Integer(), nullable=False),
        sa.Column("honour_gpc", sa.Boolean(), nullable=False),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("token", name=op.f("uq_projects_token")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_campaigns_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("project_id", "key", name=op.f("uq_campaigns_project_id_key")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("click_id", sa.String(length=40), nullable=True),
        sa.Column("link_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("referrer", sa.String(length=2048), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("props", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("click_id", name=op.f("uq_events_click_id")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_link_id_name"), ["link_id", "name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_events_project_id_name_occurred_at"),
            ["project_id", "name", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_project_id_visitor_id_occurred_at"),
            ["project_id", "visitor_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("traits", sa.JSON(), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_identities_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_email"), ["email"], unique=False)

    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_leads_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("project_id", "key", name=op.f("uq_leads_project_id_key")),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("destination_url", sa.String(length=2048), nullable=False),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_links_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("key", name=op.f("uq_links_key")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_project_id"), ["project_id"], unique=False)

    op.create_table(
        "secret_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bantico.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_secret_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_secret_keys_key_hash")),
    )
    with op.batch_alter_table("secret_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secret_keys_project_id"), ["project_id"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("landing_url", sa.String(length=2048), nullable=True),
        sa.Column("referrer", sa.String(length=2048), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_project_id_visitor_id"),
            ["project_id", "visitor_id"],
            unique=False,
        )

    op.create_table(
        "touches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("click_id", sa.String(length=40), nullable=True),
        sa.Column("link_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("medium", sa.String(length=200), nullable=True),
        sa.Column("content", sa.String(length=200), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_touches_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touches")),
    )
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_touches_click_id"), ["click_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_touches_project_id_visitor_id_occurred_at"),
            ["project_id", "visitor_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "visitors",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", bantico.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_visitors_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_visitors")),
    )


def downgrade() -> None:
    op.drop_table("visitors")
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_touches_project_id_visitor_id_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_touches_click_id"))

    op.drop_table("touches")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_project_id_visitor_id"))

    op.drop_table("sessions")
    with op.batch_alter_table("secret_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secret_keys_project_id"))

    op.drop_table("secret_keys")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_project_id"))

    op.drop_table("links")
    op.drop_table("leads")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_email"))

    op.drop_table("identities")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_project_id_visitor_id_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_project_id_name_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_link_id_name"))

    op.drop_table("events")
    op.drop_table("campaigns")
    op.drop_table("projects")
