"""vendors: the MSME registry, and message templates

Revision ID: v001
Revises: 0001
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'v001'
down_revision = '0001'
branch_labels = ('vendors',)
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('vendors',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('business_name', sa.String(length=200), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('whatsapp', sa.String(length=20), nullable=True),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('udyam', sa.String(length=19), nullable=True),
    sa.Column('pan', sa.String(length=10), nullable=True),
    sa.Column('sector', sa.String(length=80), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=80), nullable=False),
    sa.Column('size', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('sms_opt_out', sa.Boolean(), nullable=False),
    sa.Column('email_opt_out', sa.Boolean(), nullable=False),
    sa.Column('whatsapp_opt_out', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_vendors_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors'))
    )
    for column in ('gstin', 'udyam', 'phone'):
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(f'uq_vendors_org_{column}', 'vendors', ['org_id', column], unique=True,
                        sqlite_where=where, postgresql_where=where)
    op.create_index('ix_vendors_org_name', 'vendors', ['org_id', 'business_name', 'id'])
    for column in ('sector', 'district', 'state'):
        op.create_index(f'ix_vendors_org_{column}', 'vendors', ['org_id', sa.text(f'lower({column})')])
    op.create_index('ix_vendors_org_size', 'vendors', ['org_id', 'size'])

    op.create_table('message_templates',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('whatsapp_template_name', sa.String(length=120), nullable=True),
    sa.Column('whatsapp_params', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_message_templates_org_id_orgs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('org_id', 'name', name='uq_message_templates_org_name')
    )


def downgrade() -> None:
    op.drop_table('message_templates')
    op.drop_table('vendors')
