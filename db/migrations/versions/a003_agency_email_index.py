"""agency: workers' and employers' emails indexed lower-cased

"One person is one person" looks every new worker and employer up by email in
any case; without an index on ``lower(email)`` each look-up read the whole
table, and an import of thousands slowed with every row.

Revision ID: a003
Revises: a002
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = 'a003'
down_revision = 'a002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_agency_workers_email', 'agency_workers', ['org_id', sa.text('lower(email)')])
    op.create_index('ix_agency_employers_email', 'agency_employers', ['org_id', sa.text('lower(email)')])


def downgrade() -> None:
    op.drop_index('ix_agency_employers_email', table_name='agency_employers')
    op.drop_index('ix_agency_workers_email', table_name='agency_workers')
