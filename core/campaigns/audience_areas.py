"""Audience sources from the other areas' people, so a campaign reaches them where they live:

* ``members`` in a community: active accounts, filtered by profile type (``type=mentor``) and
  by an event (``event=last`` or ``event=12``: those registered, or with ``attended`` those who
  came); in a chama: members by ``status=active`` and ``arrears`` (unpaid dues today);
* ``clients`` in a salon: by the last visit (``not_seen_days=90``, ``seen_days=30``) and by a
  service they had (``service=Braids``);
* ``workers`` and ``employers`` of an agency (``verified`` for verified workers only).

Each reads its area's tables only (read-only, in id order, a batch at a time) after the
area's own read permission. A filter is ``key=value`` or a bare flag, separated by commas;
an unknown one is refused, naming the ones there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.campaigns.audience import BATCH, Recipient, source
from core.errors import InvalidInput
from core.permissions import require
from db.models import Contact, Org
from db.types import utcnow


def _filters(text: str, allowed: dict[str, str], what: str) -> dict[str, str]:
    """``type=mentor,attended`` as {"type": "mentor", "attended": ""}; unknown keys refused."""
    found: dict[str, str] = {}
    if text.strip().lower() in ("all", "*", ""):
        return found
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        key = key.strip().lower()
        if key not in allowed:
            known = "; ".join(f"{k} ({v})" for k, v in allowed.items())
            raise InvalidInput(f"{key!r} is not a filter of {what}; use: {known}.")
        found[key] = value.strip()
    return found


def _number(filters: dict[str, str], key: str) -> int | None:
    if key not in filters:
        return None
    value = filters[key]
    if not value.isdigit():
        raise InvalidInput(f"{key}= takes a whole number, not {value!r}.")
    return int(value)


def _paged(session: Session, query, id_column, make: Callable) -> Iterator[Recipient]:
    last = 0
    while True:
        rows = session.execute(query.where(id_column > last).order_by(id_column).limit(BATCH)).all()
        for row in rows:
            yield make(row)
        if len(rows) < BATCH:
            return
        last = getattr(rows[-1], id_column.key)


def _of_kind(session: Session, org_id: int, kind: str, who: str) -> None:
    org = session.get(Org, org_id)
    if org is None or org.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise InvalidInput(f"Only {article} {kind} organisation has {who}; use contacts, or all.")


def _contact(c: Contact, **fields) -> Recipient:
    return Recipient(f"contact:{c.id}", c.name, phone=c.phone or None, email=c.email, contact_id=c.id,
                     fields=fields)


# ---------------------------------------------------------------- members (community or chama)

COMMUNITY_FILTERS = {"type": "a profile type", "event": "last, or an event's id: those registered",
                     "attended": "with event: only those who came"}
CHAMA_FILTERS = {"status": "active, suspended, exited…", "arrears": "only those with unpaid dues today"}


def _member_variables(org: Org) -> frozenset[str]:
    if org.kind == "community":
        return frozenset({"profile_type", "username", "location", "event_title"})
    return frozenset({"member_number", "role"})


def _community_name(session: Session, actor: Actor, org_id: int, account_id: int) -> str | None:
    from db.models_community import CommunityProfile

    return session.scalar(select(CommunityProfile.display_name).where(
        CommunityProfile.org_id == org_id, CommunityProfile.account_id == account_id, CommunityProfile.is_primary))


@source("members", variables=_member_variables, who=_community_name)
def members(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    org = session.get(Org, org_id)
    if org.kind == "community":
        return _community_members(session, actor, org, filter_text)
    if org.kind == "chama":
        return _chama_members(session, actor, org, filter_text)
    raise InvalidInput(f"A {org.kind} organisation has no members audience; use contacts.")


def _last_event(session: Session, org_id: int):
    from db.models_community import CommunityEvent

    now = utcnow()
    started = select(CommunityEvent).where(CommunityEvent.org_id == org_id, CommunityEvent.status != "cancelled")
    return (session.scalar(started.where(CommunityEvent.starts_at <= now).order_by(CommunityEvent.starts_at.desc())
                           .limit(1))
            or session.scalar(started.order_by(CommunityEvent.starts_at.desc()).limit(1)))


def _community_members(session: Session, actor: Actor, org: Org, filter_text: str) -> Iterator[Recipient]:
    from db.models_community import CommunityAccount, CommunityEvent, CommunityProfile, CommunityRegistration

    require(session, actor, org.id, "community.read")
    filters = _filters(filter_text, COMMUNITY_FILTERS, "community members")
    query = (select(CommunityAccount.id, CommunityAccount.phone, CommunityAccount.email, CommunityProfile.display_name,
                    CommunityProfile.type, CommunityProfile.username, CommunityProfile.location)
             .join(CommunityProfile, and_(CommunityProfile.account_id == CommunityAccount.id,
                                          CommunityProfile.is_primary))
             .where(CommunityAccount.org_id == org.id, CommunityAccount.status == "active"))
    if filters.get("type"):
        query = query.where(exists().where(CommunityProfile.account_id == CommunityAccount.id,
                                           CommunityProfile.type == filters["type"]))
    title = ""
    if "event" in filters:
        event = (_last_event(session, org.id) if filters["event"].lower() in ("", "last")
                 else session.get(CommunityEvent, _number(filters, "event")))
        if event is None or event.org_id != org.id:
            raise InvalidInput(f"There is no event {filters['event'] or 'last'} in this community.")
        title = event.title
        states = ("attended",) if "attended" in filters else ("registered", "attended")
        query = query.where(exists().where(CommunityRegistration.event_id == event.id,
                                           CommunityRegistration.account_id == CommunityAccount.id,
                                           CommunityRegistration.status.in_(states)))
    elif "attended" in filters:
        raise InvalidInput("attended goes with an event: event=last,attended.")

    def make(row) -> Recipient:
        return Recipient(f"member:{row.id}", row.display_name, phone=row.phone, email=row.email,
                         fields={"profile_type": row.type, "username": row.username, "location": row.location,
                                 "event_title": title})

    return _paged(session, query, CommunityAccount.id, make)


def _chama_members(session: Session, actor: Actor, org: Org, filter_text: str) -> Iterator[Recipient]:
    from core.chama.dues import arrears_by_member
    from db.models_chama import ChamaMember

    require(session, actor, org.id, "chama.read")
    filters = _filters(filter_text, CHAMA_FILTERS, "chama members")
    query = (select(ChamaMember.id, ChamaMember.member_number, ChamaMember.role, Contact)
             .join(Contact, Contact.id == ChamaMember.contact_id).where(ChamaMember.org_id == org.id))
    if filters.get("status"):
        query = query.where(ChamaMember.status == filters["status"])
    if "arrears" in filters:
        from zoneinfo import ZoneInfo

        owing = arrears_by_member(session, org.id, through=utcnow().astimezone(ZoneInfo(org.timezone)).date())
        query = query.where(ChamaMember.id.in_(owing or [0]))

    def make(row) -> Recipient:
        return _contact(row.Contact, member_number=row.member_number, role=row.role)

    return _paged(session, query, ChamaMember.id, make)


# ---------------------------------------------------------------- salon clients

CLIENT_FILTERS = {"not_seen_days": "no visit in that many days", "seen_days": "a visit within that many days",
                  "service": "had that service"}


@source("clients", variables=("last_visit", "visit_count"))
def clients(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """A salon's clients (those who completed a visit)."""
    from db.models_salon import SalonAppointment, SalonClient, SalonService

    _of_kind(session, org_id, "salon", "salon clients")
    org = require(session, actor, org_id, "salon.clients.read")
    filters = _filters(filter_text, CLIENT_FILTERS, "salon clients")
    query = (select(SalonClient.id, SalonClient.last_visit_at, SalonClient.visit_count, Contact)
             .join(Contact, Contact.id == SalonClient.contact_id).where(SalonClient.org_id == org.id))
    now = utcnow()
    if (days := _number(filters, "not_seen_days")) is not None:
        query = query.where(SalonClient.last_visit_at < now - timedelta(days=days))
    if (days := _number(filters, "seen_days")) is not None:
        query = query.where(SalonClient.last_visit_at >= now - timedelta(days=days))
    if filters.get("service"):
        query = query.where(exists().where(
            SalonAppointment.org_id == org.id, SalonAppointment.contact_id == SalonClient.contact_id,
            SalonAppointment.status == "completed", SalonAppointment.service_id == SalonService.id,
            SalonService.name.ilike(filters["service"])))
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(org.timezone)

    def make(row) -> Recipient:
        return _contact(row.Contact, last_visit=f"{row.last_visit_at.astimezone(zone):%d %b %Y}",
                        visit_count=row.visit_count)

    return _paged(session, query, SalonClient.id, make)


