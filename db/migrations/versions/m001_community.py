"""community: accounts, profiles (one primary each), sign-in codes, events and
registrations, connections, notifications, posts, comments, reports, listings,
bookmarks, and the migration batches from the old platform

On PostgreSQL staff search uses trigram indexes, which need ``pg_trgm``; it
is a trusted extension, so a database owner without superuser rights can
create it. The downgrade leaves the extension in place: other areas may use it.

Revision ID: m001
Revises: 0001
Create Date: 2026-11-21 02:30:00
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'm001'
down_revision = '0001'
branch_labels = ('community',)
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')

    op.create_table('community_accounts',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email_verified', sa.Boolean(), nullable=False),
    sa.Column('phone_verified', sa.Boolean(), nullable=False),
    sa.Column('migrated', sa.Boolean(), nullable=False),
    sa.Column('last_sign_in_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name=op.f('ck_community_accounts_reachable')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_accounts_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_accounts')),
    sa.UniqueConstraint('org_id', 'email', name='uq_community_accounts_email'),
    sa.UniqueConstraint('org_id', 'phone', name='uq_community_accounts_phone')
    )
    op.create_table('community_import_batches',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('file', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rolled_back_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_import_batches_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_import_batches'))
    )
    op.create_table('community_otps',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_otps_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_otps'))
    )
    with op.batch_alter_table('community_otps', schema=None) as batch_op:
        batch_op.create_index('ix_community_otps_address', ['org_id', 'address', 'created_at'], unique=False)

    op.create_table('community_bookmarks',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('account_id', _id(), nullable=False),
    sa.Column('target_kind', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'], name=op.f('fk_community_bookmarks_account_id_community_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_bookmarks_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_bookmarks')),
    sa.UniqueConstraint('account_id', 'target_kind', 'target_id', name=op.f('uq_community_bookmarks_account_id'))
    )
    op.create_table('community_migration_records',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('batch_id', _id(), nullable=False),
    sa.Column('legacy_id', sa.String(length=60), nullable=False),
    sa.Column('account_id', _id(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'], name=op.f('fk_community_migration_records_account_id_community_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['batch_id'], ['community_import_batches.id'], name=op.f('fk_community_migration_records_batch_id_community_import_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_migration_records_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_migration_records')),
    sa.UniqueConstraint('batch_id', 'legacy_id', name=op.f('uq_community_migration_records_batch_id'))
    )
    with op.batch_alter_table('community_migration_records', schema=None) as batch_op:
        batch_op.create_index('ix_community_migration_records_legacy', ['org_id', 'legacy_id'], unique=False)

    op.create_table('community_notifications',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('account_id', _id(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('read_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'], name=op.f('fk_community_notifications_account_id_community_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_notifications_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_notifications'))
    )
    with op.batch_alter_table('community_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_community_notifications_account', ['account_id', 'id'], unique=False)

    op.create_table('community_profiles',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('account_id', _id(), nullable=False),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('avatar_file', sa.String(length=300), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('innovator', 'mentor', 'investor', 'academic_student', 'academic_institution', 'organization', 'professional')", name=op.f('ck_community_profiles_type')),
    sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'], name=op.f('fk_community_profiles_account_id_community_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_profiles_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_profiles')),
    sa.UniqueConstraint('org_id', 'username', name='uq_community_profiles_username')
    )
    with op.batch_alter_table('community_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_community_profiles_account', ['account_id'], unique=False)
        batch_op.create_index('ix_community_profiles_search', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index('uq_community_profiles_one_primary', ['account_id'], unique=True, sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))

    op.create_table('community_connections',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('requester_profile_id', _id(), nullable=False),
    sa.Column('profile_low_id', _id(), nullable=False),
    sa.Column('profile_high_id', _id(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected', 'blocked')", name=op.f('ck_community_connections_status')),
    sa.CheckConstraint('profile_low_id < profile_high_id', name=op.f('ck_community_connections_pair')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_connections_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_high_id'], ['community_profiles.id'], name=op.f('fk_community_connections_profile_high_id_community_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_low_id'], ['community_profiles.id'], name=op.f('fk_community_connections_profile_low_id_community_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_profile_id'], ['community_profiles.id'], name=op.f('fk_community_connections_requester_profile_id_community_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_connections')),
    sa.UniqueConstraint('profile_low_id', 'profile_high_id', name=op.f('uq_community_connections_profile_low_id'))
    )
    op.create_table('community_events',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('organiser_profile_id', _id(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('starts_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('virtual_link', sa.String(length=300), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('registered_count', sa.Integer(), nullable=False),
    sa.Column('featured', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity > 0 AND registered_count >= 0 AND registered_count <= capacity AND ends_at > starts_at', name=op.f('ck_community_events_places')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_events_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_profile_id'], ['community_profiles.id'], name=op.f('fk_community_events_organiser_profile_id_community_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_events'))
    )
    with op.batch_alter_table('community_events', schema=None) as batch_op:
        batch_op.create_index('ix_community_events_search', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index('ix_community_events_start', ['org_id', 'starts_at'], unique=False)

    op.create_table('community_listings',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('profile_id', _id(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('product', 'service') AND status IN ('active', 'sold', 'inactive') AND price_minor >= 0", name=op.f('ck_community_listings_sane')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_listings_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['community_profiles.id'], name=op.f('fk_community_listings_profile_id_community_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_listings'))
    )
    with op.batch_alter_table('community_listings', schema=None) as batch_op:
        batch_op.create_index('ix_community_listings_search', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.create_table('community_posts',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('author_profile_id', _id(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('legacy_id', sa.String(length=60), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_profile_id'], ['community_profiles.id'], name=op.f('fk_community_posts_author_profile_id_community_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_posts_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_posts')),
    sa.UniqueConstraint('org_id', 'legacy_id', name=op.f('uq_community_posts_org_id'))
    )
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.create_index('ix_community_posts_search', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.create_table('community_comments',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('post_id', _id(), nullable=False),
    sa.Column('author_profile_id', _id(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_profile_id'], ['community_profiles.id'], name=op.f('fk_community_comments_author_profile_id_community_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_comments_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_posts.id'], name=op.f('fk_community_comments_post_id_community_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_comments'))
    )
    with op.batch_alter_table('community_comments', schema=None) as batch_op:
        batch_op.create_index('ix_community_comments_post', ['post_id', 'id'], unique=False)

    op.create_table('community_registrations',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('event_id', _id(), nullable=False),
    sa.Column('account_id', _id(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attended_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled', 'attended')", name=op.f('ck_community_registrations_status')),
    sa.ForeignKeyConstraint(['account_id'], ['community_accounts.id'], name=op.f('fk_community_registrations_account_id_community_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['community_events.id'], name=op.f('fk_community_registrations_event_id_community_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_registrations_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_registrations')),
    sa.UniqueConstraint('event_id', 'account_id', name=op.f('uq_community_registrations_event_id'))
    )
    with op.batch_alter_table('community_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_community_registrations_status', ['event_id', 'status', 'id'], unique=False)

    op.create_table('community_reports',
    sa.Column('id', _id(), nullable=False),
    sa.Column('org_id', _id(), nullable=False),
    sa.Column('post_id', _id(), nullable=True),
    sa.Column('comment_id', _id(), nullable=True),
    sa.Column('reporter_account_id', _id(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(post_id IS NULL) <> (comment_id IS NULL)', name=op.f('ck_community_reports_one_target')),
    sa.ForeignKeyConstraint(['comment_id'], ['community_comments.id'], name=op.f('fk_community_reports_comment_id_community_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_community_reports_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_posts.id'], name=op.f('fk_community_reports_post_id_community_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_account_id'], ['community_accounts.id'], name=op.f('fk_community_reports_reporter_account_id_community_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_reports'))
    )
    with op.batch_alter_table('community_reports', schema=None) as batch_op:
        batch_op.create_index('ix_community_reports_open', ['org_id', 'status', 'id'], unique=False)


def downgrade() -> None:


    with op.batch_alter_table('community_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_community_reports_open')

    op.drop_table('community_reports')
    with op.batch_alter_table('community_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_community_registrations_status')

    op.drop_table('community_registrations')
    with op.batch_alter_table('community_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_community_comments_post')

    op.drop_table('community_comments')
    with op.batch_alter_table('community_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_community_posts_search', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.drop_table('community_posts')
    with op.batch_alter_table('community_listings', schema=None) as batch_op:
        batch_op.drop_index('ix_community_listings_search', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.drop_table('community_listings')
    with op.batch_alter_table('community_events', schema=None) as batch_op:
        batch_op.drop_index('ix_community_events_start')
        batch_op.drop_index('ix_community_events_search', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.drop_table('community_events')
    op.drop_table('community_connections')
    with op.batch_alter_table('community_profiles', schema=None) as batch_op:
        batch_op.drop_index('uq_community_profiles_one_primary', sqlite_where=sa.text('is_primary'), postgresql_where=sa.text('is_primary'))
        batch_op.drop_index('ix_community_profiles_search', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index('ix_community_profiles_account')

    op.drop_table('community_profiles')
    with op.batch_alter_table('community_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_community_notifications_account')

    op.drop_table('community_notifications')
    with op.batch_alter_table('community_migration_records', schema=None) as batch_op:
        batch_op.drop_index('ix_community_migration_records_legacy')

    op.drop_table('community_migration_records')
    op.drop_table('community_bookmarks')
    with op.batch_alter_table('community_otps', schema=None) as batch_op:
        batch_op.drop_index('ix_community_otps_address')

    op.drop_table('community_otps')
    op.drop_table('community_import_batches')
    op.drop_table('community_accounts')
