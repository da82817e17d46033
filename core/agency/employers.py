"""Employers: households and companies; in an agency org, the agency's clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.agency.base import agency_org, redact_contacts, redaction_notice, row_of
from core.agency.workers import _keep_history, _set_phone, one_person, sms_contact, unused_contact
from core.errors import InvalidInput
from db.models import Contact
from db.models_agency import AgencyEmployer, AgencyPurchase


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
    credits_left: int = 0  # contact credits of completed purchases, shown wherever the employer is
    notices: tuple[str, ...] = ()


def _credits(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {eid: int(n) for eid, n in session.execute(
        select(AgencyPurchase.employer_id, func.sum(AgencyPurchase.credits_left))
        .where(AgencyPurchase.employer_id.in_(ids), AgencyPurchase.status == "completed")
        .group_by(AgencyPurchase.employer_id))}


def _view(e: AgencyEmployer, phone: str | None, credits: int = 0, notices: tuple[str, ...] = ()) -> EmployerView:
    return EmployerView(e.id, e.org_id, e.name, phone or "", e.email, e.household_name, e.location,
                        e.description, e.requirements, e.client_since, e.legacy_id, e.created_at, credits, notices)


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
    employer = AgencyEmployer(**employer_row(org.id, data, legacy_id=legacy_id))
    employer.contact_id = contact.id if contact else None
    session.add(employer)
    session.flush()
    return employer


def employer_row(org_id: int, data: EmployerInput, *, legacy_id: str | None = None) -> dict:
    """The columns of the employer row ``data`` makes, without its contact (an import writes many such rows
    at once)."""
    return dict(
        org_id=org_id, name=data.name.strip(), email=(data.email or "").strip().lower() or None,
        household_name=data.household_name.strip(), location=data.location.strip(), description=data.description,
        requirements=data.requirements, client_since=data.client_since, legacy_id=legacy_id,
    )


def add_employer(session: Session, actor: Actor, org_id: int, data: EmployerInput) -> EmployerView:
    org = agency_org(session, actor, org_id, "agency.write")
    employer = new_employer(session, org, data)
    audit.record(session, actor, "agency.employer.add", "agency_employer", employer.id, org_id=org.id,
                 after={"name": employer.name})
    session.commit()
    return get_employer(session, actor, org_id, employer.id)


def get_employer(session: Session, actor: Actor, org_id: int, employer_id: int, *,
                 notices: tuple[str, ...] = ()) -> EmployerView:
    agency_org(session, actor, org_id, "agency.read")
    e = row_of(session, AgencyEmployer, org_id, employer_id, "That employer is not on this agency's books.")
    return _view(e, session.scalar(select(Contact.phone).where(Contact.id == e.contact_id)) if e.contact_id else None,
                 _credits(session, [e.id]).get(e.id, 0), notices)


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
    rows = list(session.execute(query.order_by(AgencyEmployer.id.desc()).limit(limit)))
    credits = _credits(session, [e.id for e, _ in rows])
    return [_view(e, phone, credits.get(e.id, 0)) for e, phone in rows]


def sms_employer(session: Session, actor: Actor, org_id: int, employer_id: int, body: str) -> int:
    org = agency_org(session, actor, org_id, "messages.send")
    e = row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.")
    return sms_contact(session, actor, org, e.contact_id, e.name, body, "agency.employer.sms",
                       "agency_employer", e.id)


EMPLOYER_FIELDS = ("name", "phone", "email", "household_name", "location", "description", "requirements")


def update_employer(session: Session, actor: Actor, org_id: int, employer_id: int, changes: dict) -> EmployerView:
    """Edit any of ``EMPLOYER_FIELDS``; each change is kept in the employer's history."""
    org = agency_org(session, actor, org_id, "agency.write")
    unknown = set(changes) - set(EMPLOYER_FIELDS)
    if unknown:
        raise InvalidInput(f"An employer has no field {', '.join(sorted(unknown))}.")
    e = row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.",
               lock=True)
    history: list[tuple[str, object, object]] = []
    notices: list[str] = []
    for name, value in changes.items():
        if name == "phone":
            _set_phone(session, org, e, "employer", value, history)
            continue
        value = (value or "").strip()
        if name == "name" and not value:
            raise InvalidInput("An employer needs a name.")
        if name == "email":
            value = value.lower() or None
            if value:
                one_person(session, org.id, None, value, skip=("employer", e.id))
        if name in ("description", "requirements"):
            value, found = redact_contacts(value)
            notices += redaction_notice(name, found)
        if getattr(e, name) != value:
            history.append((name, getattr(e, name), value))
            setattr(e, name, value)
    _keep_history(session, actor, org.id, "employer", e.id, history)
    session.commit()
    return get_employer(session, actor, org_id, e.id, notices=tuple(notices))
