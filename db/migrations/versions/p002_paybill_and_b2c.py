"""payments: the paybill (C2B) short code of an org, the money paid to it, and B2C disbursements

Revision ID: p002
Revises: p001
Create Date: 2026-12-05 21:40:00
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'p002'
down_revision = 'p001'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('mpesa_paybills',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('shortcode', sa.String(length=20), nullable=False),
    sa.Column('response_type', sa.String(length=12), nullable=False),
    sa.Column('confirmation_url', sa.Text(), nullable=True),
    sa.Column('registered_at', WHEN, nullable=True),
    sa.Column('created_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_mpesa_paybills_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mpesa_paybills')),
    sa.UniqueConstraint('org_id', name=op.f('uq_mpesa_paybills_org_id')),
    sa.UniqueConstraint('shortcode', name=op.f('uq_mpesa_paybills_shortcode'))
    )
    op.create_table('mpesa_c2b_payments',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('trans_id', sa.String(length=40), nullable=False),
    sa.Column('shortcode', sa.String(length=20), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payer', sa.String(length=200), nullable=True),
    sa.Column('paid_at', WHEN, nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('purpose', sa.String(length=20), nullable=True),
    sa.Column('entry_ref', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('received_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_mpesa_c2b_payments_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mpesa_c2b_payments')),
    sa.UniqueConstraint('trans_id', name=op.f('uq_mpesa_c2b_payments_trans_id'))
    )
    with op.batch_alter_table('mpesa_c2b_payments', schema=None) as batch_op:
        batch_op.create_index('ix_mpesa_c2b_payments_org_status', ['org_id', 'status'], unique=False)

    op.create_table('mpesa_disbursements',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('remarks', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('open_key', sa.String(length=80), nullable=True),
    sa.Column('originator_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('result_code', sa.String(length=30), nullable=True),
    sa.Column('result_desc', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('next_check_at', WHEN, nullable=True),
    sa.Column('sent_at', WHEN, nullable=True),
    sa.Column('completed_at', WHEN, nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_mpesa_disbursements_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mpesa_disbursements')),
    sa.UniqueConstraint('org_id', 'open_key', name=op.f('uq_mpesa_disbursements_org_id')),
    sa.UniqueConstraint('originator_id', name=op.f('uq_mpesa_disbursements_originator_id')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_mpesa_disbursements_receipt_number'))
    )
    with op.batch_alter_table('mpesa_disbursements', schema=None) as batch_op:
        batch_op.create_index('ix_mpesa_disbursements_due', ['status', 'next_check_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mpesa_disbursements', schema=None) as batch_op:
        batch_op.drop_index('ix_mpesa_disbursements_due')
    op.drop_table('mpesa_disbursements')
    with op.batch_alter_table('mpesa_c2b_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_mpesa_c2b_payments_org_status')
    op.drop_table('mpesa_c2b_payments')
    op.drop_table('mpesa_paybills')
