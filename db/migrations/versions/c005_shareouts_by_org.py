"""chama_shareouts indexed by org

Every balance a member reads (and every USSD hop at the chama's main menu)
counts the chama's share-outs and takes the last one's id; without an index
each of those read the share-outs of every chama.

Revision ID: c005
Revises: c004
Create Date: 2026-12-06
"""
from alembic import op

revision = 'c005'
down_revision = 'c004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_chama_shareouts_org', 'chama_shareouts', ['org_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_chama_shareouts_org', table_name='chama_shareouts')
