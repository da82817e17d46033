"""salon: services, hours, exceptions, blocks, settings, appointments and their history, clients

On PostgreSQL, appointments of one professional whose blocked ranges (service
time plus buffers) overlap are refused by an exclusion constraint, unless
cancelled. That needs ``btree_gist`` for the equality parts; it is a trusted
extension, so a database owner without superuser rights can create it. The
downgrade leaves the extension in place: other areas may use it too.

Revision ID: s001
Revises: 0001
Create Date: 2026-11-21 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 's001'
down_revision = '0001'
branch_labels = ('salon',)
depends_on = None

NO_OVERLAP = "ex_salon_appointments_no_overlap"


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('salon_services',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('buffer_before', sa.Integer(), nullable=False),
    sa.Column('buffer_after', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0 AND buffer_before >= 0 AND buffer_after >= 0 AND price_minor >= 0', name=op.f('ck_salon_services_sane')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_services_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_services')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_salon_services_org_id'))
    )
    op.create_table('salon_settings',
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('max_advance_days', sa.Integer(), nullable=False),
    sa.Column('slot_step_minutes', sa.Integer(), nullable=False),
    sa.Column('reminder_minutes', sa.JSON(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_settings_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_salon_settings'))
    )
    op.create_table('salon_weekly_hours',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('professional_id', _id(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.CheckConstraint("weekday BETWEEN 0 AND 6 AND start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute AND kind IN ('work', 'break')", name=op.f('ck_salon_weekly_hours_sane')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_weekly_hours_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['users.id'], name=op.f('fk_salon_weekly_hours_professional_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_weekly_hours'))
    )
    with op.batch_alter_table('salon_weekly_hours', schema=None) as batch_op:
        batch_op.create_index('ix_salon_weekly_hours_pro', ['org_id', 'professional_id'], unique=False)

    op.create_table('salon_date_exceptions',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('professional_id', _id(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=True),
    sa.Column('end_minute', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint('(start_minute IS NULL AND end_minute IS NULL) OR (start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)', name=op.f('ck_salon_date_exceptions_sane')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_date_exceptions_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['users.id'], name=op.f('fk_salon_date_exceptions_professional_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_date_exceptions'))
    )
    with op.batch_alter_table('salon_date_exceptions', schema=None) as batch_op:
        batch_op.create_index('ix_salon_date_exceptions_day', ['org_id', 'day'], unique=False)

    op.create_table('salon_time_blocks',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('professional_id', _id(), nullable=False),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_salon_time_blocks_ordered')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_time_blocks_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['users.id'], name=op.f('fk_salon_time_blocks_professional_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_time_blocks'))
    )
    with op.batch_alter_table('salon_time_blocks', schema=None) as batch_op:
        batch_op.create_index('ix_salon_time_blocks_pro', ['org_id', 'professional_id', 'starts_at'], unique=False)

    op.create_table('salon_appointments',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('professional_id', _id(), nullable=False),
    sa.Column('service_id', _id(), nullable=False),
    sa.Column('contact_id', _id(), nullable=True),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_start', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_end', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')", name=op.f('ck_salon_appointments_status')),
    sa.CheckConstraint('blocked_start <= starts_at AND starts_at < ends_at AND ends_at <= blocked_end', name=op.f('ck_salon_appointments_ordered')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_salon_appointments_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_appointments_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['users.id'], name=op.f('fk_salon_appointments_professional_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['salon_services.id'], name=op.f('fk_salon_appointments_service_id_salon_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_appointments'))
    )
    with op.batch_alter_table('salon_appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salon_appointments_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_salon_appointments_org_start', ['org_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_salon_appointments_pro_time', ['org_id', 'professional_id', 'blocked_start'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(f"""
            ALTER TABLE salon_appointments ADD CONSTRAINT {NO_OVERLAP}
            EXCLUDE USING gist (
                org_id WITH =,
                professional_id WITH =,
                tstzrange(blocked_start, blocked_end, '[)') WITH &&
            ) WHERE (status <> 'cancelled')
        """)

    op.create_table('salon_appointment_events',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('appointment_id', _id(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('from_start', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('to_start', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['salon_appointments.id'], name=op.f('fk_salon_appointment_events_appointment_id_salon_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_appointment_events_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_appointment_events'))
    )
    with op.batch_alter_table('salon_appointment_events', schema=None) as batch_op:
        batch_op.create_index('ix_salon_appointment_events_appt', ['appointment_id', 'id'], unique=False)

    op.create_table('salon_clients',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('contact_id', _id(), nullable=False),
    sa.Column('first_visit_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_visit_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('visit_count', sa.Integer(), nullable=False),
    sa.Column('lifetime_spend_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_salon_clients_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_salon_clients_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_clients')),
    sa.UniqueConstraint('org_id', 'contact_id', name=op.f('uq_salon_clients_org_id'))
    )


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints, the exclusion constraint included.
    for table in ('salon_clients', 'salon_appointment_events', 'salon_appointments', 'salon_time_blocks',
                  'salon_date_exceptions', 'salon_weekly_hours', 'salon_settings', 'salon_services'):
        op.drop_table(table)
