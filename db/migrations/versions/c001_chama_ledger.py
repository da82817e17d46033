"""chama: members, settings, the append-only ledger, loans, payouts, approvals,
invoices, meetings, the merry-go-round and share-outs

Revision ID: c001
Revises: 0001
Create Date: 2026-11-21

The ledger is append-only: triggers refuse UPDATE always, and DELETE unless
the org is gone (so deleting an org, as ``ofisi demo --reset`` does, still
cascades to its ledger).
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'c001'
down_revision = '0001'
branch_labels = ('chama',)
depends_on = None

LEDGER_GUARD_MESSAGE = "chama_ledger is append-only"
PAYMENT_REFERENCE = "reference IS NOT NULL AND kind IN ('contribution', 'fine_payment', 'loan_repayment')"


def upgrade() -> None:
    op.create_table('chama_meetings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_meetings_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_meetings'))
    )
    with op.batch_alter_table('chama_meetings', schema=None) as batch_op:
        batch_op.create_index('ix_chama_meetings_org_starts', ['org_id', 'starts_at'], unique=False)
    op.create_table('chama_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contribution_minor', sa.BigInteger(), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('due_day', sa.Integer(), nullable=False),
    sa.Column('contributions_start', sa.Date(), nullable=True),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('fine_kind', sa.String(length=10), nullable=False),
    sa.Column('fine_flat_minor', sa.BigInteger(), nullable=False),
    sa.Column('fine_percent_bp', sa.Integer(), nullable=False),
    sa.Column('interest_kind', sa.String(length=10), nullable=False),
    sa.Column('interest_rate_bp', sa.Integer(), nullable=False),
    sa.Column('loan_limit_percent', sa.Integer(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('sms_receipts', sa.Boolean(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_settings_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_settings')),
    sa.UniqueConstraint('org_id', name=op.f('uq_chama_settings_org_id'))
    )
    op.create_table('chama_shareouts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pool_minor', sa.BigInteger(), nullable=False),
    sa.Column('savings_minor', sa.BigInteger(), nullable=False),
    sa.Column('earnings_minor', sa.BigInteger(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=20), nullable=False),
    sa.Column('committed_by', sa.String(length=254), nullable=False),
    sa.Column('committed_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_shareouts_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_shareouts'))
    )
    op.create_table('chama_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_number', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=True),
    sa.Column('sms_opt_out', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_chama_members_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_members_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_members')),
    sa.UniqueConstraint('org_id', 'contact_id', name=op.f('uq_chama_members_org_id')),
    sa.UniqueConstraint('org_id', 'member_number', name='uq_chama_members_number')
    )
    op.create_table('chama_attendance',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meeting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('recorded_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['chama_meetings.id'], name=op.f('fk_chama_attendance_meeting_id_chama_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_attendance_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_attendance_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_attendance')),
    sa.UniqueConstraint('meeting_id', 'member_id', name=op.f('uq_chama_attendance_meeting_id'))
    )
    op.create_table('chama_invoices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_invoices_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_invoices_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_invoices')),
    sa.UniqueConstraint('org_id', 'member_id', 'period', name=op.f('uq_chama_invoices_org_id'))
    )
    op.create_table('chama_loans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('principal_minor', sa.BigInteger(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('interest_kind', sa.String(length=10), nullable=False),
    sa.Column('interest_rate_bp', sa.Integer(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requester_key', sa.String(length=40), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('requested_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('disbursed_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_due_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_loans_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_loans_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_loans'))
    )
    with op.batch_alter_table('chama_loans', schema=None) as batch_op:
        batch_op.create_index('ix_chama_loans_org_status', ['org_id', 'status'], unique=False)
    op.create_table('chama_payouts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payee', sa.String(length=200), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requester_key', sa.String(length=40), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('requested_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('paid_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_payouts_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_payouts_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_payouts'))
    )
    with op.batch_alter_table('chama_payouts', schema=None) as batch_op:
        batch_op.create_index('ix_chama_payouts_org_status', ['org_id', 'status'], unique=False)
    op.create_table('chama_approvals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approver_key', sa.String(length=40), nullable=False),
    sa.Column('approver_member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approver_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approver_label', sa.String(length=254), nullable=False),
    sa.Column('approver_name', sa.String(length=200), nullable=False),
    sa.Column('approver_role', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(loan_id IS NULL) <> (payout_id IS NULL)', name=op.f('ck_chama_approvals_one_subject')),
    sa.ForeignKeyConstraint(['approver_member_id'], ['chama_members.id'], name=op.f('fk_chama_approvals_approver_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['loan_id'], ['chama_loans.id'], name=op.f('fk_chama_approvals_loan_id_chama_loans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_approvals_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payout_id'], ['chama_payouts.id'], name=op.f('fk_chama_approvals_payout_id_chama_payouts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_approvals')),
    sa.UniqueConstraint('loan_id', 'approver_key', name='uq_chama_approvals_loan_approver'),
    sa.UniqueConstraint('payout_id', 'approver_key', name='uq_chama_approvals_payout_approver')
    )
    op.create_table('chama_guarantors',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['chama_loans.id'], name=op.f('fk_chama_guarantors_loan_id_chama_loans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_guarantors_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_guarantors_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_guarantors')),
    sa.UniqueConstraint('loan_id', 'member_id', name=op.f('uq_chama_guarantors_loan_id'))
    )
    op.create_table('chama_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('savings_minor', sa.BigInteger(), nullable=False),
    sa.Column('principal_minor', sa.BigInteger(), nullable=False),
    sa.Column('interest_minor', sa.BigInteger(), nullable=False),
    sa.Column('fines_minor', sa.BigInteger(), nullable=False),
    sa.Column('pool_minor', sa.BigInteger(), nullable=False),
    sa.Column('earnings_minor', sa.BigInteger(), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('shareout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.Column('recorded_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('occurred_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f('ck_chama_ledger_reversal_points_back')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_chama_ledger_amount_positive')),
    sa.ForeignKeyConstraint(['loan_id'], ['chama_loans.id'], name=op.f('fk_chama_ledger_loan_id_chama_loans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_ledger_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_ledger_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payout_id'], ['chama_payouts.id'], name=op.f('fk_chama_ledger_payout_id_chama_payouts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reverses_id'], ['chama_ledger.id'], name=op.f('fk_chama_ledger_reverses_id_chama_ledger'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shareout_id'], ['chama_shareouts.id'], name=op.f('fk_chama_ledger_shareout_id_chama_shareouts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_ledger')),
    sa.UniqueConstraint('org_id', 'idempotency_key', name=op.f('uq_chama_ledger_org_id')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_chama_ledger_reverses_id'))
    )
    with op.batch_alter_table('chama_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_chama_ledger_loan', ['loan_id'], unique=False)
        batch_op.create_index('ix_chama_ledger_member', ['org_id', 'member_id', 'id'], unique=False)
        batch_op.create_index('ix_chama_ledger_occurred', ['org_id', 'occurred_at'], unique=False)
        batch_op.create_index('uq_chama_ledger_payment_reference', ['org_id', 'source', 'reference'], unique=True,
                              sqlite_where=sa.text(PAYMENT_REFERENCE), postgresql_where=sa.text(PAYMENT_REFERENCE))
    op.create_table('chama_rotation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_no', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['chama_members.id'], name=op.f('fk_chama_rotation_member_id_chama_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_chama_rotation_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payout_id'], ['chama_payouts.id'], name=op.f('fk_chama_rotation_payout_id_chama_payouts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chama_rotation')),
    sa.UniqueConstraint('org_id', 'round_no', 'member_id', name='uq_chama_rotation_member'),
    sa.UniqueConstraint('org_id', 'round_no', 'position', name='uq_chama_rotation_position')
    )

    _make_ledger_append_only()


def _make_ledger_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION chama_ledger_refuse_change() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM orgs WHERE id = OLD.org_id) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{LEDGER_GUARD_MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER chama_ledger_append_only BEFORE UPDATE OR DELETE ON chama_ledger
            FOR EACH ROW EXECUTE FUNCTION chama_ledger_refuse_change()
        """)
    else:
        op.execute(f"""
            CREATE TRIGGER chama_ledger_no_update BEFORE UPDATE ON chama_ledger
            BEGIN SELECT RAISE(ABORT, '{LEDGER_GUARD_MESSAGE}'); END
        """)
        op.execute(f"""
            CREATE TRIGGER chama_ledger_no_delete BEFORE DELETE ON chama_ledger
            WHEN EXISTS (SELECT 1 FROM orgs WHERE id = OLD.org_id)
            BEGIN SELECT RAISE(ABORT, '{LEDGER_GUARD_MESSAGE}'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS chama_ledger_append_only ON chama_ledger")
        op.execute("DROP FUNCTION IF EXISTS chama_ledger_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS chama_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS chama_ledger_no_delete")
    op.drop_table('chama_rotation')
    with op.batch_alter_table('chama_ledger', schema=None) as batch_op:
        batch_op.drop_index('uq_chama_ledger_payment_reference')
        batch_op.drop_index('ix_chama_ledger_occurred')
        batch_op.drop_index('ix_chama_ledger_member')
        batch_op.drop_index('ix_chama_ledger_loan')
    op.drop_table('chama_ledger')
    op.drop_table('chama_guarantors')
    op.drop_table('chama_approvals')
    with op.batch_alter_table('chama_payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_chama_payouts_org_status')
    op.drop_table('chama_payouts')
    with op.batch_alter_table('chama_loans', schema=None) as batch_op:
        batch_op.drop_index('ix_chama_loans_org_status')
    op.drop_table('chama_loans')
    op.drop_table('chama_invoices')
    op.drop_table('chama_attendance')
    op.drop_table('chama_members')
    op.drop_table('chama_shareouts')
    op.drop_table('chama_settings')
    with op.batch_alter_table('chama_meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_chama_meetings_org_starts')
    op.drop_table('chama_meetings')
