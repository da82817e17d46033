"""A person's data in one organisation: everything it holds about them (export), and forgetting them (erase).

Kenya's Data Protection Act 2019 gives a data subject the right to be told
what is held about them and to have a copy (ss. 26, 31), and to have it
corrected or deleted (s. 40); India's Digital Personal Data Protection Act
2023 gives a data principal the same about what a data fiduciary holds
(ss. 11-12, erasure once the purpose is served unless a law needs it kept).
:func:`export_person` is the copy; :func:`erase_person` deletes what can go
and anonymises what the law or the books need kept: money history (a chama's
ledger, a salon's takings, an agency's placements and payments, M-Pesa
requests) keeps its amounts and dates and loses the name, phone and free
text. What stays, and why, is said in the README.

Every area contributes its part. :data:`core.registry.AREAS` lists the areas
and each must have a module ``<area>.people`` that calls :func:`register`
with a :class:`Piece` (its export and its erase); :func:`pieces` refuses to
run when an area has none, so no area can be forgotten. The core's own piece
(contacts, messages, opt-outs, USSD sessions, inbound SMS, the audit rows
about the person) is here and runs last, after the areas have said which
contacts they keep for their books.

Tenancy: every query is by the org's id; the same phone in another org is
another person's record there and is never read or touched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit, otp
from core.actors import Actor
from core.errors import InvalidInput, NotFound
from core.optouts import opt_out
from core.orgs import OrgView
from core.permissions import grant, require
from core.phones import normalize_phone
from core.registry import AREAS
from db.models import AuditEntry, Contact, InboundMessage, Message, OptOut
from db.models_ussd import UssdSession

for _kind, _admin in (("salon", "owner"), ("chama", "chair"), ("agency", "admin"), ("campaigns", "admin"),
                      ("community", "admin")):
    grant(_kind, _admin, "people.export", "people.erase")

ERASED = "Erased"
UNSENT = ("queued", "failed", "dead", "cancelled")  # never reached anyone: nothing of them is kept


@dataclass(frozen=True)
class Person:
    """Whom a request is about, in one org: a phone (E.164) or an email, and the contacts that are them."""

    org: OrgView
    phone: str | None
    email: str | None
    contact_ids: tuple[int, ...]

    @property
    def addresses(self) -> list[str]:
        return [a for a in (self.phone, self.email) if a]

    @property
    def masked(self) -> str:
        return otp.mask(self.phone or self.email or "")


@dataclass
class Section:
    """What one piece found: named lists of rows, and the records the audit log may speak of."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    about: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class Erasure:
    """What erasing did, row counts by kind of record; contacts an area keeps (anonymised) for its books;
    work to do once the transaction has committed (files on disk)."""

    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    kept_contacts: set[int] = field(default_factory=set)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def count(self, what: str, deleted: int = 0, anonymised: int = 0) -> None:
        if deleted:
            self.deleted[what] = self.deleted.get(what, 0) + deleted
        if anonymised:
            self.anonymised[what] = self.anonymised.get(what, 0) + anonymised


@dataclass(frozen=True)
class Piece:
    """One area's part: ``export`` returns what it holds about the person, ``erase`` forgets it (no commit);
    ``covers`` names the tables it reads, so a table with people's data that no piece covers is noticed."""

    area: str
    export: Callable[[Session, Person], Section]
    erase: Callable[[Session, Person, Erasure], None]
    covers: tuple[str, ...] = ()


# Tables with names, phones, emails or people's text that are not one org's data about a person.
NOT_ONE_ORGS_PERSON = {
    "orgs": "the organisation itself",
    "users": "staff logins, shared by the orgs they work for (`ofisi user remove`; the operator removes a login)",
    "staff_otps": "staff logins' sign-in codes (hashes)",
    "ussd_pins": "one PIN per phone for every group it dials; kept while any group knows the number",
    "ussd_events": "the network's end-of-session reports, per phone across every org; not kept for long",
    "agency_contact_packages": "names of packages for sale", "campaigns": "campaigns' names and texts",
    "message_templates": "templates' names and texts", "salon_services": "services' names",
}


_PIECES: dict[str, Piece] = {}


def register(piece: Piece) -> None:
    """Called by each area's ``people`` module when it is imported."""
    _PIECES[piece.area] = piece


def pieces() -> list[Piece]:
    """Every area's piece in :data:`AREAS` order, then the core's; refuse if an area has none."""
    for area in AREAS:
        try:
            importlib.import_module(f"{area}.people")
        except ModuleNotFoundError as exc:
            if exc.name not in (area, f"{area}.people"):
                raise
        if area not in _PIECES:
            raise RuntimeError(f"{area} says nothing of the personal data it holds: give it a {area}.people "
                               "module that registers its export and erase (core.people.register).")
    return [_PIECES[area] for area in AREAS] + [CORE]


