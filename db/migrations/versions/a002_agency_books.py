"""agency: one book of placement money (agency_entries), edit history, the SMS inbox, placement stages,
the replacement guarantee, documents with expiry, retired packages and paid purchases' references

``agency_placement_payments`` is replaced by ``agency_entries``: every payment is
copied as a ``payment`` entry, and every placement that was ever placed gets a
``charge`` entry for its fee and commission (a proposal owes nothing yet).
References are kept as they were and compared lower-cased through
``reference_key`` (a unique index per org), so ``QXY1`` and ``qxy1`` are one
M-Pesa code. The downgrade copies payments back and drops the rest.

Revision ID: a002
Revises: a001
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'a002'
down_revision = 'a001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'agency_entries',
        sa.Column('id', BigId, nullable=False),
        sa.Column('org_id', BigId, nullable=False),
        sa.Column('placement_id', BigId, nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('item', sa.String(length=12), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('reference', sa.String(length=60), nullable=True),
        sa.Column('reference_key', sa.String(length=60), nullable=True),
        sa.Column('dispute_id', BigId, nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', sa.String(length=254), nullable=False),
        sa.Column('legacy_id', sa.String(length=60), nullable=True),
        sa.CheckConstraint("kind IN ('charge', 'waiver', 'payment', 'refund')", name=op.f('ck_agency_entries_kind')),
        sa.CheckConstraint("item IN ('fee', 'commission')", name=op.f('ck_agency_entries_item')),
        sa.CheckConstraint('amount_minor > 0', name=op.f('ck_agency_entries_amount')),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_agency_entries_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['placement_id'], ['agency_placements.id'],
                                name=op.f('fk_agency_entries_placement_id_agency_placements'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['dispute_id'], ['agency_disputes.id'],
                                name=op.f('fk_agency_entries_dispute_id_agency_disputes'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_entries')),
        sa.UniqueConstraint('org_id', 'legacy_id', name='uq_agency_entries_legacy'),
    )
    op.create_index('uq_agency_entries_reference', 'agency_entries', ['org_id', 'reference_key'], unique=True)
    op.create_index('ix_agency_entries_placement', 'agency_entries', ['placement_id', 'kind'])
    op.create_table(
        'agency_changes',
        sa.Column('id', BigId, nullable=False),
        sa.Column('org_id', BigId, nullable=False),
        sa.Column('entity', sa.String(length=10), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('before', sa.Text(), nullable=True),
        sa.Column('after', sa.Text(), nullable=True),
        sa.Column('changed_by', sa.String(length=254), nullable=False),
        sa.Column('changed_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_agency_changes_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_changes')),
    )
    op.create_index('ix_agency_changes_entity', 'agency_changes', ['org_id', 'entity', 'entity_id', 'id'])
    op.create_table(
        'agency_inbox',
        sa.Column('id', BigId, nullable=False),
        sa.Column('org_id', BigId, nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('inbound_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('handled', sa.Boolean(), nullable=False),
        sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_agency_inbox_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_inbox')),
        sa.UniqueConstraint('org_id', 'inbound_id', name='uq_agency_inbox_inbound'),
    )
    op.create_index('ix_agency_inbox_phone', 'agency_inbox', ['org_id', 'phone', 'id'])

    op.add_column('agency_profiles', sa.Column('guarantee_days', sa.Integer(), server_default='90',
                                               nullable=False))
    op.add_column('agency_worker_files', sa.Column('doc_type', sa.String(length=20), nullable=True))
    op.add_column('agency_worker_files', sa.Column('expires_on', sa.Date(), nullable=True))
    op.add_column('agency_placements', sa.Column('stage', sa.String(length=12), nullable=True))
    op.add_column('agency_placements', sa.Column('replaces_id', sa.Integer(), nullable=True))
    op.add_column('agency_placements', sa.Column('rating', sa.Integer(), nullable=True))
    op.add_column('agency_placements', sa.Column('rating_notes', sa.Text(), server_default='', nullable=False))
    op.add_column('agency_contact_packages', sa.Column('retired_at', db.types.UTCDateTime(timezone=True),
                                                       nullable=True))
    op.add_column('agency_purchases', sa.Column('reference', sa.String(length=60), nullable=True))
    op.add_column('agency_purchases', sa.Column('reference_key', sa.String(length=60), nullable=True))
    op.add_column('agency_purchases', sa.Column('payment_request_id', sa.Integer(), nullable=True))
    op.add_column('agency_purchases', sa.Column('paid_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_index('uq_agency_purchases_reference', 'agency_purchases', ['org_id', 'reference_key'], unique=True)

    op.execute("UPDATE agency_placements SET stage = status")
    for item in ('fee', 'commission'):
        op.execute(
            "INSERT INTO agency_entries (org_id, placement_id, kind, item, amount_minor, note, at, recorded_by) "
            f"SELECT org_id, id, 'charge', '{item}', {item}_minor, '', COALESCE(placed_at, created_at), '' "
            f"FROM agency_placements WHERE status <> 'proposed' AND {item}_minor > 0")
    op.execute(
        "INSERT INTO agency_entries (org_id, placement_id, kind, item, amount_minor, reference, reference_key, "
        "note, at, recorded_by) SELECT org_id, placement_id, 'payment', kind, amount_minor, reference, "
        "LOWER(reference), '', paid_at, recorded_by FROM agency_placement_payments")
    op.drop_table('agency_placement_payments')


def downgrade() -> None:
    op.create_table(
        'agency_placement_payments',
        sa.Column('id', BigId, nullable=False),
        sa.Column('org_id', BigId, nullable=False),
        sa.Column('placement_id', BigId, nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('reference', sa.String(length=60), nullable=False),
        sa.Column('paid_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', sa.String(length=254), nullable=False),
        sa.CheckConstraint("kind IN ('fee', 'commission')", name=op.f('ck_agency_placement_payments_kind')),
        sa.CheckConstraint('amount_minor > 0', name=op.f('ck_agency_placement_payments_amount')),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_agency_placement_payments_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['placement_id'], ['agency_placements.id'],
                                name=op.f('fk_agency_placement_payments_placement_id_agency_placements'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_placement_payments')),
        sa.UniqueConstraint('org_id', 'reference', name='uq_agency_placement_payments_reference'),
    )
    op.create_index('ix_agency_placement_payments_placement', 'agency_placement_payments', ['placement_id'])
    op.execute(
        "INSERT INTO agency_placement_payments (org_id, placement_id, kind, amount_minor, reference, paid_at, "
        "recorded_by) SELECT org_id, placement_id, item, amount_minor, COALESCE(reference, 'entry-' || id), at, "
        "recorded_by FROM agency_entries WHERE kind = 'payment'")
    op.drop_index('uq_agency_purchases_reference', table_name='agency_purchases')
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of a parent table would run its cascades.
    for table, columns in (('agency_purchases', ('paid_at', 'payment_request_id', 'reference_key', 'reference')),
                           ('agency_contact_packages', ('retired_at',)),
                           ('agency_placements', ('rating_notes', 'rating', 'replaces_id', 'stage')),
                           ('agency_worker_files', ('expires_on', 'doc_type')),
                           ('agency_profiles', ('guarantee_days',))):
        for column in columns:
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    op.drop_table('agency_inbox')
    op.drop_table('agency_changes')
    op.drop_table('agency_entries')
