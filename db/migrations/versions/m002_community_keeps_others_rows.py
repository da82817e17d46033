"""community: deleting a row never takes other people's rows with it; ids are never reused;
accounts have a status (active, suspended, or the "Removed member" placeholder)

Revision ID: m002
Revises: m001
Create Date: 2026-11-22

The ON DELETE CASCADEs of m001 let one account's removal destroy what other
people built on it. From here:

* registrations: ``account_id`` becomes nullable and SET NULL (a removed
  account leaves the event's count and history), ``event_id`` NO ACTION
  (events are cancelled, never deleted);
* connections, posts, comments and listings: their profile NO ACTION, so the
  database refuses to delete a profile others' rows still name;
* comments: ``post_id`` nullable and SET NULL (a removed post leaves its
  comments to their authors).

Deleting an org still removes everything of it: every table's ``org_id``
cascades from ``orgs``, and NO ACTION is checked when that one statement ends.

On SQLite every community table gets ``AUTOINCREMENT`` (an id freed by a
deletion is never handed out again, so audit rows stay unambiguous). SQLite
changes a table's definition only by rebuilding it (Alembic batch mode), and
dropping the old copy of a parent table with foreign keys on would run its
cascades, so the rebuild runs with foreign keys off, checks every key with
``PRAGMA foreign_key_check`` before it commits, and turns them back on. The
pragma cannot change inside a transaction: the migration commits what came
before it (whole revisions, with their version rows) and opens a new one.

The downgrade restores m001's definitions; registrations and comments that
lost their account or post cannot exist there and are deleted, and the
"Removed member" becomes an account with an address nobody has.
"""
from collections.abc import Callable

from alembic import op
import sqlalchemy as sa

import db.types


revision = 'm002'
down_revision = 'm001'
branch_labels = None
depends_on = None

# Children before parents is not needed (keys are off while rebuilding); the order is m001's.
TABLES = ('community_accounts', 'community_import_batches', 'community_otps', 'community_bookmarks',
          'community_migration_records', 'community_notifications', 'community_profiles',
          'community_connections', 'community_events', 'community_listings', 'community_posts',
          'community_comments', 'community_registrations', 'community_reports')

# (table, column, referred table, nullable, ondelete after m002, ondelete in m001)
KEYS = (
    ('community_registrations', 'account_id', 'community_accounts', True, 'SET NULL', 'CASCADE'),
    ('community_registrations', 'event_id', 'community_events', False, None, 'CASCADE'),
    ('community_connections', 'requester_profile_id', 'community_profiles', False, None, 'CASCADE'),
    ('community_connections', 'profile_low_id', 'community_profiles', False, None, 'CASCADE'),
    ('community_connections', 'profile_high_id', 'community_profiles', False, None, 'CASCADE'),
    ('community_posts', 'author_profile_id', 'community_profiles', False, None, 'CASCADE'),
    ('community_comments', 'post_id', 'community_posts', True, 'SET NULL', 'CASCADE'),
    ('community_comments', 'author_profile_id', 'community_profiles', False, None, 'CASCADE'),
    ('community_listings', 'profile_id', 'community_profiles', False, None, 'CASCADE'),
)

REACHABLE_BEFORE = 'email IS NOT NULL OR phone IS NOT NULL'
REACHABLE_AFTER = "email IS NOT NULL OR phone IS NOT NULL OR status = 'placeholder'"


def _fk(table: str, column: str, referred: str) -> str:
    return op.f(f'fk_{table}_{column}_{referred}')  # long names are cut to the dialect's limit, as m001's were


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _with_foreign_keys_off(work: Callable[[], None]) -> None:
    """Run ``work`` in a transaction of its own with SQLite's foreign keys off, checked before it commits."""
    bind = op.get_bind()
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN IMMEDIATE')
    try:
        work()
        broken = bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'm002 would leave rows whose keys point nowhere: {broken[:5]}')
    except BaseException:
        bind.exec_driver_sql('ROLLBACK')
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN IMMEDIATE')
        raise
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=ON')
    bind.exec_driver_sql('BEGIN IMMEDIATE')


def _change(after: bool) -> None:
    sqlite = _sqlite()
    for table in TABLES:
        kwargs = {'recreate': 'always', 'table_kwargs': {'sqlite_autoincrement': after}} if sqlite else {}
        with op.batch_alter_table(table, **kwargs) as batch:
            if table == 'community_accounts':
                if after:
                    batch.add_column(sa.Column('status', sa.String(length=12), nullable=False,
                                               server_default='active'))
                    batch.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
                    batch.add_column(sa.Column('status_changed_at', db.types.UTCDateTime(timezone=True),
                                               nullable=True))
                batch.drop_constraint(op.f('ck_community_accounts_reachable'), type_='check')
                batch.create_check_constraint(op.f('ck_community_accounts_reachable'),
                                              sa.text(REACHABLE_AFTER if after else REACHABLE_BEFORE))
                if after:
                    batch.create_check_constraint(op.f('ck_community_accounts_status'),
                                                  sa.text("status IN ('active', 'suspended', 'placeholder')"))
                else:
                    batch.drop_constraint(op.f('ck_community_accounts_status'), type_='check')
                    batch.drop_column('status_changed_at')
                    batch.drop_column('status_reason')
                    batch.drop_column('status')
            for name, column, referred, nullable, ondelete, before in KEYS:
                if name != table:
                    continue
                batch.drop_constraint(_fk(table, column, referred), type_='foreignkey')
                batch.create_foreign_key(_fk(table, column, referred), referred, [column], ['id'],
                                         ondelete=ondelete if after else before)
                if nullable:
                    batch.alter_column(column, existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                       nullable=after)


def upgrade() -> None:
    if _sqlite():
        _with_foreign_keys_off(lambda: _change(True))
    else:
        _change(True)


def downgrade() -> None:
    op.execute('DELETE FROM community_registrations WHERE account_id IS NULL')
    op.execute('DELETE FROM community_comments WHERE post_id IS NULL')
    # m001 has no placeholder: the "Removed member" keeps the rows it holds under an address nobody has.
    op.execute("UPDATE community_accounts SET email = 'removed-member-' || id || '@invalid' "
               "WHERE status = 'placeholder'")
    if _sqlite():
        _with_foreign_keys_off(lambda: _change(False))
    else:
        _change(False)
