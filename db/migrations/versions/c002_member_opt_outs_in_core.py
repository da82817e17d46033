"""chama: a member's "no SMS" lives in the core opt-outs, with STOP

Revision ID: c002
Revises: c001
Create Date: 2026-11-21

Members who were set to get no SMS become opt-outs of their phone for their
chama's SMS (source "member setting"); the column goes. One place then says
who gets no SMS: the console's switch and a member's STOP/START move the same
record. SQLite drops the column in place (ALTER TABLE … DROP COLUMN, SQLite
3.35+), never by copying the table: the ledger's foreign keys point at it.
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'c002'
down_revision = 'c001'
branch_labels = None
depends_on = '0002'  # opt_outs


def upgrade() -> None:
    op.get_bind().execute(sa.text(
        "INSERT INTO opt_outs (org_id, channel, address, source, created_at) "
        "SELECT DISTINCT m.org_id, 'sms', c.phone, 'member setting', :now "
        "FROM chama_members m JOIN contacts c ON c.id = m.contact_id "
        "WHERE m.sms_opt_out = :yes AND c.phone IS NOT NULL AND NOT EXISTS ("
        "  SELECT 1 FROM opt_outs o WHERE o.org_id = m.org_id AND o.channel = 'sms' AND o.address = c.phone)"
    ).bindparams(sa.bindparam("now", db.types.utcnow(), type_=db.types.UTCDateTime(timezone=True)),
                 sa.bindparam("yes", True, type_=sa.Boolean())))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE chama_members DROP COLUMN sms_opt_out")
    else:
        op.drop_column('chama_members', 'sms_opt_out')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE chama_members ADD COLUMN sms_opt_out BOOLEAN NOT NULL DEFAULT 0")
    else:
        op.add_column('chama_members', sa.Column('sms_opt_out', sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))
    op.get_bind().execute(sa.text(
        "UPDATE chama_members SET sms_opt_out = :yes WHERE EXISTS ("
        "  SELECT 1 FROM opt_outs o JOIN contacts c ON c.phone = o.address "
        "  WHERE c.id = chama_members.contact_id AND o.org_id = chama_members.org_id AND o.channel = 'sms')"
    ).bindparams(sa.bindparam("yes", True, type_=sa.Boolean())))
