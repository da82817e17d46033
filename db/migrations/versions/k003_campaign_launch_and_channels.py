"""campaigns: end dates, resumes, quiet hours, DLT registrations and WhatsApp languages

Revision ID: k003
Revises: k002
Create Date: 2026-12-05

``campaigns.until`` ends a recurring campaign; ``campaigns.resumed_at`` starts the auto-pause's
count afresh. ``campaign_settings`` holds an org's quiet hours and its DLT entity ID (Indian SMS);
``template_registrations`` a template's DLT template ID and its WhatsApp language, beside the
templates table, which stays as the vendors area made it.
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'k003'
down_revision = 'k002'
branch_labels = None
depends_on = ('v001',)  # template_registrations sits beside message_templates

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('until', db.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('resumed_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('campaign_settings',
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('quiet_from', sa.String(length=5), nullable=False),
    sa.Column('quiet_until', sa.String(length=5), nullable=False),
    sa.Column('dlt_entity_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_campaign_settings_org_id_orgs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_campaign_settings'))
    )
    op.create_table('template_registrations',
    sa.Column('template_id', BIG_ID, nullable=False),
    sa.Column('dlt_template_id', sa.String(length=40), nullable=True),
    sa.Column('whatsapp_language', sa.String(length=15), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'],
                            name=op.f('fk_template_registrations_template_id_message_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_id', name=op.f('pk_template_registrations'))
    )


def downgrade() -> None:
    op.drop_table('template_registrations')
    op.drop_table('campaign_settings')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('resumed_at')
        batch.drop_column('until')
