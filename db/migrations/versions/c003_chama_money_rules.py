"""chama: cycles, exits, overpayments, loan follow-up, guarantor consent, linked logins

Revision ID: c003
Revises: c002
Create Date: 2026-12-05

Settings gain what happens to an overpayment, the loan grace days, the late
repayment penalty and how many missed instalments make a default. A member
may be linked to one staff login (approvals know people by that link, not by
phone) and keeps how she left. A payout has a kind (payout, exit, refund).
A guarantor's pledge waits for her consent (existing pledges count as given).
A ledger entry has a part, so one receipt can pay for several things; the
receipt index compares references without case or spaces. Columns are added
in place (never by copying a table): the ledger's triggers and foreign keys
stay as they are.
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'c003'
down_revision = 'c002'
branch_labels = None
depends_on = None

OLD_WHERE = "reference IS NOT NULL AND kind IN ('contribution', 'fine_payment', 'loan_repayment')"


def upgrade() -> None:
    op.add_column('chama_settings', sa.Column('overpayment', sa.String(length=10), nullable=False,
                                              server_default='savings'))
    op.add_column('chama_settings', sa.Column('loan_grace_days', sa.Integer(), nullable=False, server_default='7'))
    op.add_column('chama_settings', sa.Column('loan_penalty_bp', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('chama_settings', sa.Column('default_after_missed', sa.Integer(), nullable=False,
                                              server_default='3'))
    op.add_column('chama_members', sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                             nullable=True))
    op.add_column('chama_members', sa.Column('exit_reason', sa.Text(), nullable=True))
    op.create_index('uq_chama_members_user', 'chama_members', ['org_id', 'user_id'], unique=True,
                    sqlite_where=sa.text('user_id IS NOT NULL'), postgresql_where=sa.text('user_id IS NOT NULL'))
    op.add_column('chama_payouts', sa.Column('kind', sa.String(length=10), nullable=False, server_default='payout'))
    op.add_column('chama_guarantors', sa.Column('status', sa.String(length=10), nullable=False,
                                                server_default='accepted'))
    op.add_column('chama_loans', sa.Column('defaulted_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('chama_ledger', sa.Column('part', sa.Integer(), nullable=False, server_default='0'))
    op.drop_index('uq_chama_ledger_payment_reference', table_name='chama_ledger')
    op.create_index('uq_chama_ledger_payment_reference', 'chama_ledger',
                    ['org_id', 'source', sa.text("upper(replace(reference, ' ', ''))"), 'part'], unique=True,
                    sqlite_where=sa.text(OLD_WHERE), postgresql_where=sa.text(OLD_WHERE))


def downgrade() -> None:
    op.drop_index('uq_chama_ledger_payment_reference', table_name='chama_ledger')
    op.create_index('uq_chama_ledger_payment_reference', 'chama_ledger', ['org_id', 'source', 'reference'],
                    unique=True, sqlite_where=sa.text(OLD_WHERE), postgresql_where=sa.text(OLD_WHERE))
    op.drop_column('chama_ledger', 'part')
    op.drop_column('chama_loans', 'defaulted_at')
    op.drop_column('chama_guarantors', 'status')
    op.drop_column('chama_payouts', 'kind')
    op.drop_index('uq_chama_members_user', table_name='chama_members')
    op.drop_column('chama_members', 'exit_reason')
    op.drop_column('chama_members', 'user_id')
    for name in ('default_after_missed', 'loan_penalty_bp', 'loan_grace_days', 'overpayment'):
        op.drop_column('chama_settings', name)
