"""Tables of the campaigns area: campaigns, their runs, and the responses to them.

A campaign's messages are ordinary outbox rows (``messages.campaign_id``); a
run records what launching it materialised and what it skipped and why, so
the counts survive the messages' own life. The outbox reads ``campaigns.status``
when it claims: a paused or cancelled campaign's messages are never claimed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import db.models_vendors  # noqa: F401  (message_templates, which template_registrations refers to)
from db.models import Base, BigId, Message
from db.types import utcnow


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(12))
    template_name: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(500), default="all")
    # now | at | every; ``every`` is week or month for a recurring campaign.
    schedule: Mapped[str] = mapped_column(String(8), default="now")
    starts_at: Mapped[datetime | None]
    every: Mapped[str | None] = mapped_column(String(8))
    next_run_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    runs: Mapped[int] = mapped_column(default=0)
    # Auto-pause: when at least ``failure_min_sample`` messages have an outcome and more
    # than ``failure_threshold_pct`` of them failed.
    failure_threshold_pct: Mapped[int] = mapped_column(default=20)
    failure_min_sample: Mapped[int] = mapped_column(default=20)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    survey: Mapped[list[Any] | None] = mapped_column(JSON)
    response_window_hours: Mapped[int] = mapped_column(default=72)
    # A recurring campaign runs no more after this (k003).
    until: Mapped[datetime | None]
    # The auto-pause counts failures since the last resume (k003).
    resumed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignRun(Base):
    """One launch of a campaign: a recurring campaign has one per week or month."""

    __tablename__ = "campaign_runs"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued: Mapped[int] = mapped_column(default=0)
    # Recipients left out, by reason: {"opted_out": 3, "invalid": 1, "no_address": 2}.
    skipped: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CampaignResponse(Base):
    """A reply that arrived within a campaign's window; ``answer`` is a survey choice."""

    __tablename__ = "campaign_responses"
    __table_args__ = (
        UniqueConstraint("campaign_id", "inbound_id"),
        Index("ix_campaign_responses_campaign", "campaign_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(BigId)
    phone: Mapped[str] = mapped_column(String(254))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageCost(Base):
    """What the provider said a message cost, when it says (Africa's Talking, per recipient):
    written by the dispatcher with the message's ``sent``; a message sent again (an operator's
    resend of an ``unknown``) adds its second price to the first."""

    __tablename__ = "message_costs"

    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class CampaignSettings(Base):
    """An org's campaign settings: quiet hours in its own clock (no campaign message leaves
    between ``quiet_from`` and ``quiet_until``) and its DLT entity ID for Indian SMS."""

    __tablename__ = "campaign_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    quiet_from: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_until: Mapped[str] = mapped_column(String(5), default="08:00")
    dlt_entity_id: Mapped[str | None] = mapped_column(String(40))


class DltReplyTemplate(Base):
    """The DLT template ID an org registered for SMS of its own that no campaign template
    covers (a ``kind`` of :data:`core.providers.india.REPLY_KINDS`: STOP's confirmation, answers,
    reminders): what the outbox attaches to each such SMS to an Indian number."""

    __tablename__ = "dlt_reply_templates"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    dlt_template_id: Mapped[str] = mapped_column(String(40))


class TemplateRegistration(Base):
    """What a template is registered as elsewhere: its DLT template ID (Indian SMS) and the
    language of its approved WhatsApp template."""

    __tablename__ = "template_registrations"

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("message_templates.id", ondelete="CASCADE"),
                                             primary_key=True)
    dlt_template_id: Mapped[str | None] = mapped_column(String(40))
    whatsapp_language: Mapped[str | None] = mapped_column(String(15))


# A campaign's progress is counted over its outbox rows.
Index("ix_messages_campaign_status", Message.campaign_id, Message.status)
