"""messages.dlt_kind: the DLT kind an SMS to India was refused for, so it can go once registered

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("dlt_kind", sa.String(16), nullable=True))


def downgrade() -> None:
    # ALTER … DROP COLUMN in place, as 0004 does.
    op.execute("ALTER TABLE messages DROP COLUMN dlt_kind")
