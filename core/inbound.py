"""Inbound SMS and WhatsApp: record each message once, route it to the orgs it is for, let areas answer.

A message is for the orgs whose ``sms_number`` is the number it was sent to
and that know the sender (as a contact, or through an area's ``sender_orgs``
look-up); when the number belongs to one org only, that org gets it even from
a stranger (a salon's own number takes new leads). When the number is not
any org's, the message goes to every org that knows the sender.

Areas register what they answer, by first word and org kind::

    @keyword("BAL", kinds=("chama",))
    def balance(session, sms): ...          # returns the reply text, or None

    @fallback("salon")                       # anything no keyword took, for salons
    @observer                                # sees every routed message (campaign responses)
    @sender_orgs                             # (session, phone) -> org ids that know this phone

A WhatsApp message (``channel="whatsapp"``) is routed the same way; its replies
go back by WhatsApp. ``STOP`` and ``START`` belong to the core: they record or
remove the opt-out from that org's messages on the channel they came by, and
every way of writing them that :func:`core.optouts.consent_word` reads ("Stop.",
"stop please", "UNSUBSCRIBE", "ACHA"…) is the keyword ``STOP`` or ``START``.

The message is committed as ``received`` before any area acts, because the
areas' services commit their own work; it becomes ``handled`` (or
``unrouted``) when every org has answered. A redelivery of a finished
message is a no-op; a redelivery of one whose handling died half-way is
handled again, so handlers must be idempotent (joining twice is one
registration) and each reply is keyed ``inbound:<id>:reply``, so nobody gets
two answers. A handler's refusal (an ``OfisiError``) rolls back what it had
not committed and becomes the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox
from core.errors import InvalidInput, OfisiError
from core.optouts import consent_word, opt_in, opt_out
from core.phones import normalize_phone
from db.models import Contact, InboundMessage, Org
from db.types import utcnow

log = logging.getLogger("ofisi.inbound")


@dataclass(frozen=True)
class InboundSms:
    """One inbound message as one org sees it."""

    id: int
    org_id: int
    org_kind: str
    org_name: str
    phone: str
    to: str
    text: str
    keyword: str
    rest: str
    contact_id: int | None
    received_at: datetime
    channel: str = "sms"


Handler = Callable[[Session, InboundSms], "str | None"]
Observer = Callable[[Session, InboundSms], None]
SenderOrgs = Callable[[Session, str], Iterable[int]]

ANY_KIND = "*"
_KEYWORDS: dict[tuple[str, str], Handler] = {}
_FALLBACKS: dict[str, Handler] = {}
_OBSERVERS: list[Observer] = []
_SENDER_ORGS: list[SenderOrgs] = []


def keyword(*words: str, kinds: Iterable[str] = (ANY_KIND,)) -> Callable[[Handler], Handler]:
    """Answer messages whose first word is one of ``words`` (any case) for orgs of ``kinds``."""
    def register(handler: Handler) -> Handler:
        for kind in kinds:
            for word in words:
                _KEYWORDS[(kind, word.upper())] = handler
        return handler
    return register


def fallback(kind: str) -> Callable[[Handler], Handler]:
    """Answer what no keyword took, for orgs of ``kind``."""
    def register(handler: Handler) -> Handler:
        _FALLBACKS[kind] = handler
        return handler
    return register


def observer(fn: Observer) -> Observer:
    """See every routed message after its handler ran (the return value is ignored)."""
    _OBSERVERS.append(fn)
    return fn


def sender_orgs(fn: SenderOrgs) -> SenderOrgs:
    """Tell routing which orgs know a phone that is not one of their contacts."""
    _SENDER_ORGS.append(fn)
    return fn


@dataclass
class Received:
    """What one inbound message did: ``status`` is duplicate, invalid, unrouted or handled."""

    status: str
    inbound_id: int | None = None
    org_ids: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)


def receive(
    session: Session, *, provider: str, provider_message_id: str, from_phone: str, to: str, text: str,
    received_at: datetime | None = None, channel: str = "sms",
) -> Received:
    """Record, route and answer one message (by SMS, or ``channel="whatsapp"``), and commit.
    A redelivery returns ``duplicate``."""
    from core.registry import load_areas

    if channel not in ("sms", "whatsapp"):
        raise ValueError(f"inbound messages come by sms or whatsapp, not {channel!r}")
    load_areas()
    to = "".join(to.split())
    text = (text or "").strip()
    try:
        phone = normalize_phone(from_phone, _country_for(session, to))
    except InvalidInput:
        log.warning("inbound %s from %r: not a phone number", provider_message_id, from_phone)
        return Received("invalid")
    row = session.scalar(select(InboundMessage).where(InboundMessage.provider == provider,
                                                      InboundMessage.provider_message_id == provider_message_id))
    if row is not None and row.status != "received":
        return Received("duplicate")
    if row is None:
        row = InboundMessage(provider=provider, provider_message_id=provider_message_id, from_phone=phone,
                             to_address=to, text=text, status="received", received_at=received_at or utcnow())
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return Received("duplicate")
        # Kept before any area acts: areas' services commit their own work.
        session.commit()
    orgs = route(session, phone, to)
    result = Received("handled" if orgs else "unrouted", row.id, [org.id for org in orgs])
    first, _, rest = text.partition(" ")
    word = consent_word(text) or first.upper()
    contacts = dict(session.execute(
        select(Contact.org_id, Contact.id).where(Contact.phone == phone, Contact.org_id.in_(result.org_ids))).all())
    for org in orgs:
        sms = InboundSms(row.id, org.id, org.kind, org.name, phone, to, text, word, rest.strip(),
                         contacts.get(org.id), row.received_at, channel)
        reply = _answer(session, sms)
        if reply:
            result.replies.append(outbox.enqueue(session, org.id, to=phone, body=reply, purpose="transactional",
                                                 channel=channel, dlt_kind=_DLT_KINDS.get(word, "reply"),
                                                 idempotency_key=f"inbound:{row.id}:reply",
                                                 contact_id=sms.contact_id))
        for watch in _OBSERVERS:
            watch(session, sms)
        session.commit()
    row.org_ids, row.status = result.org_ids, result.status
    session.commit()
    return result


# Which registered DLT template an answer to India follows (core.providers.india.REPLY_KINDS).
_DLT_KINDS = {"STOP": "opt-out", "START": "opt-in"}


def _answer(session: Session, sms: InboundSms) -> str | None:
    handler = (_KEYWORDS.get((sms.org_kind, sms.keyword)) or _KEYWORDS.get((ANY_KIND, sms.keyword))
               or _FALLBACKS.get(sms.org_kind))
    if handler is None:
        return None
    try:
        return handler(session, sms)
    except OfisiError as refusal:
        session.rollback()  # what the handler had not committed goes; the refusal is the answer
        return f"{sms.org_name}: {refusal}"


def route(session: Session, phone: str, to: str) -> list[Org]:
    """The orgs a message from ``phone`` to ``to`` is for (see the module docstring)."""
    known = set(session.scalars(select(Contact.org_id).where(Contact.phone == phone)))
    for lookup in _SENDER_ORGS:
        known.update(lookup(session, phone))
    by_number = list(session.scalars(select(Org).where(Org.sms_number == to).order_by(Org.id))) if to else []
    if by_number:
        chosen = [org for org in by_number if org.id in known]
        return chosen or (by_number if len(by_number) == 1 else [])
    if not known:
        return []
    return list(session.scalars(select(Org).where(Org.id.in_(known)).order_by(Org.id)))


def _country_for(session: Session, to: str) -> str:
    """Read a local sender number in the country of the org that owns ``to`` (Kenya otherwise)."""
    country = session.scalar(select(Org.country).where(Org.sms_number == to).limit(1)) if to else None
    return country or "KE"


def _channel_name(channel: str) -> str:
    return {"sms": "SMS", "whatsapp": "WhatsApp messages"}[channel]


@keyword("STOP")
def _stop(session: Session, sms: InboundSms) -> str:
    opt_out(session, sms.org_id, sms.channel, sms.phone, source=sms.channel)
    return (f"{sms.org_name}: you will get no more {_channel_name(sms.channel)} from us, except codes and "
            "receipts you ask for. Reply START to get them again.")


@keyword("START")
def _start(session: Session, sms: InboundSms) -> str:
    opt_in(session, sms.org_id, sms.channel, sms.phone)
    return f"{sms.org_name}: welcome back; you will get our {_channel_name(sms.channel)} again. Reply STOP to stop them."
