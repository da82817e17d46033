"""Tables of the vendor registry (MSMEs a campaigns org reaches out to) and of
message templates (shared by every kind of org).

Every row carries ``org_id``. Phones are E.164; GSTIN, Udyam number and PAN
are stored upper-case and canonical, so matching is plain equality. A GSTIN,
an Udyam number or a phone belongs to at most one vendor of an org (partial
unique indexes: blanks do not clash). The audience filters compare sector,
district and state case-insensitively, so their indexes are on ``lower()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId
from db.types import utcnow

SIZES = ("micro", "small", "medium")
VENDOR_STATUSES = ("active", "inactive")
CHANNELS = ("sms", "email", "whatsapp")


def _unique_when_set(column: str) -> Index:
    where = text(f"{column} IS NOT NULL")
    return Index(f"uq_vendors_org_{column}", "org_id", column, unique=True,
                 sqlite_where=where, postgresql_where=where)


class Vendor(Base):
    """One small business in a programme's registry."""

    __tablename__ = "vendors"
    __table_args__ = (
        _unique_when_set("gstin"),
        _unique_when_set("udyam"),
        _unique_when_set("phone"),
        Index("ix_vendors_org_name", "org_id", "business_name", "id"),
        Index("ix_vendors_org_sector", "org_id", text("lower(sector)")),
        Index("ix_vendors_org_district", "org_id", text("lower(district)")),
        Index("ix_vendors_org_state", "org_id", text("lower(state)")),
        Index("ix_vendors_org_size", "org_id", "size"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    business_name: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    whatsapp: Mapped[str | None] = mapped_column(String(20))
    gstin: Mapped[str | None] = mapped_column(String(15))
    udyam: Mapped[str | None] = mapped_column(String(19))
    pan: Mapped[str | None] = mapped_column(String(10))
    sector: Mapped[str] = mapped_column(String(80), default="")
    district: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(80), default="")
    size: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="active")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Opt-outs are the core's (opt_outs, by address): see core.vendors.registry.views.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Template(Base):
    """A message an org sends again and again, with ``{{ variables }}`` filled per recipient."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_message_templates_org_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    whatsapp_template_name: Mapped[str | None] = mapped_column(String(120))
    whatsapp_params: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
