"""Employers: households and companies; in an agency org, the agency's clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.agency.base import agency_org, row_of
from core.agency.workers import sms_contact, unused_contact
from core.errors import InvalidInput
from db.models import Contact
from db.models_agency import AgencyEmployer


@dataclass(frozen=True)
class EmployerView:
    id: int
    org_id: int
    name: str
    phone: str
    email: str | None
    household_name: str
    location: str
    description: str
    requirements: str
    client_since: date | None
    legacy_id: str | None
    created_at: datetime


def _view(e: AgencyEmployer, phone: str | None) -> EmployerView:
    return EmployerView(e.id, e.org_id, e.name, phone or "", e.email, e.household_name, e.location,
                        e.description, e.requirements, e.client_since, e.legacy_id, e.created_at)


@dataclass
class EmployerInput:
    name: str
    phone: str | None = None
    email: str | None = None
    household_name: str = ""
    location: str = ""
    description: str = ""
    requirements: str = ""
    client_since: date | None = None


def new_employer(session: Session, org, data: EmployerInput, *, legacy_id: str | None = None) -> AgencyEmployer:
    if not data.name.strip():
        raise InvalidInput("An employer needs a name.")
    contact = unused_contact(session, AgencyEmployer, org, data.name.strip(), data.phone, data.email,
                             "An employer")
    employer = AgencyEmployer(
        org_id=org.id, contact_id=contact.id if contact else None, name=data.name.strip(),
        email=(data.email or "").strip().lower() or None, household_name=data.household_name.strip(),
        location=data.location.strip(), description=data.description, requirements=data.requirements,
        client_since=data.client_since, legacy_id=legacy_id,
    )
    session.add(employer)
    session.flush()
    return employer


def add_employer(session: Session, actor: Actor, org_id: int, data: EmployerInput) -> EmployerView:
    org = agency_org(session, actor, org_id, "agency.write")
    employer = new_employer(session, org, data)
    audit.record(session, actor, "agency.employer.add", "agency_employer", employer.id, org_id=org.id,
                 after={"name": employer.name})
    session.commit()
    return get_employer(session, actor, org_id, employer.id)


def get_employer(session: Session, actor: Actor, org_id: int, employer_id: int) -> EmployerView:
    agency_org(session, actor, org_id, "agency.read")
    e = row_of(session, AgencyEmployer, org_id, employer_id, "That employer is not on this agency's books.")
    return _view(e, session.scalar(select(Contact.phone).where(Contact.id == e.contact_id)) if e.contact_id else None)


def list_employers(session: Session, actor: Actor, org_id: int, *, search: str = "",
                   before_id: int | None = None, limit: int = 50) -> list[EmployerView]:
    """Newest first, keyset-paged by id."""
    agency_org(session, actor, org_id, "agency.read")
    query = (select(AgencyEmployer, Contact.phone).outerjoin(Contact, Contact.id == AgencyEmployer.contact_id)
             .where(AgencyEmployer.org_id == org_id))
    if search.strip():
        term = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(AgencyEmployer.name).like(term),
                                func.lower(AgencyEmployer.household_name).like(term)))
    if before_id is not None:
        query = query.where(AgencyEmployer.id < before_id)
    rows = session.execute(query.order_by(AgencyEmployer.id.desc()).limit(limit))
    return [_view(e, phone) for e, phone in rows]


def sms_employer(session: Session, actor: Actor, org_id: int, employer_id: int, body: str) -> int:
    org = agency_org(session, actor, org_id, "messages.send")
    e = row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.")
    return sms_contact(session, actor, org, e.contact_id, e.name, body, "agency.employer.sms",
                       "agency_employer", e.id)
