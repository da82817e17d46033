"""salon: lead forms and their rate-limit hits, leads and their activities,
follow-up tasks, and conversation threads

Revision ID: s002
Revises: s001
Create Date: 2026-11-21 02:09:24
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 's002'
down_revision = 's001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('salon_lead_forms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('required', sa.JSON(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('max_per_ip_hour', sa.Integer(), nullable=False),
    sa.Column('max_per_phone_hour', sa.Integer(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_lead_forms_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_lead_forms')),
    sa.UniqueConstraint('slug', name=op.f('uq_salon_lead_forms_slug'))
    )
    op.create_table('salon_form_hits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('form_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_id'], ['salon_lead_forms.id'], name=op.f('fk_salon_form_hits_form_id_salon_lead_forms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_form_hits'))
    )
    op.create_index('ix_salon_form_hits_ip', 'salon_form_hits', ['form_id', 'ip', 'at'], unique=False)
    op.create_index('ix_salon_form_hits_phone', 'salon_form_hits', ['form_id', 'phone', 'at'], unique=False)
    op.create_table('salon_leads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('form_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('service_wanted', sa.String(length=120), nullable=False),
    sa.Column('preferred_date', sa.Date(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('lost_reason', sa.String(length=300), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('temperature', sa.String(length=4), nullable=False),
    sa.Column('contacts_count', sa.Integer(), nullable=False),
    sa.Column('first_response_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('converted_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'lost' OR lost_reason IS NOT NULL", name=op.f('ck_salon_leads_lost_reason')),
    sa.CheckConstraint("status IN ('new', 'contacted', 'qualified', 'converted', 'lost')", name=op.f('ck_salon_leads_status')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_salon_leads_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['form_id'], ['salon_lead_forms.id'], name=op.f('fk_salon_leads_form_id_salon_lead_forms'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_leads_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_leads')),
    sa.UniqueConstraint('org_id', 'phone', name=op.f('uq_salon_leads_org_id'))
    )
    op.create_index('ix_salon_leads_org_status', 'salon_leads', ['org_id', 'status', 'id'], unique=False)
    op.create_table('salon_conversation_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('inbound_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=True),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_salon_conversation_messages_direction')),
    sa.UniqueConstraint('org_id', 'inbound_id', name=op.f('uq_salon_conversation_messages_org_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_salon_conversation_messages_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['salon_leads.id'], name=op.f('fk_salon_conversation_messages_lead_id_salon_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_salon_conversation_messages_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_conversation_messages_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_conversation_messages'))
    )
    op.create_index('ix_salon_conversation_phone', 'salon_conversation_messages', ['org_id', 'phone', 'id'], unique=False)
    op.create_table('salon_lead_activities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['salon_leads.id'], name=op.f('fk_salon_lead_activities_lead_id_salon_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_lead_activities_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_lead_activities'))
    )
    op.create_index('ix_salon_lead_activities_lead', 'salon_lead_activities', ['lead_id', 'id'], unique=False)
    op.create_table('salon_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['salon_leads.id'], name=op.f('fk_salon_tasks_lead_id_salon_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_tasks_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_tasks'))
    )
    op.create_index(op.f('ix_salon_tasks_lead_id'), 'salon_tasks', ['lead_id'], unique=False)
    op.create_index('ix_salon_tasks_org_due', 'salon_tasks', ['org_id', 'done_at', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_salon_tasks_org_due', table_name='salon_tasks')
    op.drop_index(op.f('ix_salon_tasks_lead_id'), table_name='salon_tasks')
    op.drop_table('salon_tasks')
    op.drop_index('ix_salon_lead_activities_lead', table_name='salon_lead_activities')
    op.drop_table('salon_lead_activities')
    op.drop_index('ix_salon_conversation_phone', table_name='salon_conversation_messages')
    op.drop_table('salon_conversation_messages')
    op.drop_index('ix_salon_leads_org_status', table_name='salon_leads')
    op.drop_table('salon_leads')
    op.drop_index('ix_salon_form_hits_phone', table_name='salon_form_hits')
    op.drop_index('ix_salon_form_hits_ip', table_name='salon_form_hits')
    op.drop_table('salon_form_hits')
    op.drop_table('salon_lead_forms')
