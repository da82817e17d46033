"""What a salon holds about a person, for :mod:`core.people`: leads (with their activities and follow-ups),
conversations, form submissions, the client record and appointments.

Erasing keeps the appointments, the salon's takings, with their prices and
times but without the client or any note; the rest goes.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.people import Erasure, Person, Piece, Section, blank, ids, register, remove, rows
from db.models_salon import (
    SalonAppointment,
    SalonAppointmentEvent,
    SalonClient,
    SalonConversationMessage,
    SalonFormHit,
    SalonLead,
    SalonLeadActivity,
    SalonLeadForm,
    SalonTask,
)


def _lead_ids(session: Session, person: Person) -> list[int]:
    match = [SalonLead.contact_id.in_(person.contact_ids)]
    if person.phone:
        match.append(SalonLead.phone == person.phone)
    if person.email:
        match.append(SalonLead.email == person.email)
    return ids(session, SalonLead.id, SalonLead.org_id == person.org.id, or_(*match))


def _conversation(person: Person, leads: list[int]) -> list:
    match = [SalonConversationMessage.contact_id.in_(person.contact_ids), SalonConversationMessage.lead_id.in_(leads)]
    if person.phone:
        match.append(SalonConversationMessage.phone == person.phone)
    return [SalonConversationMessage.org_id == person.org.id, or_(*match)]


def _form_hits(person: Person) -> list:
    forms = select(SalonLeadForm.id).where(SalonLeadForm.org_id == person.org.id)
    return [SalonFormHit.form_id.in_(forms), SalonFormHit.phone == person.phone]


def _appointments(session: Session, person: Person) -> list[int]:
    return ids(session, SalonAppointment.id, SalonAppointment.org_id == person.org.id,
               SalonAppointment.contact_id.in_(person.contact_ids))


def export(session: Session, person: Person) -> Section:
    leads = _lead_ids(session, person)
    appointments = _appointments(session, person)
    section = Section({
        "leads": rows(session, SalonLead, SalonLead.id.in_(leads)),
        "lead_activities": rows(session, SalonLeadActivity, SalonLeadActivity.lead_id.in_(leads)),
        "follow_up_tasks": rows(session, SalonTask, SalonTask.lead_id.in_(leads)),
        "conversation": rows(session, SalonConversationMessage, *_conversation(person, leads)),
        "form_submissions": rows(session, SalonFormHit, *_form_hits(person)) if person.phone else [],
        "client_record": rows(session, SalonClient, SalonClient.org_id == person.org.id,
                              SalonClient.contact_id.in_(person.contact_ids)),
        "appointments": rows(session, SalonAppointment, SalonAppointment.id.in_(appointments)),
        "appointment_history": rows(session, SalonAppointmentEvent,
                                    SalonAppointmentEvent.appointment_id.in_(appointments)),
    })
    section.about = [("salon_lead", i) for i in leads]
    section.about += [("salon_conversation_message", r["id"]) for r in section.rows["conversation"]]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    leads = _lead_ids(session, person)
    appointments = _appointments(session, person)
    remove(session, erasure, "salon conversation messages", SalonConversationMessage, *_conversation(person, leads))
    remove(session, erasure, "salon follow-up tasks", SalonTask, SalonTask.lead_id.in_(leads))
    remove(session, erasure, "salon lead activities", SalonLeadActivity, SalonLeadActivity.lead_id.in_(leads))
    remove(session, erasure, "salon leads", SalonLead, SalonLead.id.in_(leads))
    if person.phone:
        remove(session, erasure, "salon form submissions", SalonFormHit, *_form_hits(person))
    remove(session, erasure, "salon client records", SalonClient, SalonClient.org_id == person.org.id,
           SalonClient.contact_id.in_(person.contact_ids))
    blank(session, erasure, "salon appointments", SalonAppointment,
          {"contact_id": None, "notes": "", "cancel_reason": None}, SalonAppointment.id.in_(appointments))
    blank(session, erasure, "salon appointment history", SalonAppointmentEvent, {"reason": None, "details": None},
          SalonAppointmentEvent.appointment_id.in_(appointments))


TABLES = (
    "salon_appointments",
    "salon_appointment_events",
    "salon_clients",
    "salon_conversation_messages",
    "salon_form_hits",
    "salon_leads",
    "salon_lead_activities",
    "salon_tasks",
)

register(Piece("core.salon", export, erase, covers=TABLES))
