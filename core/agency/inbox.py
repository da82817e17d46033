"""The agency's SMS inbox: what workers and employers texted that no keyword answered, one conversation
per phone, with staff's replies in the same thread.

Staff see who wrote (the worker's or employer's name) and a worker's number masked, as everywhere; a
reply goes to the thread's phone through the outbox without staff seeing it. Telling a worker that an
employer is interested (:func:`invite_worker`) is an SMS of the same kind, and her YES or NO comes back
through :mod:`core.agency.sms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, outbox
from core.actors import Actor
from core.agency.base import agency_org, mask_phone, phone_of, row_of
from core.agency.placements import shown_status
from core.errors import InvalidInput, NotFound
from core.optouts import refuse_if_opted_out
from db.models import Contact
from db.models_agency import AgencyEmployer, AgencyInboxMessage, AgencyPlacement, AgencyWorker
from db.types import utcnow


def record_inbound(session: Session, org_id: int, phone: str, body: str, *, inbound_id: int | None,
                   at: datetime | None = None) -> None:
    """Keep a text in its phone's conversation (once per inbound message; the caller commits)."""
    if inbound_id is not None and session.scalar(select(AgencyInboxMessage.id).where(
            AgencyInboxMessage.org_id == org_id, AgencyInboxMessage.inbound_id == inbound_id)):
        return
    session.add(AgencyInboxMessage(org_id=org_id, phone=phone, direction="in", body=body, inbound_id=inbound_id,
                                   at=at or utcnow()))
    session.flush()


@dataclass(frozen=True)
class ThreadView:
    id: int  # the newest message's id: what `reply` takes
    who: str  # "worker Achieng Otieno", "employer Joy Kamau" or "unknown sender"
    phone: str  # masked for a worker; whole for employers and strangers, who are not sold
    last_text: str
    last_at: datetime
    waiting: int  # messages in not yet handled


def _who(session: Session, org_id: int, phone: str) -> tuple[str, bool]:
    contact = session.scalar(select(Contact.id).where(Contact.org_id == org_id, Contact.phone == phone))
    if contact is not None:
        worker = session.scalar(select(AgencyWorker.name).where(AgencyWorker.org_id == org_id,
                                                                AgencyWorker.contact_id == contact))
        if worker:
            return f"worker {worker}", True
        employer = session.scalar(select(AgencyEmployer.name).where(AgencyEmployer.org_id == org_id,
                                                                    AgencyEmployer.contact_id == contact))
        if employer:
            return f"employer {employer}", False
    return "unknown sender", False


def list_threads(session: Session, actor: Actor, org_id: int, *, waiting_only: bool = False,
                 limit: int = 50) -> list[ThreadView]:
    """Conversations, the newest first."""
    agency_org(session, actor, org_id, "agency.read")
    newest = (select(func.max(AgencyInboxMessage.id)).where(AgencyInboxMessage.org_id == org_id)
              .group_by(AgencyInboxMessage.phone))
    waiting = dict(session.execute(
        select(AgencyInboxMessage.phone, func.count()).where(
            AgencyInboxMessage.org_id == org_id, AgencyInboxMessage.direction == "in",
            AgencyInboxMessage.handled.is_(False)).group_by(AgencyInboxMessage.phone)).all())
    query = (select(AgencyInboxMessage).where(AgencyInboxMessage.id.in_(newest))
             .order_by(AgencyInboxMessage.id.desc()).limit(limit))
    out = []
    for m in session.scalars(query):
        count = int(waiting.get(m.phone, 0))
        if waiting_only and not count:
            continue
        who, masked = _who(session, org_id, m.phone)
        out.append(ThreadView(m.id, who, mask_phone(m.phone) if masked else m.phone, m.body, m.at, count))
    return out


@dataclass(frozen=True)
class InboxMessageView:
    id: int
    direction: str
    body: str
    at: datetime


def show_thread(session: Session, actor: Actor, org_id: int, message_id: int) -> list[InboxMessageView]:
    """The whole conversation a message belongs to, oldest first; reading it marks it handled."""
    agency_org(session, actor, org_id, "agency.read")
    anchor = row_of(session, AgencyInboxMessage, org_id, message_id, "That message is not in this agency's inbox.")
    session.execute(update(AgencyInboxMessage).where(AgencyInboxMessage.org_id == org_id,
                                                     AgencyInboxMessage.phone == anchor.phone)
                    .values(handled=True))
    rows = session.scalars(select(AgencyInboxMessage).where(AgencyInboxMessage.org_id == org_id,
                                                            AgencyInboxMessage.phone == anchor.phone)
                           .order_by(AgencyInboxMessage.id))
    out = [InboxMessageView(m.id, m.direction, m.body, m.at) for m in rows]
    session.commit()
    return out


def reply(session: Session, actor: Actor, org_id: int, message_id: int, body: str) -> int:
    """Answer a conversation by SMS (staff never see a worker's number); returns the outbox id."""
    org = agency_org(session, actor, org_id, "messages.send")
    if not body.strip():
        raise InvalidInput("Write the reply first.")
    anchor = row_of(session, AgencyInboxMessage, org.id, message_id, "That message is not in this agency's inbox.")
    refuse_if_opted_out(session, org.id, "sms", anchor.phone, _who(session, org.id, anchor.phone)[0])
    message = outbox.enqueue(session, org.id, to=anchor.phone, body=body.strip(), purpose="service")
    session.add(AgencyInboxMessage(org_id=org.id, phone=anchor.phone, direction="out", body=body.strip(),
                                   message_id=message, handled=True))
    session.execute(update(AgencyInboxMessage).where(AgencyInboxMessage.org_id == org.id,
                                                     AgencyInboxMessage.phone == anchor.phone)
                    .values(handled=True))
    audit.record(session, actor, "agency.inbox.reply", "agency_inbox", anchor.id, org_id=org.id,
                 after={"message_id": message})
    session.commit()
    return message


def invite_worker(session: Session, actor: Actor, org_id: int, placement_id: int) -> int:
    """Tell a proposed worker by SMS that an employer is interested (no number of either side is in it);
    her YES moves the proposal to interview, NO ends it."""
    org = agency_org(session, actor, org_id, "messages.send")
    p = row_of(session, AgencyPlacement, org.id, placement_id, "That placement does not exist in this agency.")
    if shown_status(p) != "proposed" or p.worker_id is None:
        raise InvalidInput(f"Only a proposal can be sent to the worker; this placement is {shown_status(p)}.")
    worker = session.get(AgencyWorker, p.worker_id)
    employer = session.get(AgencyEmployer, p.employer_id)
    to = phone_of(session, worker.contact_id)
    if not to:
        raise NotFound(f"{worker.name} has no phone on record.")
    refuse_if_opted_out(session, org.id, "sms", to, worker.name)
    where = f" in {employer.location}" if employer.location else ""
    body = (f"{org.name}: an employer{where} is interested in you for a job. Reply YES to go for an interview "
            "or NO to decline.")
    message = outbox.enqueue(session, org.id, to=to, body=body, contact_id=worker.contact_id, purpose="service",
                             idempotency_key=f"agency.invite:{p.id}")
    session.add(AgencyInboxMessage(org_id=org.id, phone=to, direction="out", body=body, message_id=message,
                                   handled=True))
    audit.record(session, actor, "agency.placement.invite", "agency_placement", p.id, org_id=org.id,
                 after={"message_id": message})
    session.commit()
    return message
