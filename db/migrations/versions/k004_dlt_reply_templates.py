"""campaigns: DLT template IDs for an org's own SMS to India (STOP's confirmation, answers, notices)

Revision ID: k004
Revises: k003
Create Date: 2026-12-06

``dlt_reply_templates`` holds, per org and kind of message, the DLT template ID the outbox
attaches to the org's SMS to Indian numbers that no campaign template covers.
"""
from alembic import op
import sqlalchemy as sa


revision = 'k004'
down_revision = 'k003'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('dlt_reply_templates',
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('dlt_template_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_dlt_reply_templates_org_id_orgs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'kind', name=op.f('pk_dlt_reply_templates'))
    )


def downgrade() -> None:
    op.drop_table('dlt_reply_templates')
