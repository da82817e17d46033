"""inbound SMS, opt-outs and each org's SMS number

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("orgs", sa.Column("sms_number", sa.String(20), nullable=True))
    op.create_index(op.f("ix_orgs_sms_number"), "orgs", ["sms_number"])
    op.create_table(
        "opt_outs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_opt_outs_org_id_orgs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint("org_id", "channel", "address", name=op.f("uq_opt_outs_org_id")),
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("provider_message_id", sa.String(100), nullable=False),
        sa.Column("from_phone", sa.String(20), nullable=False),
        sa.Column("to_address", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("org_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("received_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("provider", "provider_message_id", name=op.f("uq_inbound_messages_provider")),
    )
    op.create_index("ix_inbound_messages_from_at", "inbound_messages", ["from_phone", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_from_at", table_name="inbound_messages")
    op.drop_table("inbound_messages")
    op.drop_table("opt_outs")
    op.drop_index(op.f("ix_orgs_sms_number"), table_name="orgs")
    # ALTER … DROP COLUMN in place: rebuilding orgs (batch mode) would trip the triggers that name it.
    op.execute("ALTER TABLE orgs DROP COLUMN sms_number")
