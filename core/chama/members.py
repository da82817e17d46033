"""Chama members: a contact of the org plus a member number, a role, a status and a join date.

A person is one contact per org (the phone is the key), so a member who is
also, say, a salon client elsewhere is a different contact there. Members are
never deleted: they exit, and their history stays in the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.chama.base import (
    MEMBER_ROLES,
    MEMBER_STATUSES,
    chama_org,
    local_today,
    member_row,
    money,
)
from core.chama.ledger import member_sums, sums
from core.chama.loans import guaranteeing
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.optouts import opt_in, opt_out
from core.orgs import OrgView
from core.phones import normalize_phone
from core.permissions import role_of
from db.models import Contact, OptOut, Org, User
from db.models_chama import ChamaMember

ROLE_ALIASES = {"chairperson": "chair", "chairman": "chair", "chairlady": "chair", "chairwoman": "chair"}
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]{0,19}$")


@dataclass(frozen=True)
class MemberView:
    id: int
    org_id: int
    contact_id: int
    name: str
    phone: str
    member_number: str
    role: str
    status: str
    joined_on: date
    exited_on: date | None
    sms_opt_out: bool  # the core opt-out of their phone for this chama's SMS (STOP, or the console)
    exit_reason: str | None = None
    user_id: int | None = None  # the staff login linked to this member

    @classmethod
    def of(cls, m: ChamaMember, c: Contact, sms_opt_out: bool) -> MemberView:
        return cls(m.id, m.org_id, m.contact_id, c.name, c.phone, m.member_number, m.role, m.status,
                   m.joined_on, m.exited_on, bool(sms_opt_out), m.exit_reason, m.user_id)

    @property
    def left_text(self) -> str | None:
        """"Left on 2031-02-01: moved to Mombasa" for a member who has exited."""
        if self.status != "exited":
            return None
        return f"Left on {self.exited_on}" + (f": {self.exit_reason}" if self.exit_reason else "")

    @property
    def label(self) -> str:
        return f"{self.name} (no. {self.member_number})"


def clean_role(role: str | None) -> str:
    text = (role or "member").strip().lower()
    text = ROLE_ALIASES.get(text, text)
    if text not in MEMBER_ROLES:
        raise InvalidInput(f"{role!r} is not a chama role; use one of {', '.join(MEMBER_ROLES)}.")
    return text


def clean_number(number: str) -> str:
    text = str(number).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # spreadsheets turn 12 into 12.0
        text = text[:-2]
    if not NUMBER.match(text):
        raise InvalidInput(f"{number!r} is not a member number; use up to 20 letters, digits, '/' or '-'.")
    return text


def next_member_number(session: Session, org_id: int, taken: set[str] = frozenset()) -> str:
    """One more than the largest numeric member number (numbers like M-07 are not counted)."""
    numbers = [n for n in session.scalars(select(ChamaMember.member_number).where(ChamaMember.org_id == org_id))]
    highest = max((int(n) for n in [*numbers, *taken] if n.isdigit()), default=0)
    return str(highest + 1)


def check_join_date(org: Org, joined_on: date) -> date:
    if joined_on > local_today(org):
        raise InvalidInput(f"A join date cannot be in the future ({joined_on.isoformat()}).")
    return joined_on


def create_member(session: Session, org: Org, *, name: str, phone: str, member_number: str, role: str,
                  joined_on: date) -> ChamaMember:
    """Insert a member for already-checked values, reusing the org's contact for that phone."""
    contact = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == phone))
    if contact is None:
        contact = Contact(org_id=org.id, name=name, phone=phone)
        session.add(contact)
        session.flush()
    member = ChamaMember(org_id=org.id, contact_id=contact.id, member_number=member_number, role=role,
                         joined_on=joined_on)
    session.add(member)
    session.flush()
    return member


def clash_for(session: Session, org_id: int, *, phone: str, number: str) -> str | None:
    """Why a new member with this phone and number would clash with an existing one, or None."""
    row = session.execute(
        select(ChamaMember.member_number, Contact.name)
        .join(Contact, Contact.id == ChamaMember.contact_id)
        .where(ChamaMember.org_id == org_id, Contact.phone == phone)
    ).first()
    if row is not None:
        return f"{row.name} ({phone}) is already member no. {row.member_number}."
    holder = session.scalar(
        select(Contact.name).join(ChamaMember, ChamaMember.contact_id == Contact.id)
        .where(ChamaMember.org_id == org_id, ChamaMember.member_number == number)
    )
    if holder is not None:
        return f"Member no. {number} is already {holder}."
    return None


def add_member(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    name: str,
    phone: str,
    member_number: str | None = None,
    role: str = "member",
    joined_on: date | None = None,
) -> MemberView:
    org = chama_org(session, actor, org_id, "chama.members")
    if not name.strip():
        raise InvalidInput("A member needs a name.")
    e164 = normalize_phone(phone, org.country)
    number = clean_number(member_number) if member_number else next_member_number(session, org.id)
    clash = clash_for(session, org.id, phone=e164, number=number)
    if clash:
        raise Conflict(clash)
    member = create_member(session, org, name=name.strip(), phone=e164, member_number=number,
                           role=clean_role(role), joined_on=check_join_date(org, joined_on or local_today(org)))
    view = _view(session, member)
    audit.record(session, actor, "chama.member.add", "chama_member", member.id, org_id=org.id,
                 after={"name": view.name, "phone": view.phone, "number": number, "role": view.role,
                        "joined_on": view.joined_on.isoformat()})
    session.commit()
    return view


