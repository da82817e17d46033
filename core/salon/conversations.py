"""Conversations: each person's SMS thread with the salon.

An inbound SMS lands in the thread of the sender's phone. A sender who is
neither a contact nor a lead of the salon becomes a lead (source ``sms``) with
the text as their message; a known lead's text counts as a repeat contact. Staff
replies go through the outbox, and the thread shows each reply's delivery
status from its outbox row. A first reply to a lead is their first response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput, NotFound
from core.optouts import refuse_if_opted_out
from core.outbox import enqueue
from core.phones import normalize_phone
from core.salon.common import require_salon
from core.salon.leads import LeadDetails, capture_lead, find_lead, responded
from db.models import Contact, Message, Org
from db.models_salon import SalonConversationMessage
from db.types import utcnow


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    direction: str  # "in" or "out"
    body: str
    at: datetime
    actor: str | None
    status: str | None  # an outgoing message's outbox status: queued, sent, delivered, failed…


@dataclass(frozen=True)
class ThreadView:
    phone: str
    name: str
    contact_id: int | None
    lead_id: int | None
    last_id: int
    last_body: str
    last_direction: str
    last_at: datetime


def record_inbound(session: Session, org_id: int, phone: str, text: str, *, now: datetime | None = None,
                   inbound_id: int | None = None) -> int:
    """Put an SMS from ``phone`` into its thread, in the caller's unit of work; returns the thread row id.

    Unknown senders become leads; a lead's message is a repeat contact (it raises their score and
    brings their follow-up forward). With ``inbound_id`` (the core's inbound message) a redelivery
    changes nothing."""
    now = now or utcnow()
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("That organisation does not exist.")
    if inbound_id is not None:
        seen = session.scalar(select(SalonConversationMessage.id).where(
            SalonConversationMessage.org_id == org.id, SalonConversationMessage.inbound_id == inbound_id))
        if seen is not None:
            return seen
    phone = normalize_phone(phone, org.country)
    contact_id = session.scalar(select(Contact.id).where(Contact.org_id == org.id, Contact.phone == phone))
    lead = find_lead(session, org.id, phone)
    if lead is not None or contact_id is None:
        lead, _ = capture_lead(session, org, "sms", LeadDetails(phone=phone, message=text.strip()),
                               source="sms", now=now)
        lead.contact_id = lead.contact_id or contact_id
    row = SalonConversationMessage(org_id=org.id, phone=phone, contact_id=contact_id,
                                   lead_id=lead.id if lead is not None else None, direction="in",
                                   body=text.strip(), inbound_id=inbound_id, at=now)
    session.add(row)
    session.flush()
    return row.id


def reply(session: Session, actor: Actor, org_id: int, phone: str, text: str, *,
          now: datetime | None = None) -> ThreadMessage:
    """Staff answer in a thread: the SMS goes to the outbox with the reply in the same transaction."""
    now = now or utcnow()
    org = require_salon(session, actor, org_id, "salon.leads.write")
    if not text.strip():
        raise InvalidInput("Write something to send.")
    phone = normalize_phone(phone, org.country)
    contact = session.execute(select(Contact.id, Contact.name).where(Contact.org_id == org.id,
                                                                     Contact.phone == phone)).one_or_none()
    contact_id = contact.id if contact else None
    refuse_if_opted_out(session, org.id, "sms", phone, contact.name if contact and contact.name else phone)
    lead = find_lead(session, org.id, phone)
    row = SalonConversationMessage(org_id=org.id, phone=phone, contact_id=contact_id,
                                   lead_id=lead.id if lead is not None else None, direction="out",
                                   body=text.strip(), actor=actor.label, at=now)
    session.add(row)
    session.flush()
    row.message_id = enqueue(session, org.id, to=phone, body=text.strip(), contact_id=contact_id, purpose="service",
                             idempotency_key=f"salon:reply:{row.id}")
    if lead is not None:
        responded(session, lead, actor, "messaged", now, text.strip())
    audit.record(session, actor, "salon.conversation.reply", "salon_conversation_message", row.id, org_id=org.id,
                 after={"phone": phone})
    session.commit()
    return ThreadMessage(row.id, "out", row.body, row.at, row.actor, "queued")


def thread(session: Session, actor: Actor, org_id: int, phone: str, *, before_id: int | None = None,
           limit: int = 100) -> list[ThreadMessage]:
    """The thread with ``phone``, newest first (keyset by id), with each reply's delivery status."""
    org = require_salon(session, actor, org_id, "salon.leads.read")
    phone = normalize_phone(phone, org.country)
    query = (select(SalonConversationMessage, Message.status)
             .outerjoin(Message, Message.id == SalonConversationMessage.message_id)
             .where(SalonConversationMessage.org_id == org.id, SalonConversationMessage.phone == phone))
    if before_id is not None:
        query = query.where(SalonConversationMessage.id < before_id)
    rows = session.execute(query.order_by(SalonConversationMessage.id.desc()).limit(limit))
    return [ThreadMessage(m.id, m.direction, m.body, m.at, m.actor, status) for m, status in rows]


def inbox(session: Session, actor: Actor, org_id: int, *, limit: int = 50) -> list[ThreadView]:
    """The threads, the most recently active first, each with its last message."""
    org = require_salon(session, actor, org_id, "salon.leads.read")
    last = (select(func.max(SalonConversationMessage.id).label("id"))
            .where(SalonConversationMessage.org_id == org.id)
            .group_by(SalonConversationMessage.phone).subquery())
    rows = session.execute(
        select(SalonConversationMessage, Contact.name)
        .join(last, last.c.id == SalonConversationMessage.id)
        .outerjoin(Contact, Contact.id == SalonConversationMessage.contact_id)
        .order_by(SalonConversationMessage.id.desc()).limit(limit))
    views = []
    for m, contact_name in rows:
        lead = find_lead(session, org.id, m.phone)
        name = contact_name or (lead.name if lead is not None else "") or m.phone
        views.append(ThreadView(m.phone, name, m.contact_id, lead.id if lead is not None else None, m.id, m.body,
                                m.direction, m.at))
    return views
