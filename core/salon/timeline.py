"""A person's timeline: everything the salon has with one phone number, newest first —
their SMS thread both ways, their appointments' history (booked, moved, checked in,
completed, no-show, paid) and what happened with them as a lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.phones import normalize_phone
from core.salon.common import require_salon
from db.models import Contact
from db.models_salon import (
    SalonAppointment,
    SalonAppointmentEvent,
    SalonConversationMessage,
    SalonLead,
    SalonLeadActivity,
    SalonService,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # message | visit | lead
    what: str  # in / out; the appointment event; the lead activity
    text: str
    actor: str | None
    ref: int  # the thread row, the appointment or the lead


def person_timeline(session: Session, actor: Actor, org_id: int, phone: str, *, limit: int = 200) -> list[TimelineEntry]:
    """The ``limit`` latest things that happened with ``phone``, newest first."""
    org = require_salon(session, actor, org_id, "salon.clients.read")
    require_salon(session, actor, org_id, "salon.leads.read")
    phone = normalize_phone(phone, org.country)
    entries: list[TimelineEntry] = []
    for m in session.scalars(select(SalonConversationMessage).where(
            SalonConversationMessage.org_id == org.id, SalonConversationMessage.phone == phone)
            .order_by(SalonConversationMessage.id.desc()).limit(limit)):
        entries.append(TimelineEntry(m.at, "message", m.direction, m.body, m.actor, m.id))
    contact_id = session.scalar(select(Contact.id).where(Contact.org_id == org.id, Contact.phone == phone))
    if contact_id is not None:
        for e, service in session.execute(
                select(SalonAppointmentEvent, SalonService.name)
                .join(SalonAppointment, SalonAppointment.id == SalonAppointmentEvent.appointment_id)
                .join(SalonService, SalonService.id == SalonAppointment.service_id)
                .where(SalonAppointment.org_id == org.id, SalonAppointment.contact_id == contact_id)
                .order_by(SalonAppointmentEvent.id.desc()).limit(limit)):
            text = service + (f": {e.reason}" if e.reason else "")
            entries.append(TimelineEntry(e.at, "visit", e.kind, text, e.actor, e.appointment_id))
    for a in session.scalars(select(SalonLeadActivity).join(SalonLead, SalonLead.id == SalonLeadActivity.lead_id)
                             .where(SalonLead.org_id == org.id, SalonLead.phone == phone)
                             .order_by(SalonLeadActivity.id.desc()).limit(limit)):
        entries.append(TimelineEntry(a.at, "lead", a.kind, a.note, a.actor, a.lead_id))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
