"""Contacts: one row per person per org, keyed by E.164 phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.permissions import require
from core.phones import normalize_phone
from db.models import Contact


@dataclass(frozen=True)
class ContactView:
    id: int
    org_id: int
    name: str
    phone: str
    email: str | None
    notes: str
    created_at: datetime

    @classmethod
    def of(cls, c: Contact) -> ContactView:
        return cls(c.id, c.org_id, c.name, c.phone, c.email, c.notes, c.created_at)


def _clean_email(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    email = email.strip().lower()
    if "@" not in email or "." not in email.split("@")[-1]:
        raise InvalidInput(f"{email!r} is not an email address.")
    return email


def add_contact(
    session: Session, actor: Actor, org_id: int, *, name: str, phone: str, email: str | None = None, notes: str = ""
) -> ContactView:
    org = require(session, actor, org_id, "contacts.write")
    if not name.strip():
        raise InvalidInput("A contact needs a name.")
    e164 = normalize_phone(phone, org.country)
    existing = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == e164))
    if existing is not None:
        raise Conflict(f"{existing.name} already has the number {e164}; open that contact instead.")
    contact = Contact(org_id=org.id, name=name.strip(), phone=e164, email=_clean_email(email), notes=notes)
    session.add(contact)
    session.flush()
    session.commit()
    return ContactView.of(contact)


def upsert_contact(session: Session, actor: Actor, org_id: int, *, name: str, phone: str, email: str | None = None) -> ContactView:
    """The contact with this phone, created if new; names are not overwritten."""
    org = require(session, actor, org_id, "contacts.write")
    e164 = normalize_phone(phone, org.country)
    contact = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == e164))
    if contact is None:
        contact = Contact(org_id=org.id, name=name.strip() or e164, phone=e164, email=_clean_email(email))
        session.add(contact)
    elif email and not contact.email:
        contact.email = _clean_email(email)
    session.flush()
    session.commit()
    return ContactView.of(contact)


def _load(session: Session, org_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    # Another org's contact looks exactly like a missing one.
    if contact is None or contact.org_id != org_id:
        raise NotFound("That contact does not exist.")
    return contact


def get_contact(session: Session, actor: Actor, org_id: int, contact_id: int) -> ContactView:
    require(session, actor, org_id, "contacts.read")
    return ContactView.of(_load(session, org_id, contact_id))


def find_by_phone(session: Session, actor: Actor, org_id: int, phone: str) -> ContactView | None:
    org = require(session, actor, org_id, "contacts.read")
    e164 = normalize_phone(phone, org.country)
    contact = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == e164))
    return ContactView.of(contact) if contact else None


def update_contact(
    session: Session,
    actor: Actor,
    org_id: int,
    contact_id: int,
    *,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    notes: str | None = None,
) -> ContactView:
    org = require(session, actor, org_id, "contacts.write")
    contact = _load(session, org.id, contact_id)
    if name is not None:
        if not name.strip():
            raise InvalidInput("A contact needs a name.")
        contact.name = name.strip()
    if phone is not None:
        e164 = normalize_phone(phone, org.country)
        clash = session.scalar(
            select(Contact.name).where(Contact.org_id == org.id, Contact.phone == e164, Contact.id != contact.id)
        )
        if clash:
            raise Conflict(f"{clash} already has the number {e164}.")
        contact.phone = e164
    if email is not None:
        contact.email = _clean_email(email)
    if notes is not None:
        contact.notes = notes
    session.flush()
    session.commit()
    return ContactView.of(contact)


def delete_contact(session: Session, actor: Actor, org_id: int, contact_id: int) -> None:
    org = require(session, actor, org_id, "contacts.write")
    contact = _load(session, org.id, contact_id)
    audit.record(
        session, actor, "contact.delete", "contact", contact.id, org_id=org.id,
        before={"name": contact.name, "phone": contact.phone, "email": contact.email},
    )
    try:
        with session.begin_nested():
            session.delete(contact)
    except (IntegrityError, ProgrammingError):  # a foreign key, or an append-only trigger on PostgreSQL
        # Another area's records (a chama member's ledger, a booking) still point at this person.
        raise Conflict(f"{contact.name} has records in {org.name} that must be kept (payments, bookings "
                       "or history); mark them inactive or exited instead of deleting them.") from None
    session.commit()


def list_contacts(
    session: Session, actor: Actor, org_id: int, *, search: str = "", before_id: int | None = None, limit: int = 100
) -> list[ContactView]:
    """A page of contacts, newest first (keyset paging: pass the last id as ``before_id``)."""
    require(session, actor, org_id, "contacts.read")
    query = select(Contact).where(Contact.org_id == org_id)
    if search.strip():
        term = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Contact.name).like(term), Contact.phone.like(term)))
    if before_id is not None:
        query = query.where(Contact.id < before_id)
    return [ContactView.of(c) for c in session.scalars(query.order_by(Contact.id.desc()).limit(limit))]


def count_contacts(session: Session, actor: Actor, org_id: int) -> int:
    require(session, actor, org_id, "contacts.read")
    return session.scalar(select(func.count()).select_from(Contact).where(Contact.org_id == org_id)) or 0