def update_member(
    session: Session,
    actor: Actor,
    org_id: int,
    member_id: int,
    *,
    role: str | None = None,
    status: str | None = None,
    member_number: str | None = None,
    sms_opt_out: bool | None = None,
) -> MemberView:
    """Change a member's role, status, number or SMS choice.

    Only a member with nothing saved and nothing owed is marked exited here;
    anyone else leaves through her exit settlement (``exits``).
    """
    org = chama_org(session, actor, org_id, "chama.members")
    member = member_row(session, org.id, member_id, lock=True)
    before = _view(session, member)
    if role is not None:
        member.role = clean_role(role)
    if member_number is not None:
        number = clean_number(member_number)
        holder = session.scalar(select(ChamaMember.id).where(
            ChamaMember.org_id == org.id, ChamaMember.member_number == number, ChamaMember.id != member.id))
        if holder is not None:
            raise Conflict(f"Member no. {number} is already taken.")
        member.member_number = number
    if status is not None:
        status = status.strip().lower()
        if status not in MEMBER_STATUSES:
            raise InvalidInput(f"{status!r} is not a member status; use one of {', '.join(MEMBER_STATUSES)}.")
        if status == "exited" and member.status != "exited":
            owed = sums(session, org.id, member_id=member.id)
            if owed.loan or owed.fines or owed.savings:
                raise Conflict(f"{before.name} has savings of {money(org, owed.savings)} and owes "
                               f"{money(org, owed.loan + owed.fines)}; `ofisi chama exit` settles them through "
                               "the approvals and then marks her exited.")
            backing = guaranteeing(session, org.id, member.id)
            if backing:
                raise Conflict(f"{before.name} guarantees loan(s) {', '.join(map(str, backing))}; "
                               "she can leave once they are repaid.")
            member.exit_reason = "marked exited"
        member.exited_on = local_today(org) if status == "exited" else None
        if status != "exited":
            member.exit_reason = None
        member.status = status
    if sms_opt_out is not None and sms_opt_out != before.sms_opt_out:
        if sms_opt_out:
            opt_out(session, org.id, "sms", before.phone, source="staff")
        else:
            opt_in(session, org.id, "sms", before.phone)
    session.flush()
    after = _view(session, member)
    changed = [k for k in ("role", "status", "member_number", "sms_opt_out") if getattr(before, k) != getattr(after, k)]
    if changed:
        audit.record(session, actor, "chama.member.update", "chama_member", member.id, org_id=org.id,
                     before={k: getattr(before, k) for k in changed}, after={k: getattr(after, k) for k in changed})
    session.commit()
    return after


def link_login(session: Session, actor: Actor, org_id: int, member_id: int, *, email: str | None) -> MemberView:
    """Link a staff login (by email) to the member who is that person, or unlink it (``email=None``).

    Approvals know an official by this link, never by phone: a login decides as its member, a login linked
    to the applicant cannot approve her loan, and a login linked to no member cannot decide at all.
    """
    org = chama_org(session, actor, org_id, "chama.settings")
    member = member_row(session, org.id, member_id, lock=True)
    before = member.user_id
    if email is None:
        member.user_id = None
    else:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None or role_of(session, Actor.staff(user.id, user.email), org.id) is None:
            raise NotFound(f"No staff login {email.strip()!r} belongs to {org.name}; add it with `ofisi user add`.")
        holder = session.scalar(select(ChamaMember).where(ChamaMember.org_id == org.id,
                                                          ChamaMember.user_id == user.id, ChamaMember.id != member.id))
        if holder is not None:
            raise Conflict(f"{user.email} is already linked to member no. {holder.member_number}; unlink it first.")
        member.user_id = user.id
    session.flush()
    if before != member.user_id:
        audit.record(session, actor, "chama.member.login", "chama_member", member.id, org_id=org.id,
                     before={"user_id": before}, after={"user_id": member.user_id})
    view = _view(session, member)
    session.commit()
    return view


# Whether the member's phone opted out of their chama's SMS, read with the member.
# (Of the tables, so the gateway's table-only statements carry it too: MEMBERSHIP_COLUMNS.)
_ORGS, _MEMBERS, _CONTACTS, _OPT_OUTS = Org.__table__, ChamaMember.__table__, Contact.__table__, OptOut.__table__
SMS_OPTED_OUT = exists().where(_OPT_OUTS.c.org_id == _MEMBERS.c.org_id, _OPT_OUTS.c.channel == "sms",
                               _OPT_OUTS.c.address == _CONTACTS.c.phone).label("sms_opt_out")


def _view(session: Session, member: ChamaMember) -> MemberView:
    return MemberView.of(*session.execute(_query(member.org_id).where(ChamaMember.id == member.id)).one())