# ---------------------------------------------------------------- helpers for the pieces

def plain(value: Any) -> Any:
    """A value as JSON has it."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def record(row: Any, *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """A model row as a dict of its columns (those in ``leave_out`` left out: secrets, hashes)."""
    skip = set(leave_out)
    return {c.key: plain(getattr(row, c.key)) for c in row.__mapper__.column_attrs if c.key not in skip}


def rows(session: Session, model: Any, *where: Any, leave_out: Iterable[str] = ()) -> list[dict[str, Any]]:
    found = session.scalars(select(model).where(*where).order_by(model.id if hasattr(model, "id") else None))
    return [record(r, leave_out=leave_out) for r in found]


def ids(session: Session, column: Any, *where: Any) -> list[int]:
    return list(session.scalars(select(column).where(*where)))


def remove(session: Session, erasure: Erasure, what: str, model: Any, *where: Any) -> None:
    result = session.execute(delete(model).where(*where).execution_options(synchronize_session=False))
    erasure.count(what, deleted=result.rowcount or 0)


def blank(session: Session, erasure: Erasure, what: str, model: Any, values: dict[str, Any], *where: Any) -> None:
    result = session.execute(update(model).where(*where).values(**values).execution_options(synchronize_session=False))
    erasure.count(what, anonymised=result.rowcount or 0)


def keep_contact(session: Session, erasure: Erasure, contact_id: int, name: str) -> None:
    """An area keeps this contact for its books: it stays, with ``name`` and no phone, email or notes."""
    if contact_id in erasure.kept_contacts:
        return
    erasure.kept_contacts.add(contact_id)
    blank(session, erasure, "contacts", Contact, {"name": name, "phone": f"erased:{contact_id}", "email": None,
                                                   "notes": ""}, Contact.id == contact_id)


# ---------------------------------------------------------------- the services

def find_person(session: Session, org: OrgView, who: str) -> Person:
    """``who`` as the org writes it: a phone in any common form, or an email."""
    who = (who or "").strip()
    if not who:
        raise InvalidInput("Say whose data: a phone number or an email address.")
    phone = email = None
    if "@" in who:
        email = who.lower()
    else:
        phone = normalize_phone(who, org.country)
    conditions = [Contact.phone == phone] if phone else [func.lower(Contact.email) == email]
    contact_ids = tuple(ids(session, Contact.id, Contact.org_id == org.id, or_(*conditions)))
    return Person(org, phone, email, contact_ids)


@dataclass(frozen=True)
class PersonalData:
    """Everything one org holds about one person, by area (JSON-ready)."""

    org: str
    person: str
    exported_at: str
    areas: dict[str, dict[str, list[dict[str, Any]]]]

    @property
    def count(self) -> int:
        return sum(len(found) for area in self.areas.values() for found in area.values())


def _gather(session: Session, person: Person) -> tuple[dict[str, Section], list[tuple[str, object]]]:
    sections = {piece.area: piece.export(session, person) for piece in pieces()}
    about = [ref for section in sections.values() for ref in section.about]
    return sections, about


def export_person(session: Session, actor: Actor, org_id: int, who: str, *, now: datetime | None = None) -> PersonalData:
    """Everything the org holds about the person (secret message bodies never), with an audit row."""
    from db.types import utcnow

    org = OrgView.of(require(session, actor, org_id, "people.export"))
    person = find_person(session, org, who)
    sections, about = _gather(session, person)
    sections["core"].rows["audit_log"] = _audit_rows(session, org.id, about)
    data = PersonalData(org.slug, person.phone or person.email or "", (now or utcnow()).isoformat(),
                        {area: section.rows for area, section in sections.items() if any(section.rows.values())})
    audit.record(session, actor, "person.export", "person", person.masked, org_id=org.id,
                 after={"records": data.count})
    session.commit()
    return data


@dataclass(frozen=True)
class ErasureView:
    person: str
    deleted: dict[str, int]
    anonymised: dict[str, int]


def erase_person(session: Session, actor: Actor, org_id: int, who: str) -> ErasureView:
    """Forget the person in this org, in one transaction, with an audit row (see the module doc)."""
    org = OrgView.of(require(session, actor, org_id, "people.erase"))
    person = find_person(session, org, who)
    sections, _about = _gather(session, person)
    if not any(any(section.rows.values()) for section in sections.values()):
        raise NotFound(f"{org.name} holds nothing about {person.masked}.")
    erasure = Erasure()
    try:
        for piece in pieces():
            piece.erase(session, person, erasure)
        audit.record(session, actor, "person.erase", "person", person.masked, org_id=org.id,
                     after={"deleted": erasure.deleted, "anonymised": erasure.anonymised})
        session.commit()
    except Exception:
        session.rollback()  # an area refused (or failed): nothing of the erasure stays
        raise
    session.expire_all()  # the pieces wrote in bulk: what the session holds is read afresh
    for work in erasure.after_commit:
        work()
    return ErasureView(person.masked, erasure.deleted, erasure.anonymised)


def _audit_rows(session: Session, org_id: int, about: list[tuple[str, object]]) -> list[dict[str, Any]]:
    """The org's audit rows about any of the person's records (the log is append-only: erasing keeps them)."""
    by_entity: dict[str, set[str]] = {}
    for entity, entity_id in about:
        by_entity.setdefault(entity, set()).add(str(entity_id))
    found: list[dict[str, Any]] = []
    for entity, wanted in sorted(by_entity.items()):
        found += [record(r) for r in session.scalars(
            select(AuditEntry).where(AuditEntry.org_id == org_id, AuditEntry.entity == entity,
                                     AuditEntry.entity_id.in_(sorted(wanted))).order_by(AuditEntry.id))]
    return sorted(found, key=lambda r: r["id"])


# ---------------------------------------------------------------- the core's own piece

def _messages_where(person: Person) -> list[Any]:
    conditions = [Message.to_address.in_(person.addresses)]
    if person.contact_ids:
        conditions.append(Message.contact_id.in_(person.contact_ids))
    return [Message.org_id == person.org.id, or_(*conditions)]


def _inbound(session: Session, person: Person) -> list[InboundMessage]:
    if not person.phone:
        return []
    return [m for m in session.scalars(select(InboundMessage).where(InboundMessage.from_phone == person.phone)
                                       .order_by(InboundMessage.id)) if person.org.id in (m.org_ids or [])]


def _export_core(session: Session, person: Person) -> Section:
    org_id = person.org.id
    section = Section()
    section.rows["contacts"] = rows(session, Contact, Contact.id.in_(person.contact_ids))
    messages = session.scalars(select(Message).where(*_messages_where(person)).order_by(Message.id))
    section.rows["messages"] = [_message(m) for m in messages]
    section.rows["opt_outs"] = rows(session, OptOut, OptOut.org_id == org_id, OptOut.address.in_(person.addresses))
    section.rows["inbound_sms"] = [record(m) for m in _inbound(session, person)]
    section.rows["ussd_sessions"] = [record(s, leave_out=("data", "last_text")) for s in session.scalars(
        select(UssdSession).where(UssdSession.org_id == org_id, UssdSession.phone == person.phone)
        .order_by(UssdSession.created_at))] if person.phone else []
    section.about += [("contact", i) for i in person.contact_ids]
    section.about += [("message", m["id"]) for m in section.rows["messages"]]
    if person.phone:
        section.about.append(("phone", person.phone))
    return section


def _message(m: Message) -> dict[str, Any]:
    """A message as exported: a secret's body (a code) is never shown."""
    shown = record(m, leave_out=("claimed_by",))
    if getattr(m, "secret", False) or "otp" in (m.idempotency_key or "").split(":"):
        shown["body"] = "(a one-time code: not shown)"
    return shown


