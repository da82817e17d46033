"""salon: closing the visit (check-in, completion with payments, no-shows), walk-ins,
deposits held by M-Pesa, the settings that govern them, staff preferences, task assignees

Revision ID: s003
Revises: s002
Create Date: 2026-11-28 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 's003'
down_revision = 's002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = db.types.UTCDateTime(timezone=True)

PLAIN_COLUMNS = {
    'salon_services': [sa.Column('deposit_minor', sa.BigInteger(), nullable=False, server_default=sa.text('0'))],
    'salon_settings': [
        sa.Column('deposit_hold_minutes', sa.Integer(), nullable=False, server_default=sa.text('30')),
        sa.Column('no_show_fee_minor', sa.BigInteger(), nullable=False, server_default=sa.text('0')),
        sa.Column('keep_deposit_on_no_show', sa.Boolean(), nullable=False, server_default=sa.text('true')),
        sa.Column('form_origins', sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    ],
    'salon_appointments': [
        sa.Column('walk_in', sa.Boolean(), nullable=False, server_default=sa.text('false')),
        sa.Column('checked_in_at', When, nullable=True),
        sa.Column('client_confirmed_at', When, nullable=True),
        sa.Column('closed_at', When, nullable=True),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False, server_default=sa.text('0')),
        sa.Column('tip_minor', sa.BigInteger(), nullable=False, server_default=sa.text('0')),
        sa.Column('charged_minor', sa.BigInteger(), nullable=True),
        sa.Column('deposit_minor', sa.BigInteger(), nullable=False, server_default=sa.text('0')),
        sa.Column('hold_until', When, nullable=True),
    ],
}
# (table, column, referred table, ON DELETE)
FK_COLUMNS = [
    ('salon_tasks', 'assignee_id', 'users', 'SET NULL'),
]


def _fk_name(table: str, column: str, referred: str) -> str:
    return f'fk_{table}_{column}_{referred}'


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, columns in PLAIN_COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    for table, column, referred, on_delete in FK_COLUMNS:
        if sqlite:  # SQLite adds a column's foreign key only inline
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER '
                       f'CONSTRAINT {_fk_name(table, column, referred)} REFERENCES {referred} (id) '
                       f'ON DELETE {on_delete}')
        else:
            op.add_column(table, sa.Column(column, sa.BigInteger(), nullable=True))
            op.create_foreign_key(_fk_name(table, column, referred), table, referred, [column], ['id'],
                                  ondelete=on_delete)
    op.create_table('salon_payments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('appointment_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('method', sa.String(length=6), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('payment_request_id', BigId, nullable=True),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.Column('at', When, nullable=False),
    sa.CheckConstraint("method IN ('cash', 'mpesa', 'card') AND kind IN ('deposit', 'visit', 'no_show_fee', 'refund')",
                       name=op.f('ck_salon_payments_sane')),
    sa.ForeignKeyConstraint(['appointment_id'], ['salon_appointments.id'],
                            name=op.f('fk_salon_payments_appointment_id_salon_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_payments_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_payments')),
    sa.UniqueConstraint('payment_request_id', name=op.f('uq_salon_payments_payment_request_id'))
    )
    op.create_index('ix_salon_payments_org_at', 'salon_payments', ['org_id', 'at'], unique=False)
    op.create_index(op.f('ix_salon_payments_appointment_id'), 'salon_payments', ['appointment_id'], unique=False)
    op.create_table('salon_staff',
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('bookable', sa.Boolean(), nullable=False),
    sa.Column('notify_on', sa.JSON(), nullable=False),
    sa.Column('updated_at', When, nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_staff_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_salon_staff_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'user_id', name=op.f('pk_salon_staff'))
    )


def downgrade() -> None:
    op.drop_table('salon_staff')
    op.drop_index(op.f('ix_salon_payments_appointment_id'), table_name='salon_payments')
    op.drop_index('ix_salon_payments_org_at', table_name='salon_payments')
    op.drop_table('salon_payments')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, column, referred, _ in FK_COLUMNS:
        if sqlite:  # a column with a foreign key goes with the table rebuilt
            with op.batch_alter_table(table) as batch:
                batch.drop_column(column)
        else:
            op.drop_constraint(_fk_name(table, column, referred), table, type_='foreignkey')
            op.drop_column(table, column)
    for table, columns in PLAIN_COLUMNS.items():
        for column in columns:
            op.drop_column(table, column.name)
