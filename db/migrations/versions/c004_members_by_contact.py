"""chama_members indexed by contact alone

A caller's chamas are found from her contacts (one per org); the only index
with ``contact_id`` led with ``org_id``, so each look-up read all of it.

Revision ID: c004
Revises: c003
Create Date: 2026-12-06
"""
from alembic import op

revision = 'c004'
down_revision = 'c003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_chama_members_contact', 'chama_members', ['contact_id'])


def downgrade() -> None:
    op.drop_index('ix_chama_members_contact', table_name='chama_members')
