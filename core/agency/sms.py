"""Workers and employers texting the agency (``POST /sms/inbound``, routed by :mod:`core.inbound`).

A worker:

* ``YES`` / ``NO`` answers her newest interview invitation
  (:func:`core.agency.placements.answer_interview`): YES moves the proposal to
  interview, NO ends it;
* ``AVAILABLE NOW`` / ``AVAILABLE 2 WEEKS`` / ``AVAILABLE 1 MONTH`` /
  ``UNAVAILABLE`` changes her availability (kept in her history; the default
  search leaves out the unavailable);
* ``STATUS`` asks where her placement stands.

An employer:

* ``PACKAGES`` lists what is sold; ``BUY <package>`` buys one and sends the
  M-Pesa prompt to the phone that texted (the credits come with the payment);
* ``UNLOCK <worker>`` spends a credit and texts back the worker's number.

Everything else, and a keyword from someone it does not fit, lands in the
staff inbox (:mod:`core.agency.inbox`) as that phone's conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from core.actors import Actor
from core.agency import commerce, inbox, placements
from core.agency.base import parse_availability
from core.agency.workers import update_worker
from core.errors import OfisiError
from core.inbound import InboundSms, fallback, keyword
from core.money import format_money
from db.models import Contact, Org
from db.models_agency import AgencyEmployer, AgencyPlacement, AgencyWorker

SMS = Actor.system_actor("sms")
AVAILABILITY_WORDS = {"immediate": "available now", "two_weeks": "available in 2 weeks",
                      "one_month": "available in a month",
                      "unavailable": "not available; employers will not see you until you say you are available"}


@dataclass(frozen=True)
class Caller:
    """A phone that is a worker or an employer of an agency (the SMS keywords and the USSD menu ask)."""

    org_id: int
    org_name: str
    name: str
    worker_id: int | None = None
    employer_id: int | None = None


def _callers(model, rank: int):
    return (select(literal_column(str(rank)).label("rank"), model.id.label("person_id"), model.name, Org.id, Org.name)
            .select_from(model).join(Contact, Contact.id == model.contact_id).join(Org, Org.id == model.org_id)
            .where(Contact.phone == bindparam("phone"), Org.kind == "agency"))


# Built once, one round trip: every USSD session's first hop asks it, whoever dials.
_CALLER = union_all(_callers(AgencyWorker, 0), _callers(AgencyEmployer, 1)).order_by("rank", "person_id").limit(1)


def is_agency_phone(phone: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether ``phone`` (a value or a column) is a worker's or an employer's of any agency, as an
    expression another statement can carry (a USSD session's first hop asks it with her other facts)."""
    # Of the tables, not the classes: the first hop's statement names no ORM class (ussd_sessions.Preload).
    contacts, orgs = Contact.__table__, Org.__table__
    return or_(*(select(table.c.id).join(contacts, contacts.c.id == table.c.contact_id)
                 .join(orgs, orgs.c.id == table.c.org_id).where(contacts.c.phone == phone, orgs.c.kind == "agency")
                 .exists() for table in (AgencyWorker.__table__, AgencyEmployer.__table__)))


def agency_caller(session: Session, phone: str) -> Caller | None:
    """The agency worker or employer this phone is (the first agency that knows it); a worker
    before an employer."""
    row = session.execute(_CALLER, {"phone": phone}).first()
    if row is None:
        return None
    rank, person_id, name, org_id, org_name = row
    return Caller(org_id, org_name, name, **{("worker_id", "employer_id")[rank]: person_id})


def status_text(session: Session, org_id: int, worker_id: int) -> str:
    """Where a worker's newest placement stands, in a sentence for her phone."""
    p = session.scalar(select(AgencyPlacement.id).where(AgencyPlacement.org_id == org_id,
                                                        AgencyPlacement.worker_id == worker_id)
                       .order_by(AgencyPlacement.id.desc()).limit(1))
    if p is None:
        return "You have no placement yet. We will text you when an employer is interested."
    view = placements.get_placement(session, SMS, org_id, p)
    since = f" since {view.start_date:%d %b %Y}" if view.start_date and view.status != "proposed" else ""
    return f"Your placement with {view.employer_name}: {view.status}{since}."


def invitation_text(session: Session, org_id: int, worker_id: int) -> str | None:
    """The interview invitation waiting for a worker's answer, or None."""
    row = session.execute(select(AgencyEmployer.location).join(
        AgencyPlacement, AgencyPlacement.employer_id == AgencyEmployer.id).where(
        AgencyPlacement.org_id == org_id, AgencyPlacement.worker_id == worker_id,
        AgencyPlacement.status == "proposed").order_by(AgencyPlacement.id.desc()).limit(1)).first()
    if row is None:
        return None
    return f"An employer{' in ' + row[0] if row[0] else ''} would like to interview you."


def set_availability(session: Session, org_id: int, worker_id: int, availability: str) -> str:
    """A worker's own availability change; returns what to tell her."""
    w = update_worker(session, SMS, org_id, worker_id, {"availability": availability})
    return f"Thank you {w.name.split()[0]}: you are {AVAILABILITY_WORDS[w.availability]}."


