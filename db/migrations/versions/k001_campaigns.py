"""campaigns: campaigns, runs and responses

Revision ID: k001
Revises: 0001
Create Date: 2026-11-21

A campaign's messages are outbox rows carrying messages.campaign_id.
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'k001'
down_revision = '0001'
branch_labels = ('campaigns',)
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('template_name', sa.String(length=100), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('audience', sa.String(length=500), nullable=False),
    sa.Column('schedule', sa.String(length=8), nullable=False),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('every', sa.String(length=8), nullable=True),
    sa.Column('next_run_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failure_threshold_pct', sa.Integer(), nullable=False),
    sa.Column('failure_min_sample', sa.Integer(), nullable=False),
    sa.Column('pause_reason', sa.Text(), nullable=True),
    sa.Column('survey', sa.JSON(), nullable=True),
    sa.Column('response_window_hours', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_campaigns_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_org_status', ['org_id', 'status'], unique=False)

    op.create_table('campaign_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('inbound_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('phone', sa.String(length=254), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=True),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_responses_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_campaign_responses_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_campaign_responses_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_responses')),
    sa.UniqueConstraint('campaign_id', 'inbound_id', name=op.f('uq_campaign_responses_campaign_id'))
    )
    with op.batch_alter_table('campaign_responses', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_responses_campaign', ['campaign_id', 'received_at'], unique=False)

    op.create_table('campaign_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_runs_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_campaign_runs_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_runs')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_campaign_runs_campaign_id'))
    )


    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_campaign_status', ['campaign_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_campaign_status')
    op.drop_table('campaign_runs')
    with op.batch_alter_table('campaign_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_responses_campaign')

    op.drop_table('campaign_responses')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_org_status')

    op.drop_table('campaigns')
