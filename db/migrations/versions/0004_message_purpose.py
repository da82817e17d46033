"""messages.purpose (transactional, service, marketing) and messages.secret (carries a code)

Existing rows are given the purpose their sender meant: campaign messages are
marketing; appointment, event and chama reminders and chama invoices and meeting
notices are service; the rest (receipts, replies, codes) transactional. Codes
(``staff:otp:…`` and ``community:otp:…`` keys) are secret, and the bodies of
those already sent are redacted now.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# core.outbox.REDACTED as it was written by this revision.
REDACTED = "(a one-time code: its text is not kept once sent)"
SERVICE_KEYS = ("salon:appt:%:remind:%", "community:event:%:reminder:%", "chama:%:invoice:%",
                "chama:%:instalment:%", "chama:%:meeting:%")
SECRET_KEYS = ("staff:otp:%", "community:otp:%")
FINISHED = ("sent", "delivered", "failed", "dead")


def upgrade() -> None:
    op.add_column("messages", sa.Column("purpose", sa.String(16), server_default="transactional", nullable=False))
    op.add_column("messages", sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False))
    messages = sa.table("messages", sa.column("purpose", sa.String), sa.column("secret", sa.Boolean),
                        sa.column("body", sa.Text), sa.column("status", sa.String),
                        sa.column("campaign_id", sa.Integer), sa.column("idempotency_key", sa.String))
    key = messages.c.idempotency_key
    op.execute(messages.update().where(sa.or_(*(key.like(k) for k in SERVICE_KEYS))).values(purpose="service"))
    op.execute(messages.update().where(messages.c.campaign_id.is_not(None)).values(purpose="marketing"))
    op.execute(messages.update().where(sa.or_(*(key.like(k) for k in SECRET_KEYS))).values(secret=True))
    op.execute(messages.update().where(messages.c.secret.is_(True), messages.c.status.in_(FINISHED))
               .values(body=REDACTED))


def downgrade() -> None:
    # ALTER … DROP COLUMN in place, as 0002 does: a batch rebuild of messages would trip what names it.
    op.execute("ALTER TABLE messages DROP COLUMN secret")
    op.execute("ALTER TABLE messages DROP COLUMN purpose")