def buy_by_phone(session: Session, org_id: int, employer_id: int, package_id: int, phone: str) -> str:
    """An employer buys a package from her phone: the M-Pesa prompt goes to that phone once this commits."""
    purchase = commerce.buy_package(session, SMS, org_id, employer_id=employer_id, package_id=package_id)
    commerce.pay_by_mpesa(session, SMS, org_id, purchase.id, phone=phone)
    from core.payments import wake_payment_sender

    wake_payment_sender()  # the services above committed the request
    org = session.get(Org, org_id)
    return f"Check your phone for the M-Pesa prompt of {format_money(purchase.amount_minor, org.currency)}."


def _worker(session: Session, sms: InboundSms) -> AgencyWorker | None:
    if sms.contact_id is None:
        return None
    return session.scalar(select(AgencyWorker).where(AgencyWorker.org_id == sms.org_id,
                                                     AgencyWorker.contact_id == sms.contact_id))


def _employer(session: Session, sms: InboundSms) -> AgencyEmployer | None:
    if sms.contact_id is None:
        return None
    return session.scalar(select(AgencyEmployer).where(AgencyEmployer.org_id == sms.org_id,
                                                       AgencyEmployer.contact_id == sms.contact_id))


@fallback("agency")
def into_the_inbox(session: Session, sms: InboundSms) -> None:
    inbox.record_inbound(session, sms.org_id, sms.phone, sms.text, inbound_id=sms.id, at=sms.received_at)
    session.commit()
    return None


def _to_inbox(session: Session, sms: InboundSms, reply: str | None = None) -> str | None:
    into_the_inbox(session, sms)
    return reply


@keyword("YES", "NO", "NDIO", "HAPANA", kinds=("agency",))
def interview_answer(session: Session, sms: InboundSms) -> str | None:
    worker = _worker(session, sms)
    if worker is None or sms.rest:
        return _to_inbox(session, sms)
    yes = sms.keyword in ("YES", "NDIO")
    moved = placements.answer_interview(session, SMS, sms.org_id, worker.id, yes)
    if moved is None:
        return _to_inbox(session, sms, "There is no interview invitation waiting for you; our staff will read "
                                       "your message.")
    if yes:
        return f"Thank you. {moved.employer_name} will be told you accept the interview; we will call you."
    return "Thank you; we have told the employer you decline."


@keyword("AVAILABLE", "UNAVAILABLE", "AVAIL", kinds=("agency",))
def availability(session: Session, sms: InboundSms) -> str | None:
    worker = _worker(session, sms)
    if worker is None:
        return _to_inbox(session, sms)
    wanted = "unavailable" if sms.keyword == "UNAVAILABLE" else parse_availability(sms.rest or "now")
    if sms.rest.strip().lower() in ("no", "not", "none"):
        wanted = "unavailable"
    if wanted is None:
        return "Reply AVAILABLE NOW, AVAILABLE 2 WEEKS, AVAILABLE 1 MONTH or UNAVAILABLE."
    return set_availability(session, sms.org_id, worker.id, wanted)


@keyword("STATUS", kinds=("agency",))
def placement_status(session: Session, sms: InboundSms) -> str | None:
    worker = _worker(session, sms)
    if worker is None:
        return _to_inbox(session, sms)
    return status_text(session, sms.org_id, worker.id)


@keyword("PACKAGES", kinds=("agency",))
def packages(session: Session, sms: InboundSms) -> str | None:
    org = session.get(Org, sms.org_id)
    offered = commerce.list_packages(session, SMS, sms.org_id)
    if not offered:
        return "No contact packages are sold just now."
    return "Reply BUY <number>: " + "; ".join(
        f"{p.id} {p.name} {p.contacts_included} contacts {format_money(p.price_minor, org.currency)}" for p in offered)


@keyword("BUY", kinds=("agency",))
def buy(session: Session, sms: InboundSms) -> str | None:
    employer = _employer(session, sms)
    if employer is None:
        return _to_inbox(session, sms)
    if not sms.rest.strip().isdigit():
        return "Reply BUY and the package number; text PACKAGES to see them."
    try:
        return buy_by_phone(session, sms.org_id, employer.id, int(sms.rest.strip()), sms.phone)
    except OfisiError as exc:
        session.rollback()
        return str(exc)


@keyword("UNLOCK", kinds=("agency",))
def unlock(session: Session, sms: InboundSms) -> str | None:
    employer = _employer(session, sms)
    if employer is None:
        return _to_inbox(session, sms)
    if not sms.rest.strip().isdigit():
        return "Reply UNLOCK and the worker's number (from our list)."
    worker_id = int(sms.rest.strip())
    try:
        result = commerce.unlock_contact(session, SMS, sms.org_id, employer_id=employer.id, worker_id=worker_id)
        commerce.sms_unlocked_contact(session, SMS, sms.org_id, employer_id=employer.id, worker_id=worker_id)
    except OfisiError as exc:
        session.rollback()
        return str(exc)
    return f"The number follows in a separate SMS. {result.credits_left} contact credits left."
