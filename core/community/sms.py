"""Members' SMS: ``EVENTS``, ``JOIN n`` (also ``JOIN4`` and ``join #4``), ``LEAVE n``,
``MY EVENTS``, ``POSTS``, ``REPORT n reason`` and ``HELP``; anything else lands in the staff inbox.

The handlers answer :mod:`core.inbound` for community orgs; the router
queues the reply through the outbox. Keywords are the first word; the
``@fallback`` reads what the first word alone cannot (``JOIN4``,
``MYEVENTS``), a stranger's answers while they join, and files everything
else in the inbox (:mod:`core.community.inbox`).

A stranger becomes a member before registering, never as a side effect of a
bad command: ``JOIN 4`` from an unknown number (for an event that exists and
is open) asks for their name, then their profile type, then creates the
account and registers them for event 4; ``JOIN 999`` creates nothing.
Their answers wait in ``community_signups`` meanwhile. A suspended member
gets a polite refusal to every keyword but ``HELP``; what they write still
reaches the inbox. Members are accounts, not contacts, so
:func:`orgs_of_member` tells the router which communities know a phone.
"""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import inbound
from core.community import inbox
from core.community.accounts import join
from core.community.base import MEMBERS, when
from core.community.events import cancel_registration, register, upcoming_events
from core.community.social import recent_posts, report_content
from core.errors import OfisiError
from core.inbound import InboundSms
from core.numbers import whole_number
from db.models import Org
from db.models_community import (
    PROFILE_TYPES,
    CommunityAccount,
    CommunityEvent,
    CommunityRegistration,
    CommunitySignup,
)
from db.types import utcnow

