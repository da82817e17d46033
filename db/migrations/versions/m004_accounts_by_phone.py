"""community accounts indexed by phone alone

A USSD caller who is no chama's member is asked whether any community knows
her phone; the only index on it was the per-org unique one.

Revision ID: m004
Revises: m003
Create Date: 2026-12-06
"""
from alembic import op

revision = 'm004'
down_revision = 'm003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_community_accounts_phone', 'community_accounts', ['phone'])


def downgrade() -> None:
    op.drop_index('ix_community_accounts_phone', table_name='community_accounts')
