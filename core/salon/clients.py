"""Client records: what the salon knows of a contact as a client.

A record is created by the first completed appointment and updated by every
later one (first and last visit, visit count, lifetime spend in minor units:
what they paid, tips included). No-shows and what a no-show still owes are
read from the appointments. The person's name, phone, email and notes stay on
the core contact (``core.contacts.update_contact`` edits the notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.actors import Actor
from core.money import format_money
from core.salon.common import require_salon
from db.models import Contact
from db.models_salon import SalonAppointment, SalonClient, SalonPayment


@dataclass(frozen=True)
class ClientView:
    id: int
    contact_id: int
    name: str
    phone: str
    email: str | None
    first_visit_at: datetime | None  # None: no visit yet, only no-shows
    last_visit_at: datetime | None
    visit_count: int
    lifetime_spend_minor: int
    currency: str
    no_shows: int = 0
    owed_minor: int = 0

    @property
    def lifetime_spend(self) -> str:
        return format_money(self.lifetime_spend_minor, self.currency)


def record_visit(session: Session, org_id: int, contact_id: int, at: datetime, spend_minor: int) -> None:
    """Count one completed visit for the contact, in the caller's unit of work."""
    query = (select(SalonClient).where(SalonClient.org_id == org_id, SalonClient.contact_id == contact_id)
             .with_for_update())
    client = session.scalar(query)
    if client is None:
        try:
            with session.begin_nested():
                session.add(SalonClient(org_id=org_id, contact_id=contact_id, first_visit_at=at, last_visit_at=at,
                                        visit_count=1, lifetime_spend_minor=spend_minor))
            return
        except IntegrityError:
            # The same client's other visit was completed at this moment: count this one on its record.
            client = session.scalar(query)
            if client is None:
                raise
    client.first_visit_at = min(client.first_visit_at, at)
    client.last_visit_at = max(client.last_visit_at, at)
    client.visit_count += 1
    client.lifetime_spend_minor += spend_minor


def _no_shows(session: Session, org_id: int, contact_ids: list[int]) -> dict[int, tuple[int, int]]:
    """contact -> (no-shows, still owed on them)."""
    paid = (select(SalonPayment.appointment_id, func.sum(SalonPayment.amount_minor).label("paid"))
            .where(SalonPayment.org_id == org_id).group_by(SalonPayment.appointment_id).subquery())
    rows = session.execute(
        select(SalonAppointment.contact_id, func.count(),
               func.sum(func.coalesce(SalonAppointment.charged_minor, 0) - func.coalesce(paid.c.paid, 0)))
        .outerjoin(paid, paid.c.appointment_id == SalonAppointment.id)
        .where(SalonAppointment.org_id == org_id, SalonAppointment.status == "no_show",
               SalonAppointment.contact_id.in_(contact_ids))
        .group_by(SalonAppointment.contact_id))
    return {contact_id: (count, max(0, int(owed or 0))) for contact_id, count, owed in rows}


def _views(session: Session, org, query) -> list[ClientView]:
    rows = session.execute(query.join(Contact, Contact.id == SalonClient.contact_id)).all()
    missed = _no_shows(session, org.id, [c.contact_id for c, _ in rows])
    return [ClientView(c.id, c.contact_id, p.name, p.phone, p.email, c.first_visit_at, c.last_visit_at,
                       c.visit_count, c.lifetime_spend_minor, org.currency, *missed.get(c.contact_id, (0, 0)))
            for c, p in rows]


def get_client(session: Session, actor: Actor, org_id: int, contact_id: int) -> ClientView | None:
    """The contact's client record, or None before their first completed visit or no-show."""
    org = require_salon(session, actor, org_id, "salon.clients.read")
    found = _views(session, org, select(SalonClient, Contact).where(
        SalonClient.org_id == org.id, SalonClient.contact_id == contact_id))
    if found:
        return found[0]
    missed = _no_shows(session, org.id, [contact_id])
    contact = session.get(Contact, contact_id)
    if contact_id not in missed or contact is None or contact.org_id != org.id:
        return None
    return ClientView(0, contact_id, contact.name, contact.phone, contact.email, None, None, 0, 0, org.currency,
                      *missed[contact_id])


def list_clients(
    session: Session, actor: Actor, org_id: int, *, before_id: int | None = None, limit: int = 100
) -> list[ClientView]:
    """Clients, most recently created first (keyset paging: pass the last id as ``before_id``)."""
    org = require_salon(session, actor, org_id, "salon.clients.read")
    query = select(SalonClient, Contact).where(SalonClient.org_id == org.id)
    if before_id is not None:
        query = query.where(SalonClient.id < before_id)
    return _views(session, org, query.order_by(SalonClient.id.desc()).limit(limit))
