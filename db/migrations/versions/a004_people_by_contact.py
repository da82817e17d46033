"""agency workers and employers indexed by contact alone

Every USSD session's first hop asks whether the caller is an agency's worker
or employer, from her contacts; the only indexes with ``contact_id`` led with
``org_id``, so each question read all of them.

Revision ID: a004
Revises: a003
Create Date: 2026-12-06
"""
from alembic import op

revision = 'a004'
down_revision = 'a003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_agency_workers_contact', 'agency_workers', ['contact_id'])
    op.create_index('ix_agency_employers_contact', 'agency_employers', ['contact_id'])


def downgrade() -> None:
    op.drop_index('ix_agency_employers_contact', table_name='agency_employers')
    op.drop_index('ix_agency_workers_contact', table_name='agency_workers')