def _erase_core(session: Session, person: Person, erasure: Erasure) -> None:
    org_id = person.org.id
    where = _messages_where(person)
    # Sent messages are the org's record of what went out (and what it cost): kept, with no address or text.
    remove(session, erasure, "messages", Message, *where, Message.status.in_(UNSENT))
    blank(session, erasure, "messages", Message, {"to_address": ERASED.lower(), "body": "", "subject": None,
                                                   "contact_id": None, "last_error": None}, *where)
    remove(session, erasure, "contacts", Contact, Contact.id.in_(person.contact_ids),
           Contact.id.not_in(erasure.kept_contacts))
    if person.phone:
        remove(session, erasure, "ussd_sessions", UssdSession, UssdSession.org_id == org_id,
               UssdSession.phone == person.phone)
        only_here = [m.id for m in _inbound(session, person) if list(m.org_ids) == [org_id]]
        remove(session, erasure, "inbound_sms", InboundMessage, InboundMessage.id.in_(only_here))
    # The one thing kept on purpose: they are never messaged again should the number come back in an import.
    for channel, address in (("sms", person.phone), ("email", person.email)):
        if address:
            opt_out(session, org_id, channel, address, source="erasure")


CORE = Piece("core", _export_core, _erase_core,
             covers=("contacts", "messages", "opt_outs", "inbound_messages", "ussd_sessions", "audit_log"))
