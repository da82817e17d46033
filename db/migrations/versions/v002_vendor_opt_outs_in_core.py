"""vendors: a vendor's per-channel opt-outs live in the core opt-outs

Revision ID: v002
Revises: v001
Create Date: 2026-11-21

Each flag becomes an opt-out of that channel's address (SMS: the phone; email:
the email, lower-cased; WhatsApp: the WhatsApp number, else the phone) with source
"vendor setting", and the three columns go. STOP by SMS, the registry's
switch and every send then read one record. SQLite drops the columns in
place (ALTER TABLE … DROP COLUMN, SQLite 3.35+).
"""
from alembic import op
import sqlalchemy as sa

import db.types


revision = 'v002'
down_revision = 'v001'
branch_labels = None
depends_on = '0002'  # opt_outs

# As the outbox keeps addresses: phones in E.164 (the registry stores them so), emails lower-cased.
ADDRESSES = {"sms": "v.phone", "email": "LOWER(v.email)", "whatsapp": "COALESCE(v.whatsapp, v.phone)"}


def upgrade() -> None:
    conn = op.get_bind()
    for channel, address in ADDRESSES.items():
        conn.execute(sa.text(
            "INSERT INTO opt_outs (org_id, channel, address, source, created_at) "
            f"SELECT DISTINCT v.org_id, '{channel}', {address}, 'vendor setting', :now FROM vendors v "
            f"WHERE v.{channel}_opt_out = :yes AND {address} IS NOT NULL AND NOT EXISTS ("
            f"  SELECT 1 FROM opt_outs o WHERE o.org_id = v.org_id AND o.channel = '{channel}' "
            f"  AND o.address = {address})"
        ).bindparams(sa.bindparam("now", db.types.utcnow(), type_=db.types.UTCDateTime(timezone=True)),
                     sa.bindparam("yes", True, type_=sa.Boolean())))
    for channel in ADDRESSES:
        if conn.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE vendors DROP COLUMN {channel}_opt_out")
        else:
            op.drop_column('vendors', f'{channel}_opt_out')


def downgrade() -> None:
    conn = op.get_bind()
    for channel, address in ADDRESSES.items():
        if conn.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE vendors ADD COLUMN {channel}_opt_out BOOLEAN NOT NULL DEFAULT 0")
        else:
            op.add_column('vendors', sa.Column(f'{channel}_opt_out', sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
        conn.execute(sa.text(
            f"UPDATE vendors SET {channel}_opt_out = :yes WHERE EXISTS ("
            f"  SELECT 1 FROM opt_outs o WHERE o.org_id = vendors.org_id AND o.channel = '{channel}' "
            f"  AND o.address = {address.replace('v.', 'vendors.')})"
        ).bindparams(sa.bindparam("yes", True, type_=sa.Boolean())))
