"""USSD sessions, end-of-session events and PINs

Revision ID: u001
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import db.types

revision = "u001"
down_revision = "0001"
branch_labels = ("ussd",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ussd_sessions",
        sa.Column("session_id", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("org_id", BigId, nullable=True),
        sa.Column("state", sa.String(60), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_text", sa.Text(), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("end_status", sa.String(40), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_ussd_sessions_org_id_orgs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_ussd_sessions")),
    )
    op.create_index(op.f("ix_ussd_sessions_phone"), "ussd_sessions", ["phone"])
    op.create_table(
        "ussd_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("session_id", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("received_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ussd_events")),
    )
    op.create_index(op.f("ix_ussd_events_session_id"), "ussd_events", ["session_id"])
    op.create_table(
        "ussd_pins",
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("pin_hash", sa.String(255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("set_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_ussd_pins")),
    )


def downgrade() -> None:
    op.drop_table("ussd_pins")
    op.drop_index(op.f("ix_ussd_events_session_id"), table_name="ussd_events")
    op.drop_table("ussd_events")
    op.drop_index(op.f("ix_ussd_sessions_phone"), table_name="ussd_sessions")
    op.drop_table("ussd_sessions")
