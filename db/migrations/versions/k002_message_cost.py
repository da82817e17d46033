"""campaigns: what the provider said each message cost

Revision ID: k002
Revises: k001
Create Date: 2026-11-21

Keyed by message id, kept by the campaigns area: the messages table stays as the core made it.
"""
from alembic import op
import sqlalchemy as sa


revision = 'k002'
down_revision = 'k001'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('message_costs',
    sa.Column('message_id', BIG_ID, nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_costs_message_id_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_message_costs'))
    )


def downgrade() -> None:
    op.drop_table('message_costs')