# ---------------------------------------------------------------- agency workers and employers

@source("workers", variables=("location",))
def workers(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """An agency's workers (``verified``: verified ones only)."""
    from db.models_agency import AgencyWorker

    _of_kind(session, org_id, "agency", "workers")
    require(session, actor, org_id, "agency.read")
    filters = _filters(filter_text, {"verified": "verified workers only"}, "agency workers")
    query = (select(AgencyWorker.id, AgencyWorker.location, Contact)
             .join(Contact, Contact.id == AgencyWorker.contact_id).where(AgencyWorker.org_id == org_id))
    if "verified" in filters:
        query = query.where(AgencyWorker.verification_status == "verified")
    return _paged(session, query, AgencyWorker.id, lambda row: _contact(row.Contact, location=row.location))


@source("employers", variables=("household_name",))
def employers(session: Session, actor: Actor, org_id: int, filter_text: str) -> Iterator[Recipient]:
    """An agency's employers."""
    from db.models_agency import AgencyEmployer

    _of_kind(session, org_id, "agency", "employers")
    require(session, actor, org_id, "agency.read")
    _filters(filter_text, {}, "agency employers")
    query = (select(AgencyEmployer.id, AgencyEmployer.household_name, Contact)
             .join(Contact, Contact.id == AgencyEmployer.contact_id).where(AgencyEmployer.org_id == org_id))
    return _paged(session, query, AgencyEmployer.id,
                  lambda row: _contact(row.Contact, household_name=row.household_name))