LISTED = 5
TYPE_NAMES = ("Innovator", "Mentor", "Investor", "Student", "Institution", "Organisation", "Professional")
TYPE_CHOICES = " ".join(f"{n} {name}" for n, name in enumerate(TYPE_NAMES, 1))
# JOIN4, join#4, LEAVE 4, REPORT4 spam: the word and the number in one go.
GLUED = re.compile(r"^\s*(JOIN|LEAVE|REPORT)\s*#?\s*(\d+)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _org(session: Session, sms: InboundSms) -> Org:
    return session.get(Org, sms.org_id)


def _account(session: Session, sms: InboundSms) -> CommunityAccount | None:
    account = session.scalar(select(CommunityAccount).where(CommunityAccount.org_id == sms.org_id,
                                                            CommunityAccount.phone == sms.phone))
    return account if account is None or account.status != "placeholder" else None


def _number(rest: str) -> int | None:
    match = re.match(r"#?\s*(\d+)", rest.strip())
    return whole_number(match.group(1)) if match else None


def _caller(session: Session, sms: InboundSms) -> tuple[Org, CommunityAccount | None, str | None]:
    """The org, the sender's account (None for a stranger) and, for a suspended member, the polite refusal."""
    org, account = _org(session, sms), _account(session, sms)
    return org, account, _suspended(org) if account is not None and account.status == "suspended" else None


def _suspended(org: Org) -> str:
    return (f"{org.name}: sorry, your membership is suspended, so we cannot do that now. "
            "Reply with a message and our staff will read it.")


def _help(org: Org) -> str:
    return (f"{org.name} by SMS: EVENTS to see events, JOIN and a number to register (JOIN 4), LEAVE 4 to "
            "cancel, MY EVENTS for yours, POSTS for the latest posts, REPORT and a number to report one. "
            "Anything else goes to our staff.")


@inbound.keyword("HELP", kinds=("community",))
def help_reply(session: Session, sms: InboundSms) -> str:
    return _help(_org(session, sms))


@inbound.keyword("EVENTS", kinds=("community",))
def events_reply(session: Session, sms: InboundSms) -> str:
    org, _member, refusal = _caller(session, sms)
    if refusal:
        return refusal
    events = upcoming_events(session, MEMBERS, org.id, now=sms.received_at, limit=LISTED)
    if not events:
        return f"{org.name}: no upcoming events right now. We will let you know."
    lines = [f"{e.id}. {e.title} {when(org, e.starts_at, '%d %b %H:%M')}"
             + (" (full, waitlist)" if e.registered >= e.capacity else "") for e in events]
    return f"{org.name} events:\n" + "\n".join(lines) + "\nReply JOIN and the number to register."


def _open_event(session: Session, org: Org, number: int, sms: InboundSms) -> CommunityEvent | str:
    event = session.scalar(select(CommunityEvent).where(CommunityEvent.org_id == org.id,
                                                        CommunityEvent.id == number))
    if event is None:
        return f"{org.name}: there is no event {number}. Send EVENTS for the list."
    if event.status != "scheduled" or event.starts_at <= sms.received_at:
        return f"{org.name}: {event.title} is no longer open for registration. Send EVENTS for the list."
    return event


@inbound.keyword("JOIN", kinds=("community",))
def join_reply(session: Session, sms: InboundSms) -> str:
    org = _org(session, sms)
    account = _account(session, sms)
    number = _number(sms.rest)
    if account is None:
        event = None
        if number is not None:
            event = _open_event(session, org, number, sms)
            if isinstance(event, str):
                return event  # nothing is created for a bad command
        return _start_signup(session, org, sms, event)
    if account.status == "suspended":
        return _suspended(org)
    if number is None:
        return f"{org.name}: you are a member. Reply JOIN and the event number, e.g. JOIN 3. Send EVENTS for the list."
    try:
        registration = register(session, MEMBERS, org.id, number, account.id, source="sms", confirm=False,
                                now=sms.received_at)
    except OfisiError as exc:
        return f"{org.name}: {exc} Send EVENTS for the list."
    event = session.get(CommunityEvent, number)
    if registration.status == "waitlisted":
        return (f"{org.name}: {event.title} is full; you are on the waitlist and we will SMS you if a place "
                f"opens. Reply LEAVE {number} to leave it.")
    return (f"{org.name}: you are registered for {event.title} on {when(org, event.starts_at)}. "
            f"Reply LEAVE {number} if you cannot come.")


@inbound.keyword("LEAVE", kinds=("community",))
def leave_reply(session: Session, sms: InboundSms) -> str:
    org = _org(session, sms)
    number = _number(sms.rest)
    if number is None:
        return f"{org.name}: reply LEAVE and the event number, e.g. LEAVE 3."
    account = _account(session, sms)
    if account is not None and account.status == "suspended":
        return _suspended(org)
    if account is None:
        return f"{org.name}: you are not registered for event {number}."
    try:
        cancel_registration(session, MEMBERS, org.id, number, account.id, tell_member=False, now=sms.received_at)
    except OfisiError as exc:
        return f"{org.name}: {exc}"
    return f"{org.name}: you have left event {number}. Thank you for letting us know."


@inbound.keyword("MY", kinds=("community",))
def my_reply(session: Session, sms: InboundSms) -> str | None:
    if not sms.rest.upper().startswith("EVENT"):
        return _to_inbox(session, sms)
    return _my_events(session, sms)


def _my_events(session: Session, sms: InboundSms) -> str:
    org = _org(session, sms)
    account = _account(session, sms)
    if account is None:
        return f"{org.name}: you are not a member yet. Reply JOIN to join."
    if account.status == "suspended":
        return _suspended(org)
    E, R = CommunityEvent, CommunityRegistration
    rows = session.execute(select(E, R.status).join(R, R.event_id == E.id).where(
        R.account_id == account.id, R.status.in_(("registered", "waitlisted")), E.status == "scheduled",
        E.ends_at > sms.received_at).order_by(E.starts_at).limit(LISTED)).all()
    if not rows:
        return f"{org.name}: you have no upcoming events. Send EVENTS for the list."
    return f"{org.name}, your events:\n" + "\n".join(
        f"{e.id}. {e.title} {when(org, e.starts_at, '%d %b %H:%M')} {status}" for e, status in rows)


@inbound.keyword("POSTS", kinds=("community",))
def posts_reply(session: Session, sms: InboundSms) -> str:
    org, _member, refusal = _caller(session, sms)
    if refusal:
        return refusal
    posts = recent_posts(session, MEMBERS, org.id, limit=3)
    if not posts:
        return f"{org.name}: no posts yet."
    lines = [f"{p.id}. {name}: {(p.title or p.body)[:50]}" for p, name in posts]
    return f"{org.name} posts:\n" + "\n".join(lines) + "\nTo report one, reply REPORT and its number."


@inbound.keyword("REPORT", kinds=("community",))
def report_reply(session: Session, sms: InboundSms) -> str:
    org = _org(session, sms)
    number = _number(sms.rest)
    if number is None:
        return f"{org.name}: reply REPORT and the post's number, and why, e.g. REPORT 12 spam."
    account = _account(session, sms)
    if account is None:
        return f"{org.name}: only members can report posts. Reply JOIN to join."
    if account.status == "suspended":
        return _suspended(org)
    reason = re.sub(r"^#?\s*\d+\s*", "", sms.rest.strip()).strip() or "reported by SMS"
    try:
        report_content(session, MEMBERS, org.id, "post", number, reason[:500], reporter_account_id=account.id)
    except OfisiError as exc:
        return f"{org.name}: {exc}"
    return f"{org.name}: thank you; post {number} is reported and a moderator will look at it."


# ---------------------------------------------------------------- strangers joining

def _start_signup(session: Session, org: Org, sms: InboundSms, event: CommunityEvent | None) -> str:
    signup = session.scalar(select(CommunitySignup).where(CommunitySignup.org_id == org.id,
                                                          CommunitySignup.phone == sms.phone))
    if signup is None:
        signup = CommunitySignup(org_id=org.id, phone=sms.phone, step="name", created_at=sms.received_at)
        session.add(signup)
    signup.step, signup.name, signup.updated_at = "name", None, utcnow()
    signup.event_id = event.id if event is not None else signup.event_id
    session.flush()
    then = f" and then register you for {event.title}" if event is not None else ""
    return f"Welcome to {org.name}! To join{then}, reply with your full name."


def _answer_signup(session: Session, org: Org, sms: InboundSms, signup: CommunitySignup) -> str:
    text = " ".join(sms.text.split())
    if signup.step == "name":
        if len(text) < 2 or not any(ch.isalpha() for ch in text):
            return f"{org.name}: please reply with your full name."
        signup.name, signup.step, signup.updated_at = text[:200], "type", utcnow()
        return (f"Thank you, {text.split()[0]}. Which describes you best? Reply with a number: {TYPE_CHOICES}")
    choice = whole_number(text)
    by_word = {name.lower(): i for i, name in enumerate(TYPE_NAMES, 1)}
    choice = choice if choice is not None else by_word.get(text.lower())
    if choice is None or not 1 <= choice <= len(PROFILE_TYPES):
        return f"{org.name}: reply with a number from 1 to {len(PROFILE_TYPES)}: {TYPE_CHOICES}"
    member = join(session, MEMBERS, org.id, phone=sms.phone, display_name=signup.name, type=PROFILE_TYPES[choice - 1],
                  source="sms")
    event_id = signup.event_id
    session.delete(signup)
    session.flush()
    welcome = f"Welcome to {org.name}, {signup.name.split()[0]}!"
    if event_id is None:
        session.commit()
        return f"{welcome} Send EVENTS to see what is on, HELP for more."
    try:
        registration = register(session, MEMBERS, org.id, event_id, member.id, source="sms", confirm=False,
                                now=sms.received_at)
    except OfisiError as exc:
        session.commit()  # the membership stands even if the event closed meanwhile
        return f"{welcome} {exc} Send EVENTS for the list."
    event = session.get(CommunityEvent, event_id)
    if registration.status == "waitlisted":
        return f"{welcome} {event.title} is full; you are on the waitlist and we will SMS you if a place opens."
    return (f"{welcome} You are registered for {event.title} on {when(org, event.starts_at)}. "
            f"Reply LEAVE {event.id} if you cannot come.")


# ---------------------------------------------------------------- everything else

def _to_inbox(session: Session, sms: InboundSms) -> str | None:
    account = _account(session, sms)
    _thread, opened = inbox.record_inbound(session, sms.org_id, phone=sms.phone,
                                           account_id=account.id if account else None, text=sms.text,
                                           inbound_message_id=sms.id, at=sms.received_at)
    if not opened:
        return None  # one acknowledgement per conversation, not one per message
    org = _org(session, sms)
    return f"{org.name}: thank you, our staff will read your message and reply. Send HELP for what you can do by SMS."


@inbound.fallback("community")
def anything_else(session: Session, sms: InboundSms) -> str | None:
    glued = GLUED.match(sms.text)
    if glued:
        word, number, rest = glued.groups()
        sms = dataclasses.replace(sms, keyword=word.upper(), rest=f"{number} {rest}".strip())
        return {"JOIN": join_reply, "LEAVE": leave_reply, "REPORT": report_reply}[sms.keyword](session, sms)
    if sms.keyword in ("MYEVENTS", "MY-EVENTS"):
        return _my_events(session, sms)
    signup = session.scalar(select(CommunitySignup).where(CommunitySignup.org_id == sms.org_id,
                                                          CommunitySignup.phone == sms.phone))
    if signup is not None and _account(session, sms) is None:
        return _answer_signup(session, _org(session, sms), sms, signup)
    return _to_inbox(session, sms)


@inbound.sender_orgs
def orgs_of_member(session: Session, phone: str) -> list[int]:
    known = set(session.scalars(select(CommunityAccount.org_id).where(CommunityAccount.phone == phone)))
    known.update(session.scalars(select(CommunitySignup.org_id).where(CommunitySignup.phone == phone)))
    return sorted(known)


HANDLERS = {"EVENTS": events_reply, "JOIN": join_reply, "LEAVE": leave_reply, "MY": my_reply, "POSTS": posts_reply,
            "REPORT": report_reply, "HELP": help_reply}
