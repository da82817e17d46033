"""payments: M-Pesa STK push requests and the results Daraja sent for them

Revision ID: p001
Revises: 0001
Create Date: 2026-11-21 00:17:57
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'p001'
down_revision = '0001'
branch_labels = ('payments',)
depends_on = None


def upgrade() -> None:
    op.create_table('payment_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('account_reference', sa.String(length=12), nullable=False),
    sa.Column('description', sa.String(length=13), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('sending_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checkout_request_id', sa.String(length=100), nullable=True),
    sa.Column('merchant_request_id', sa.String(length=100), nullable=True),
    sa.Column('sent_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('next_check_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('result_code', sa.String(length=30), nullable=True),
    sa.Column('result_desc', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('paid_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_payment_requests_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests')),
    sa.UniqueConstraint('checkout_request_id', name=op.f('uq_payment_requests_checkout_request_id')),
    sa.UniqueConstraint('org_id', 'idempotency_key', name=op.f('uq_payment_requests_org_id')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_payment_requests_receipt_number'))
    )
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.create_index('ix_payment_requests_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_payment_requests_org_status', ['org_id', 'status'], unique=False)

    op.create_table('payment_callbacks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('checkout_request_id', sa.String(length=100), nullable=True),
    sa.Column('merchant_request_id', sa.String(length=100), nullable=True),
    sa.Column('result_code', sa.String(length=30), nullable=True),
    sa.Column('result_desc', sa.Text(), nullable=True),
    sa.Column('receipt_number', sa.String(length=40), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('token_ok', sa.Boolean(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.String(length=12), nullable=False),
    sa.Column('problem', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_payment_callbacks_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_request_id'], ['payment_requests.id'], name=op.f('fk_payment_callbacks_payment_request_id_payment_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_callbacks'))
    )
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_payment_callbacks_checkout', ['checkout_request_id'], unique=False)
        batch_op.create_index('ix_payment_callbacks_request', ['payment_request_id'], unique=False)
        batch_op.create_index('ix_payment_callbacks_verdict', ['verdict', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_callbacks_verdict')
        batch_op.drop_index('ix_payment_callbacks_request')
        batch_op.drop_index('ix_payment_callbacks_checkout')

    op.drop_table('payment_callbacks')
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_requests_org_status')
        batch_op.drop_index('ix_payment_requests_due')

    op.drop_table('payment_requests')
