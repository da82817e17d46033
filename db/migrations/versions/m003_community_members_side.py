"""community: strangers joining by SMS, the staff inbox, cancelled events

Revision ID: m003
Revises: m002
Create Date: 2026-11-22

``community_signups`` holds a stranger's answers (name, then profile type)
until they become a member; ``community_threads`` and
``community_thread_messages`` are the staff inbox that every SMS no keyword
answered lands in; events gain when and why they were cancelled. SQLite adds
and drops the event columns in place (ALTER TABLE … ADD/DROP COLUMN), never
by copying the table: registrations point at it.
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'm003'
down_revision = 'm002'
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, db.types.UTCDateTime(timezone=True), nullable=nullable)


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f(f'fk_{table}_org_id_orgs'), ondelete='CASCADE')


def upgrade() -> None:
    op.add_column('community_events', _when('cancelled_at', nullable=True))
    op.add_column('community_events', sa.Column('cancel_reason', sa.Text(), nullable=True))
    op.create_table(
        'community_signups',
        sa.Column('id', _id(), nullable=False),
        sa.Column('org_id', _id(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('step', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('event_id', _id(), nullable=True),
        _when('created_at'),
        _when('updated_at'),
        sa.CheckConstraint("step IN ('name', 'type')", name=op.f('ck_community_signups_step')),
        sa.ForeignKeyConstraint(['event_id'], ['community_events.id'],
                                name=op.f('fk_community_signups_event_id_community_events'), ondelete='SET NULL'),
        _org('community_signups'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_signups')),
        sa.UniqueConstraint('org_id', 'phone', name='uq_community_signups_phone'),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'community_threads',
        sa.Column('id', _id(), nullable=False),
        sa.Column('org_id', _id(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('account_id', _id(), nullable=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('unread', sa.Integer(), nullable=False),
        _when('last_message_at'),
        _when('created_at'),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_community_threads_status')),
        sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'],
                                name=op.f('fk_community_threads_account_id_community_accounts'), ondelete='SET NULL'),
        _org('community_threads'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_threads')),
        sa.UniqueConstraint('org_id', 'phone', name='uq_community_threads_phone'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_community_threads_latest', 'community_threads', ['org_id', 'status', 'last_message_at'])
    op.create_table(
        'community_thread_messages',
        sa.Column('id', _id(), nullable=False),
        sa.Column('org_id', _id(), nullable=False),
        sa.Column('thread_id', _id(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('inbound_message_id', _id(), nullable=True),
        sa.Column('outbox_message_id', _id(), nullable=True),
        sa.Column('staff', sa.String(length=254), nullable=True),
        _when('created_at'),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_community_thread_messages_direction')),
        sa.ForeignKeyConstraint(['thread_id'], ['community_threads.id'],
                                name=op.f('fk_community_thread_messages_thread_id_community_threads'),
                                ondelete='CASCADE'),
        _org('community_thread_messages'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_thread_messages')),
        sa.UniqueConstraint('inbound_message_id', name='uq_community_thread_messages_inbound'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_community_thread_messages_thread', 'community_thread_messages', ['thread_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_community_thread_messages_thread', table_name='community_thread_messages')
    op.drop_table('community_thread_messages')
    op.drop_index('ix_community_threads_latest', table_name='community_threads')
    op.drop_table('community_threads')
    op.drop_table('community_signups')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE community_events DROP COLUMN cancel_reason')
        op.execute('ALTER TABLE community_events DROP COLUMN cancelled_at')
    else:
        op.drop_column('community_events', 'cancel_reason')
        op.drop_column('community_events', 'cancelled_at')