def _query(org_id: int):
    return (select(ChamaMember, Contact, SMS_OPTED_OUT).join(Contact, Contact.id == ChamaMember.contact_id)
            .where(ChamaMember.org_id == org_id))


def get_member(session: Session, actor: Actor, org_id: int, member_id: int) -> MemberView:
    org = chama_org(session, actor, org_id, "chama.read")
    return _view(session, member_row(session, org.id, member_id))


def find_member(session: Session, actor: Actor, org_id: int, who: str) -> MemberView:
    """A member by member number or by phone (as people write it)."""
    org = chama_org(session, actor, org_id, "chama.read")
    text = (who or "").strip()
    row = session.execute(_query(org.id).where(ChamaMember.member_number == text)).first() if text else None
    if row is None and text:
        try:
            e164 = normalize_phone(text, org.country)
        except InvalidInput:
            e164 = None
        if e164:
            row = session.execute(_query(org.id).where(Contact.phone == e164)).first()
    if row is None:
        raise NotFound(f"{org.name} has no member with number or phone {text!r}; "
                       "`ofisi chama members list` shows them.")
    return MemberView.of(*row)


def list_members(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    search: str = "",
    status: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[MemberView]:
    """A page of members in the order they joined (keyset: pass the last id as ``after_id``)."""
    org = chama_org(session, actor, org_id, "chama.read")
    query = _query(org.id)
    if search.strip():
        term = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Contact.name).like(term), Contact.phone.like(term),
                                ChamaMember.member_number == search.strip()))
    if status:
        query = query.where(ChamaMember.status == status)
    if after_id is not None:
        query = query.where(ChamaMember.id > after_id)
    return [MemberView.of(*row) for row in session.execute(query.order_by(ChamaMember.id).limit(limit))]


# A phone's memberships, in parts, so the USSD gateway can read them in the statement that locks its
# session row (``ussd.chama``): what is read, from where, and which rows are the phone's. Table
# columns, not the rows' objects: a statement of ORM entities or attributes builds a row processor
# per column on every execution (for these, more than the rest of a menu hop's reads), where a
# table-only statement's result is described once. The objects the core services need are read
# when a hop calls them (``ussd.chama.ChamaFacts.held``).
_ORG_COLUMNS = tuple(_ORGS.c[name] for name in ("id", "slug", "name", "kind", "timezone", "currency", "country",
                                                 "sms_number"))  # OrgView's fields, in order
_MEMBER_COLUMNS = (  # MemberView's fields, in order
    _MEMBERS.c.id, _MEMBERS.c.org_id, _MEMBERS.c.contact_id, _CONTACTS.c.name, _CONTACTS.c.phone,
    _MEMBERS.c.member_number, _MEMBERS.c.role, _MEMBERS.c.status, _MEMBERS.c.joined_on, _MEMBERS.c.exited_on,
    SMS_OPTED_OUT, _MEMBERS.c.exit_reason, _MEMBERS.c.user_id)
MEMBERSHIP_COLUMNS = (*_ORG_COLUMNS, *_MEMBER_COLUMNS)
MEMBERSHIPS = _ORGS.join(_MEMBERS, _MEMBERS.c.org_id == _ORGS.c.id).join(_CONTACTS,
                                                                        _CONTACTS.c.id == _MEMBERS.c.contact_id)
MEMBERSHIP_ORDER = (_ORGS.c.name,)


def memberships_of(phone) -> ColumnElement[bool]:
    """The memberships of ``phone`` (a value or a column): chamas only, members who have not exited."""
    return and_(_ORGS.c.kind == "chama", _CONTACTS.c.phone == phone, _MEMBERS.c.status != "exited")


def membership_sums():
    """A membership row's balances and its chama's share-outs so far (``ledger.member_sums``),
    correlated with :data:`MEMBERSHIPS`' member: the gateway reads them with the session's row."""
    return member_sums(_MEMBERS.c.org_id, _MEMBERS.c.id)


def membership_views(rows) -> list[tuple[OrgView, MemberView]]:
    """The views of rows of :data:`MEMBERSHIP_COLUMNS`."""
    org, opted, end = len(_ORG_COLUMNS), len(_ORG_COLUMNS) + 10, len(MEMBERSHIP_COLUMNS)
    return [(OrgView(*row[:org]), MemberView(*row[org:opted], bool(row[opted]), *row[opted + 1:end])) for row in rows]


# Built once: every USSD hop and inbound SMS asks it.
_CHAMAS_OF_PHONE = (select(*MEMBERSHIP_COLUMNS).select_from(MEMBERSHIPS).where(memberships_of(bindparam("phone")))
                    .order_by(*MEMBERSHIP_ORDER))


def chamas_of_phone(session: Session, actor: Actor, phone: str) -> list[tuple[OrgView, MemberView]]:
    """Every chama where this E.164 phone is a member who is not exited (for USSD and SMS)."""
    if not actor.system:
        raise PermissionDenied("Only the USSD and SMS gateway looks members up across chamas.")
    return membership_views(session.execute(_CHAMAS_OF_PHONE, {"phone": phone.strip()}))
