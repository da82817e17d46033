"""USSD sessions: the state of each dial, so any gateway process can answer any hop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId
from db.types import utcnow


class UssdSession(Base):
    __tablename__ = "ussd_sessions"

    session_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    service_code: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(60))
    # What the machine carries between hops: the back stack, the list page, choices so far.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_text: Mapped[str] = mapped_column(Text, default="")
    hops: Mapped[int] = mapped_column(default=0)
    ended: Mapped[bool] = mapped_column(default=False)
    end_status: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UssdEvent(Base):
    """Africa's Talking's end-of-session notification, kept as it came."""

    __tablename__ = "ussd_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class UssdPin(Base):
    """A feature-phone user's PIN: one per phone, whichever groups they belong to."""

    __tablename__ = "ussd_pins"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
