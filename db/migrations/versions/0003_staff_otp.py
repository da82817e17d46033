"""staff second factor: users.otp_required, users.otp_address and the staff_otps code table

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("users", sa.Column("otp_required", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("otp_address", sa.String(254), nullable=True))
    op.create_table(
        "staff_otps",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staff_otps_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_otps")),
    )
    op.create_index("ix_staff_otps_address", "staff_otps", ["user_id", "address", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_otps_address", table_name="staff_otps")
    op.drop_table("staff_otps")
    # ALTER … DROP COLUMN in place, as 0002 does: a batch rebuild of users would trip what names it.
    op.execute("ALTER TABLE users DROP COLUMN otp_address")
    op.execute("ALTER TABLE users DROP COLUMN otp_required")
