"""Members' SMS keywords: ``EVENTS`` lists upcoming events with their numbers,
``JOIN n`` registers for event n (or waitlists), ``LEAVE n`` cancels.

The handlers answer :mod:`core.inbound` for community orgs; the router
queues the reply through the outbox. A number that has no account yet gets
one (with a primary profile named from the number) on its first ``JOIN``.
Members are accounts, not contacts, so :func:`orgs_of_member` tells the
router which communities know a phone. Joining twice is one registration.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import inbound
from core.community.accounts import new_account
from core.community.base import MEMBERS
from core.community.events import cancel_registration, register, upcoming_events
from core.errors import OfisiError
from core.inbound import InboundSms
from core.numbers import whole_number
from db.models import Org
from db.models_community import CommunityAccount

LISTED = 5


def _account(session: Session, org: Org, phone: str, *, create: bool) -> CommunityAccount | None:
    account = session.scalar(select(CommunityAccount).where(CommunityAccount.org_id == org.id,
                                                            CommunityAccount.phone == phone))
    if account is None and create:
        account, _profile = new_account(session, org, phone=phone, display_name=phone)
        account.phone_verified = True  # the network told us who sent it
    return account


def _event_number(rest: str) -> int | None:
    word = rest.split()[0] if rest.split() else ""
    return whole_number(word)


@inbound.keyword("EVENTS", kinds=("community",))
def events_reply(session: Session, sms: InboundSms) -> str:
    org = session.get(Org, sms.org_id)
    events = upcoming_events(session, MEMBERS, org.id, now=sms.received_at, limit=LISTED)
    if not events:
        return f"{org.name}: no upcoming events right now. We will let you know."
    tz = ZoneInfo(org.timezone)
    lines = [f"{e.id}. {e.title} {e.starts_at.astimezone(tz):%d %b %H:%M}"
             + (" (full, waitlist)" if e.registered >= e.capacity else "") for e in events]
    return f"{org.name} events:\n" + "\n".join(lines) + "\nReply JOIN and the number to register."


@inbound.keyword("JOIN", kinds=("community",))
def join_reply(session: Session, sms: InboundSms) -> str:
    org = session.get(Org, sms.org_id)
    number = _event_number(sms.rest)
    if number is None:
        return "Reply JOIN and the event number, e.g. JOIN 3. Send EVENTS for the list."
    account = _account(session, org, sms.phone, create=True)
    try:
        registration = register(session, MEMBERS, org.id, number, account.id, source="sms", now=sms.received_at)
    except OfisiError as exc:
        return f"{exc} Send EVENTS for the list."
    if registration.status == "waitlisted":
        return f"Event {number} is full; you are on the waitlist and we will SMS you if a place opens."
    return f"You are registered for event {number}. Reply LEAVE {number} if you cannot come."


@inbound.keyword("LEAVE", kinds=("community",))
def leave_reply(session: Session, sms: InboundSms) -> str:
    org = session.get(Org, sms.org_id)
    number = _event_number(sms.rest)
    if number is None:
        return "Reply LEAVE and the event number, e.g. LEAVE 3."
    account = _account(session, org, sms.phone, create=False)
    if account is None:
        return f"You are not registered for event {number}."
    try:
        cancel_registration(session, MEMBERS, org.id, number, account.id, now=sms.received_at)
    except OfisiError as exc:
        return str(exc)
    return f"You have left event {number}. Thank you for letting us know."


@inbound.sender_orgs
def orgs_of_member(session: Session, phone: str) -> list[int]:
    return list(session.scalars(select(CommunityAccount.org_id).where(CommunityAccount.phone == phone)))


HANDLERS = {"EVENTS": events_reply, "JOIN": join_reply, "LEAVE": leave_reply}
