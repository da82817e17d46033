"""The outbox: messages are rows first, sends second.

A message's life::

    queued ──claim──▶ claimed ──before the call──▶ sending ──▶ sent
       ▲                 │                            ├──▶ queued   (transient error, backoff + jitter)
       │   (stale claim: │                            ├──▶ dead     (transient errors, attempts used up)
       └─never attempted)┘                            ├──▶ failed   (permanent error)
                                                      └──▶ unknown  (ambiguous reply, or the process died)

No provider call starts before the message's ``sending`` is committed, and
with it the outcome of the call before (one commit per message, not two, and
never an open transaction during a call). So a crash leaves at most the one
message that was on the wire as ``sending``; the next run turns a stale
``sending`` into ``unknown``, which is never resent by itself: a delivery
report or an operator settles it. Claims use ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite every transaction holds the write lock (``BEGIN
IMMEDIATE``), which gives the same one-claimer-per-row rule.

Consent lives here, so that no area can forget it. Every message declares its
purpose; service and marketing messages to an address that opted out of the
channel (:mod:`core.optouts`) are recorded ``opted_out`` instead of queued, and
those queued before the opt-out are withdrawn the same way when they are
claimed; transactional ones go regardless. A ``secret`` message (it carries a
code) is shown redacted to everyone (:class:`MessageView`); only the sender
reads its body, which is replaced by the redacted form once it has gone (sent,
failed, dead or unknown).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
import dataclasses
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, Text, bindparam, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.changes import mark_changed
from core.errors import InvalidInput, NotFound, OfisiError
from core.optouts import is_opted_out, opted_out_addresses, refuse_if_opted_out
from core.permissions import grant, require
from core.phones import normalize_phone
from core.providers import (
    AmbiguousSendError,
    Attachment,
    OutgoingMessage,
    PermanentSendError,
    Provider,
    ProviderUnavailable,
    SendError,
    SendResult,
    ThrottledSendError,
    TransientSendError,
    provider_name,
)
from core.providers.india import DLT_PREFIX, INDIA, REPLY_KINDS, dlt_subject, india_route
from db.engine import Database, dialect_insert, insert_unless_present
from db.models import Message, OptOut, Org
from db.models_campaigns import Campaign, CampaignSettings, DltReplyTemplate, MessageCost
from db.types import UTCDateTime, utcnow

log = logging.getLogger("ofisi.outbox")

CHANNELS = ("sms", "email", "whatsapp")
STATUSES = ("queued", "claimed", "sending", "sent", "delivered", "failed", "dead", "unknown", "cancelled",
            "opted_out")
# Why a message goes, which says whose opt-outs hold it back:
#   transactional  what the person's own action calls for: a sign-in code, a receipt, a reply to their request
#   service        what the org sends them unasked about their dealings: reminders, statements, notices
#   marketing      campaigns
PURPOSES = ("transactional", "service", "marketing")
HELD_BY_OPT_OUT = ("service", "marketing")
OPTED_OUT_NOTE = "not sent: the address opted out of this channel (STOP) before it went"
# What a secret message's body reads as, wherever it is read, and what it becomes once it has gone.
REDACTED = "(a one-time code: its text is not kept once sent)"

grant("*", "*", "messages.read")


@dataclass(frozen=True)
class MessageView:
    id: int
    org_id: int
    channel: str
    to: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
    purpose: str
    secret: bool

    @classmethod
    def of(cls, m: Message) -> MessageView:
        """The message as anyone but the sender may see it: a code is never shown."""
        return cls(m.id, m.org_id, m.channel, m.to_address, REDACTED if m.secret else m.body, m.status, m.attempts,
                   m.next_attempt_at, m.provider_message_id, m.last_error, m.created_at, m.purpose, m.secret)


def _address(channel: str, to: str, country: str) -> str:
    if channel in ("sms", "whatsapp"):
        return normalize_phone(to, country)
    address = to.strip().lower()
    if "@" not in address:
        raise InvalidInput(f"{to!r} is not an email address.")
    return address


def enqueue(
    session: Session,
    org_id: int,
    *,
    to: str,
    body: str,
    purpose: str,
    secret: bool = False,
    channel: str = "sms",
    subject: str | None = None,
    idempotency_key: str | None = None,
    send_at: datetime | None = None,
    contact_id: int | None = None,
    campaign_id: int | None = None,
    dlt_kind: str | None = None,
) -> int:
    """Add a message to the caller's unit of work; returns its id.

    ``purpose`` is one of :data:`PURPOSES`; ``secret`` marks a message that
    carries a code. For use by services that have already checked permission.
    With an ``idempotency_key`` a second enqueue of the same key returns the
    first message's id and adds nothing, even when two processes race.
    An SMS to India that carries no DLT IDs of its own (a campaign's do) gets
    those the org registered for its kind (``dlt_kind``, one of
    :data:`core.providers.india.REPLY_KINDS`; its purpose's by default), or is
    recorded ``failed`` saying what to register: operators drop it otherwise.
    """
    _check_purpose(purpose)
    if dlt_kind is not None and dlt_kind not in REPLY_KINDS:
        raise ValueError(f"{dlt_kind!r} is not a kind of SMS; use one of {', '.join(REPLY_KINDS)}")
    if channel not in CHANNELS:
        raise InvalidInput(f"{channel!r} is not a channel; use one of {', '.join(CHANNELS)}.")
    if not body.strip():
        raise InvalidInput("A message needs some text.")
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("That organisation does not exist.")
    address = _address(channel, to, org.country)
    values = dict(
        org_id=org_id,
        channel=channel,
        to_address=address,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        next_attempt_at=send_at or utcnow(),
        contact_id=contact_id,
        campaign_id=campaign_id,
        purpose=purpose,
        secret=secret,
    )
    if purpose in HELD_BY_OPT_OUT and is_opted_out(session, org_id, channel, address):
        values.update(status="opted_out", last_error=OPTED_OUT_NOTE)  # kept, so staff can see why
    elif (channel == "sms" and purpose != "marketing" and address.startswith(INDIA)
          and not (subject or "").startswith(DLT_PREFIX) and india_route()):
        values["subject"], refusal = _india_dlt(session, org, dlt_kind or purpose)
        if refusal:
            # Kept, so staff can see why and fix it; it goes once they do (release_dlt_held).
            values.update(status="failed", last_error=refusal, dlt_kind=dlt_kind or purpose)
    if idempotency_key is None:
        # Nothing to race on: one INSERT, no savepoint round trips.
        message = Message(**values)
        session.add(message)
        session.flush()
        return message.id
    # One statement whether or not the key is new, and race-free: the unique (org_id, key) decides.
    # On the table, not the class: the ORM's bulk path costs more than the insert (USSD enqueues here).
    table = Message.__table__
    new_id = session.scalar(insert_unless_present(session.get_bind().dialect.name, table,
                                                  ("org_id", "idempotency_key"), table.c.id), values)
    if new_id is not None:
        mark_changed(session, org_id)
        return new_id
    return session.scalar(
        select(Message.id).where(Message.org_id == org_id, Message.idempotency_key == idempotency_key))


# How long an SMS held back for a missing DLT ID may still go once it is registered: a receipt or an
# answer an hour late still helps; one from days ago confuses.
DLT_RELEASE_WITHIN = timedelta(hours=24)


def release_dlt_held(session: Session, org_id: int, *, now: datetime | None = None) -> int:
    """Queue again the org's SMS to India held back for a DLT ID it has now registered (part of the
    caller's unit of work, which has checked permission); returns how many. Only those from the
    last :data:`DLT_RELEASE_WITHIN`, never a one-time code (stale by now), and none whose person
    has since opted out of their purpose."""
    now = now or utcnow()
    org = session.get(Org, org_id)
    held = session.scalars(select(Message).where(
        Message.org_id == org_id, Message.status == "failed", Message.dlt_kind.is_not(None),
        Message.secret.is_(False), Message.created_at >= now - DLT_RELEASE_WITHIN).with_for_update()).all()
    released, dlt, opt_outs = 0, {}, {}  # each kind's IDs and each purpose's opt-outs, read once
    for message in held:
        if message.dlt_kind not in dlt:
            dlt[message.dlt_kind] = _india_dlt(session, org, message.dlt_kind)
        subject, refusal = dlt[message.dlt_kind]
        if refusal:
            message.last_error = refusal  # what is still missing, in case that changed
            continue
        if message.purpose not in opt_outs:
            opt_outs[message.purpose] = OptOuts(session, org_id, message.purpose)
        if opt_outs[message.purpose].hold(message.channel, message.to_address):
            message.status, message.last_error, message.dlt_kind = "opted_out", OPTED_OUT_NOTE, None
            continue
        message.subject, message.status, message.last_error, message.dlt_kind = subject, "queued", None, None
        message.next_attempt_at, message.attempts = now, 0
        released += 1
    return released


def _india_dlt(session: Session, org: Org, kind: str) -> tuple[str | None, str | None]:
    """The DLT IDs an org's SMS of ``kind`` to India carries (as the subject holds them), or
    (None, why it cannot go and what to do)."""
    entity = session.scalar(select(CampaignSettings.dlt_entity_id).where(CampaignSettings.org_id == org.id))
    template = session.scalar(select(DltReplyTemplate.dlt_template_id)
                              .where(DltReplyTemplate.org_id == org.id, DltReplyTemplate.kind == kind))
    if entity and template:
        return dlt_subject(entity, template), None
    if not template:
        return None, (f"not sent: no DLT template registered for {REPLY_KINDS[kind]}, and Indian operators drop "
                      f"SMS without one; register its text on DLT, then `ofisi campaigns settings --org {org.slug} "
                      f"--dlt-template {kind}=ID` to set it")
    return None, ("not sent: the organisation has no DLT entity ID, and Indian operators drop SMS without one; "
                  f"`ofisi campaigns settings --org {org.slug} --dlt-entity-id ID` to set it")


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"{purpose!r} is not a message purpose; use one of {', '.join(PURPOSES)}")


class OptOuts:
    """Whether the opt-outs hold back a message of ``purpose`` to an address of one org, each
    channel's opt-outs read once however many messages are asked about (a campaign run)."""

    def __init__(self, session: Session, org_id: int, purpose: str) -> None:
        _check_purpose(purpose)
        self._session, self._org_id, self.purpose = session, org_id, purpose
        self._read: dict[str, set[str]] = {}

    def hold(self, channel: str, address: str) -> bool:
        if self.purpose not in HELD_BY_OPT_OUT:
            return False
        if channel not in self._read:
            self._read[channel] = opted_out_addresses(self._session, self._org_id, channel)
        return address in self._read[channel]


def address_for(channel: str, to: str, country: str) -> str:
    """The address as the outbox stores it (E.164 phone, lower-case email); InvalidInput if it is none."""
    return _address(channel, to, country)


def enqueue_many(session: Session, org_id: int, messages: list[dict], *, purpose: str,
                 secret: bool = False, opt_outs: OptOuts | None = None) -> int:
    """Add many messages of one ``purpose`` in one statement (a campaign run); each dict holds
    ``channel``, ``to_address`` (already checked with :func:`address_for`), ``body`` and optionally
    ``subject``, ``idempotency_key``, ``contact_id``, ``campaign_id``, ``next_attempt_at``.
    Returns how many were queued: those the opt-outs hold back are left out (a caller that adds
    many batches passes one :class:`OptOuts` for them all, so they are read once).

    For keys that cannot exist yet (the caller owns a fresh key space, as a new campaign
    run does): a clash fails the whole unit of work instead of being skipped.
    """
    opt_outs = opt_outs or OptOuts(session, org_id, purpose)
    if opt_outs.purpose != purpose:
        raise ValueError(f"opt-outs read for {opt_outs.purpose} messages, not {purpose}")
    messages = [m for m in messages if not opt_outs.hold(m["channel"], m["to_address"])]
    if not messages:
        return 0
    now = utcnow()
    rows = [{"subject": None, "idempotency_key": None, "contact_id": None, "campaign_id": None,
             "next_attempt_at": now, **m, "org_id": org_id, "status": "queued", "attempts": 0,
             "purpose": purpose, "secret": secret, "created_at": now, "updated_at": now} for m in messages]
    session.execute(Message.__table__.insert(), rows)
    return len(rows)


def send_message(
    session: Session, actor: Actor, org_id: int, *, to: str, body: str, channel: str = "sms",
    idempotency_key: str | None = None, send_at: datetime | None = None,
) -> MessageView:
    """Queue one message on behalf of a person (the console's "send SMS")."""
    org = require(session, actor, org_id, "messages.send")
    refuse_if_opted_out(session, org_id, channel, _address(channel, to, org.country), to)
    message_id = enqueue(session, org_id, to=to, body=body, channel=channel, purpose="service",
                         idempotency_key=idempotency_key, send_at=send_at)
    session.commit()
    return MessageView.of(session.get(Message, message_id))


def list_messages(
    session: Session, actor: Actor, org_id: int, *, status: str | None = None,
    before_id: int | None = None, limit: int = 100,
) -> list[MessageView]:
    """Newest first, paged by id."""
    require(session, actor, org_id, "messages.read")
    query = select(Message).where(Message.org_id == org_id)
    if status:
        query = query.where(Message.status == status)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return [MessageView.of(m) for m in session.scalars(query.order_by(Message.id.desc()).limit(limit))]


def status_counts(session: Session, actor: Actor, org_id: int) -> dict[str, int]:
    require(session, actor, org_id, "messages.read")
    rows = session.execute(
        select(Message.status, func.count()).where(Message.org_id == org_id).group_by(Message.status)
    )
    return {status: count for status, count in rows}


def settle_unknown(session: Session, actor: Actor, org_id: int, message_id: int, *, sent: bool) -> MessageView:
    """An operator's verdict on an ``unknown`` message: it went (``sent``) or send it again."""
    require(session, actor, org_id, "messages.send")
    message = session.get(Message, message_id)
    if message is None or message.org_id != org_id:
        raise NotFound("That message does not exist.")
    if message.status != "unknown":
        raise InvalidInput(f"Message {message_id} is {message.status}, not unknown; there is nothing to settle.")
    if message.secret and not sent:
        raise InvalidInput(f"Message {message_id} carried a sign-in code, which is not sent twice; "
                           "whoever was waiting for it can ask for a new one.")
    before = {"status": message.status}
    if sent:
        message.status = "sent"
    else:
        message.status, message.next_attempt_at, message.claimed_by = "queued", utcnow(), None
    audit.record(session, actor, "message.settle", "message", message.id, org_id=org_id,
                 before=before, after={"status": message.status})
    session.commit()
    return MessageView.of(message)


# Africa's Talking delivery-report statuses and what they mean for a message.
DELIVERY_STATUSES = {
    "Success": "delivered",
    "Sent": "sent", "Submitted": "sent", "Buffered": "sent",
    "Rejected": "failed", "Failed": "failed",
    # WhatsApp Cloud API statuses (lower case, so they never meet Africa's Talking's).
    "sent": "sent", "delivered": "delivered", "read": "delivered", "failed": "failed",
}
# A report only ever moves a message forward: reports arrive late, twice, or out of order.
_PROGRESS = {"queued": 0, "claimed": 0, "sending": 0, "unknown": 0, "sent": 1, "delivered": 2, "failed": 2}


def record_delivery_report(
    session: Session, provider: str, provider_message_id: str, status: str, *, reason: str | None = None,
) -> MessageView | None:
    """Apply a provider's delivery report; None when no message carries that id.

    Idempotent: the same report twice, or an older report after a newer
    one, changes nothing. A message left ``unknown`` by a crash is settled
    here when the provider's id reached us.
    """
    new_status = DELIVERY_STATUSES.get(status)
    message = session.scalar(
        select(Message).where(Message.provider == provider, Message.provider_message_id == provider_message_id)
    )
    if message is None or new_status is None:
        return None if message is None else MessageView.of(message)
    if _PROGRESS.get(new_status, 0) > _PROGRESS.get(message.status, 3):
        message.status = new_status
        if message.secret:  # the report may come before the sender has recorded the send
            message.body = REDACTED
        if new_status == "failed":
            message.last_error = f"delivery report: {status}" + (f" ({reason})" if reason else "")
        session.commit()
    return MessageView.of(message)


# ---------------------------------------------------------------- dispatching

@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    unknown: int = 0
    throttled: int = 0
    stale_unknown: int = 0
    released: int = 0
    stopped: str | None = None
    waiting: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        parts = [f"{self.sent} sent", f"{self.retried} to retry", f"{self.failed} failed",
                 f"{self.dead} dead-lettered", f"{self.unknown + self.stale_unknown} unknown"]
        text = ", ".join(parts)
        if self.released:
            text += f", {self.released} abandoned claims returned to the queue"
        if self.waiting:
            text += "; no provider for " + ", ".join(f"{n} {ch}" for ch, n in sorted(self.waiting.items()))
        return text


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
        """Exponential backoff with jitter: between half and all of base·2^(n−1), capped."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling * (0.5 + 0.5 * rng()))


def worker_name() -> str:
    """Who claims: host, process, and a token per run, so that two runs in one
    process (threads, the scheduler) never take each other's claims for their own."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


def recover_stale(session: Session, now: datetime, stale_after: timedelta) -> tuple[int, int]:
    """Settle rows whose process died: never-attempted claims go back to the
    queue; rows that were on the wire become ``unknown`` (never resent blindly).

    A claim is stale when it is older than ``stale_after``; a ``sending`` row
    when its call started longer ago than that (the claim time is reset as the
    call starts, and live senders refresh the claims they still hold).
    """
    cutoff = now - stale_after

    def stale(status: str) -> list[int]:
        # Rows another run is recovering at this moment are locked: leave them to it.
        return session.scalars(
            select(Message.id).where(Message.status == status, Message.claimed_at < cutoff)
            .with_for_update(skip_locked=True)
        ).all()

    released_ids = stale("claimed")
    released = session.execute(
        update(Message)
        .where(Message.id.in_(released_ids))
        .values(status="queued", claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount if released_ids else 0
    unknown_ids = stale("sending")
    stale_orgs = session.execute(
        update(Message)
        .where(Message.id.in_(unknown_ids))
        .values(status="unknown", updated_at=now, body=case((Message.secret, REDACTED), else_=Message.body),
                last_error="the sending process stopped before the provider answered; check delivery reports")
        .returning(Message.org_id)
        .execution_options(synchronize_session=False)
    ).scalars().all() if unknown_ids else []
    for org_id in set(stale_orgs):
        mark_changed(session, org_id)
    session.commit()
    return released, len(stale_orgs)


# A paused or cancelled campaign's messages stay where they are: pausing never loses or repeats one.
HELD_CAMPAIGN_STATUSES = ("paused", "cancelled")
_CAMPAIGN_NOT_HELD = or_(
    Message.campaign_id.is_(None),
    ~exists().where(Campaign.id == Message.campaign_id, Campaign.status.in_(HELD_CAMPAIGN_STATUSES)),
)


_OPTED_OUT = exists().where(OptOut.org_id == Message.org_id, OptOut.channel == Message.channel,
                            OptOut.address == Message.to_address)


def claim_due(session: Session, worker: str, channels: list[str], limit: int, now: datetime) -> list[OutgoingMessage]:
    """Take up to ``limit`` due messages for ``worker`` and commit the claim.

    Two statements, not ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE
    SKIP LOCKED)``: PostgreSQL may run that subquery again for every row the
    UPDATE scans (a nested-loop semi-join) and then claims more than ``n``.
    """
    while True:
        ids = session.scalars(
            select(Message.id)
            .where(Message.status == "queued", Message.next_attempt_at <= now, Message.channel.in_(channels),
                   _CAMPAIGN_NOT_HELD)
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Message)
        ).all()
        if not ids:
            session.commit()
            return []
        # Opt-outs take effect for messages already queued: those they hold back are withdrawn here.
        withdrawn = session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.purpose.in_(HELD_BY_OPT_OUT), _OPTED_OUT)
            .values(status="opted_out", last_error=OPTED_OUT_NOTE, updated_at=now)
            .returning(Message.org_id)
            .execution_options(synchronize_session=False)
        ).scalars().all()
        for org_id in set(withdrawn):
            mark_changed(session, org_id)
        rows = session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == "queued")
            .values(status="claimed", claimed_by=worker, claimed_at=now, updated_at=now)
            .returning(Message.id, Message.org_id, Message.channel, Message.to_address, Message.subject,
                       Message.body, Message.campaign_id, Message.secret, Message.idempotency_key)
            .execution_options(synchronize_session=False)
        ).all()
        session.commit()
        if rows:  # a batch that was all withdrawn is no reason to stop: take the next
            return sorted((_outgoing(session, row) for row in rows), key=lambda m: m.id)


AttachmentBuilder = Callable[[Session, int, str], "list[Attachment]"]
_ATTACHMENTS: dict[str, AttachmentBuilder] = {}


def attachments(key_prefix: str) -> Callable[[AttachmentBuilder], AttachmentBuilder]:
    """Build the files of emails whose idempotency key starts with ``key_prefix``, when they are sent:
    ``builder(session, org_id, key)`` returns them (an area's calendar invitation, as it is then)."""
    def register(builder: AttachmentBuilder) -> AttachmentBuilder:
        _ATTACHMENTS[key_prefix] = builder
        return builder
    return register


def _outgoing(session: Session, row) -> OutgoingMessage:
    *fields, key = row
    message = OutgoingMessage(*fields)
    if message.channel != "email" or not key:
        return message
    builder = next((b for prefix, b in _ATTACHMENTS.items() if key.startswith(prefix)), None)
    if builder is None:
        return message
    try:
        files = tuple(builder(session, message.org_id, key))
    except Exception:  # the email still goes; its invitation is a convenience
        log.exception("could not build the attachments of message %s", message.id)
        files = ()
    return dataclasses.replace(message, attachments=files)


_messages = Message.__table__
_NOW = bindparam("now", type_=UTCDateTime())


def _move(expect: str, **values):
    """A prepared UPDATE that moves one of our own rows on, only if it is still where we
    left it (``expect``, claimed by us). Built once: the dispatcher runs two per message.
    As is, it can run for many rows at once (executemany); :func:`_one` adds the RETURNING
    of a single move."""
    return (
        update(_messages)
        .where(_messages.c.id == bindparam("message_id"), _messages.c.status == expect,
               _messages.c.claimed_by == bindparam("worker"))
        .values(updated_at=_NOW, **values)
    )


_RETURNING: dict = {}


def _one(move):
    """The move returning the row's (org_id, attempts) after it."""
    if move not in _RETURNING:
        _RETURNING[move] = move.returning(_messages.c.org_id, _messages.c.attempts)
    return _RETURNING[move]


# A whole batch goes on the wire at once in the parallel path: one UPDATE, one commit.
_TO_SENDING_MANY = (
    update(_messages)
    .where(_messages.c.id.in_(bindparam("ids", expanding=True)), _messages.c.status == "claimed",
           _messages.c.claimed_by == bindparam("worker"))
    .values(status="sending", attempts=_messages.c.attempts + 1, claimed_at=_NOW, updated_at=_NOW,
            provider=bindparam("provider_name", type_=String()))
    .returning(_messages.c.id, _messages.c.attempts)
)


_ERROR = bindparam("error", type_=Text())
# A secret message's body once it has gone: the redacted form.
_GONE_BODY = case((_messages.c.secret, REDACTED), else_=_messages.c.body)
# The state before the call; the claim time restarts, so "stale" counts from the call.
_TO_SENDING = _move("claimed", status="sending", attempts=_messages.c.attempts + 1,
                    provider=bindparam("provider_name", type_=String()), claimed_at=_NOW)
_TO_SENT = _move("sending", status="sent", sent_at=_NOW, last_error=None, body=_GONE_BODY,
                 provider_message_id=bindparam("provider_id", type_=String()))
_TO_FAILED = _move("sending", status="failed", last_error=_ERROR, body=_GONE_BODY)
_TO_DEAD = _move("sending", status="dead", last_error=_ERROR, body=_GONE_BODY)
_TO_UNKNOWN = _move("sending", status="unknown", last_error=_ERROR, body=_GONE_BODY)
_TO_RETRY = _move("sending", status="queued", claimed_by=None, last_error=_ERROR,
                  next_attempt_at=bindparam("retry_at", type_=UTCDateTime()))
_GIVE_BACK = _move("sending", status="queued", claimed_by=None, last_error=_ERROR,
                   attempts=_messages.c.attempts - 1)
# The provider asked us to slow down: back to the queue for its delay, the attempt given back.
_TO_THROTTLED = _move("sending", status="queued", claimed_by=None, last_error=_ERROR,
                      attempts=_messages.c.attempts - 1,
                      next_attempt_at=bindparam("retry_at", type_=UTCDateTime()))


_COST_UPSERTS: dict = {}


def _cost_upsert(bind):
    """INSERT a message's price; a price already there (the message was sent again) is added to."""
    dialect = bind.dialect.name
    if dialect not in _COST_UPSERTS:
        table = MessageCost.__table__
        statement = dialect_insert(bind, table)
        _COST_UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=[table.c.message_id],
            set_={"amount_minor": table.c.amount_minor + statement.excluded.amount_minor})
    return _COST_UPSERTS[dialect]


class RateLimiter:
    """One channel's pace: sends start at least ``1/per_second`` apart (a bulk request of
    ``n`` recipients counts ``n``), shared by every sending thread of the run; ``hold``
    backs the whole channel off when the provider says so (HTTP 429, Retry-After)."""

    def __init__(self, per_second: float | None = None, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self._monotonic, self._sleep = monotonic, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, count: int = 1) -> None:
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + count * self.interval
        if start > now:
            self._sleep(start - now)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, self._monotonic() + seconds)


# Called after each batch with the ids of the campaigns whose messages it sent (see
# core.campaigns: the failure-rate auto-pause); they may write, the dispatcher commits.
BatchHook = Callable[[Session, set[int]], None]
BATCH_HOOKS: list[BatchHook] = []


def after_batch(hook: BatchHook) -> BatchHook:
    BATCH_HOOKS.append(hook)
    return hook


def _throttle_delay(exc: ThrottledSendError, policy: RetryPolicy, attempts: int) -> float:
    return exc.retry_after if exc.retry_after is not None else policy.delay(attempts).total_seconds()


ANNOUNCE_EVERY_S = 1.0


class _Dispatch:
    """One run's session and claims, and the orgs whose messages it changed but has not yet
    announced to open consoles (see :func:`core.changes.mark_changed`)."""

    def __init__(self, session: Session, worker: str, policy: RetryPolicy, clock: Callable[[], datetime],
                 summary: SendSummary) -> None:
        self.session, self.worker, self.policy, self.clock, self.summary = session, worker, policy, clock, summary
        self._unannounced: set[int] = set()
        self._announced_at = time.monotonic()
        self._costs: list[dict] = []  # prices of sends settled since the last commit

    def move(self, move, message_id: int, **params):
        """Run one of the moves above, uncommitted; returns the row's (org_id, attempts)
        after it, or None when the row is no longer ours to move."""
        # Straight to the session's connection: a Core statement needs none of the ORM's execute path.
        row = self.session.connection().execute(
            _one(move), {"message_id": message_id, "worker": self.worker, "now": self.clock(), **params}
        ).one_or_none()
        if row is not None and move is not _TO_SENDING:  # "sending" lasts one call: not worth a console's refresh
            self._unannounced.add(row.org_id)
        return row

    def commit(self, *, announce: bool = False) -> None:
        if self._costs:  # with the outcomes they belong to
            self.session.connection().execute(_cost_upsert(self.session.connection()), self._costs)
            self._costs.clear()
        # Consoles hear at most once a second (and at the end of each batch) which orgs changed:
        # a campaign of thousands must not wake every open console thousands of times.
        if self._unannounced and (announce or time.monotonic() - self._announced_at >= ANNOUNCE_EVERY_S):
            for org_id in self._unannounced:
                mark_changed(self.session, org_id)
            self._unannounced.clear()
            self._announced_at = time.monotonic()
        self.session.commit()

    def refresh_claims(self, now: datetime) -> None:
        self.session.execute(
            update(Message)
            .where(Message.status == "claimed", Message.claimed_by == self.worker)
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        self.commit()

    def send_one(self, provider: Provider, message: OutgoingMessage, limiter: RateLimiter | None = None) -> str | None:
        """Send one claimed message and record how it went; returns why the run must stop, or None.

        The outcome is left uncommitted: it goes with the next message's ``sending``
        (or the batch's end), so each message costs one commit. A crash before that
        commit leaves this message ``sending``, hence ``unknown``: never resent.
        """
        # The state before the call, committed (with the outcome of the call before):
        # from here a crash leaves it "unknown", never resent.
        row = self.move(_TO_SENDING, message.id, provider_name=provider_name(provider, message.to))
        self.commit()
        if row is None:
            return None  # no longer ours: a run that took us for dead released it, and it is someone else's now
        try:
            if limiter is not None:
                limiter.acquire()
            outcome = provider.send(message)
        except (SendError, OSError) as exc:
            outcome = exc
        except BaseException as exc:
            # A provider bug, or Ctrl-C, while the request may be on the wire: say so now, then stop.
            try:
                self.session.rollback()
                self.move(_TO_UNKNOWN, message.id,
                          error=f"interrupted while sending ({type(exc).__name__}: {exc}); check delivery reports")
                self.commit(announce=True)
                self.summary.unknown += 1
            except Exception:
                log.exception("could not record message %s as unknown; it becomes unknown when stale", message.id)
            raise
        return self.settle(message.id, row.attempts, outcome, limiter, self.move)

    def settle(self, message_id: int, attempts: int, outcome, limiter: RateLimiter | None,
               apply: Callable[..., object]) -> str | None:
        """What one call's outcome means for its row (through ``apply(move, id, **params)``);
        returns why the run must stop, or None."""
        summary = self.summary
        if isinstance(outcome, SendResult):
            apply(_TO_SENT, message_id, provider_id=outcome.provider_message_id)
            if outcome.cost_minor is not None and outcome.cost_currency:
                self._costs.append({"message_id": message_id, "amount_minor": outcome.cost_minor,
                                    "currency": outcome.cost_currency})
            summary.sent += 1
        elif outcome is _NOT_TRIED:
            apply(_GIVE_BACK, message_id, error="not sent: the run stopped first")
        elif isinstance(outcome, ThrottledSendError):
            delay = _throttle_delay(outcome, self.policy, attempts)
            if limiter is not None:
                limiter.hold(delay)
            apply(_TO_THROTTLED, message_id, error=str(outcome), retry_at=self.clock() + timedelta(seconds=delay))
            summary.throttled += 1
        elif isinstance(outcome, ProviderUnavailable):
            # Nothing can go out with this provider; give the message back as it was.
            apply(_GIVE_BACK, message_id, error=str(outcome))
            return str(outcome)
        elif isinstance(outcome, PermanentSendError):
            apply(_TO_FAILED, message_id, error=str(outcome))
            summary.failed += 1
            return f"{outcome}; nothing more is sent until that is fixed" if outcome.stop_run else None
        elif isinstance(outcome, TransientSendError):
            if attempts >= self.policy.max_attempts:
                apply(_TO_DEAD, message_id, error=f"gave up after {attempts} attempts: {outcome}")
                summary.dead += 1
            else:
                apply(_TO_RETRY, message_id, error=str(outcome), retry_at=self.clock() + self.policy.delay(attempts))
                summary.retried += 1
        else:
            # The provider may have sent it: never resend blindly.
            apply(_TO_UNKNOWN, message_id, error=str(outcome) or type(outcome).__name__)
            summary.unknown += 1
            if not isinstance(outcome, (SendError, OSError)):
                return f"the {type(outcome).__name__} provider failed unexpectedly: {outcome}"
        return None

    def send_batch(self, pool: ThreadPoolExecutor, providers: Mapping[str, Provider],
                   limiters: Mapping[str, RateLimiter], batch: list[OutgoingMessage]) -> str | None:
        """Send a claimed batch at once: the whole batch is ``sending`` (one commit) before any
        call, identical texts go in one bulk request where the provider can, the rest in
        parallel; the outcomes are written together (executemany) with the next commit. A
        crash leaves at most this batch ``unknown``."""
        attempts: dict[int, int] = {}
        now = self.clock()
        by_channel: dict[str, list[OutgoingMessage]] = {}
        for message in batch:
            by_channel.setdefault(message.channel, []).append(message)
        connection = self.session.connection()
        for channel, messages in by_channel.items():
            by_name: dict[str, list[int]] = {}  # a channel routed by destination goes through several
            for m in messages:
                by_name.setdefault(provider_name(providers[channel], m.to), []).append(m.id)
            for name, ids in by_name.items():
                attempts.update(connection.execute(_TO_SENDING_MANY, {
                    "ids": ids, "worker": self.worker, "now": now, "provider_name": name,
                }).all())
        self.commit()
        stop = threading.Event()
        futures: dict[Future, str] = {}
        for channel, messages in by_channel.items():
            ours = [m for m in messages if m.id in attempts]
            for unit in _units(providers[channel], ours):
                futures[pool.submit(_carry, providers[channel], limiters.get(channel), unit, stop)] = channel
        pending: dict[object, list[dict]] = {}

        def collect(move, message_id: int, **params) -> None:
            pending.setdefault(move, []).append({"message_id": message_id, **params})

        stopped: str | None = None
        try:
            # as_completed waits on the whole batch once; wait(FIRST_COMPLETED) in a loop would
            # hang a waiter on every unfinished call each time round (quadratic in the batch).
            for future in as_completed(futures):
                limiter = limiters.get(futures[future])
                for message, outcome in future.result():
                    reason = self.settle(message.id, attempts[message.id], outcome, limiter, collect)
                    if reason and not stopped:
                        stopped = reason
                        stop.set()
        except BaseException:
            # Ctrl-C: calls not started are given back; those on the wire stay "sending" (unknown when stale).
            stop.set()
            raise
        finally:
            self._write_many(pending, {m.org_id for m in batch})
        return stopped

    def _write_many(self, pending: Mapping[object, list[dict]], org_ids: Iterable[int]) -> None:
        connection = self.session.connection()
        common = {"worker": self.worker, "now": self.clock()}
        for move, rows in pending.items():
            connection.execute(move, [{**common, **row} for row in rows])
        self._unannounced.update(org_ids)


_NOT_TRIED = object()  # a call the run stopped before making
BULK_MAX_RECIPIENTS = 500


def _units(provider: Provider, messages: list[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """The calls to make, each unit on one thread: a person with several messages in the batch
    gets them one after another in order (a booking's confirmation before its reminder);
    otherwise one call per message, except that a provider with ``send_many`` gets one call
    per text shared by several recipients."""
    per_address: dict[str, list[OutgoingMessage]] = {}
    for message in messages:
        per_address.setdefault(message.to, []).append(message)
    units = [in_order for in_order in per_address.values() if len(in_order) > 1]
    alone = [in_order[0] for in_order in per_address.values() if len(in_order) == 1]
    if not hasattr(provider, "send_many"):
        return units + [[m] for m in alone]
    groups: dict[tuple[str | None, str], list[list[OutgoingMessage]]] = {}
    for message in alone:  # each number once in this list, so once per bulk request
        chunks = groups.setdefault((message.subject, message.body), [[]])
        if len(chunks[-1]) >= BULK_MAX_RECIPIENTS:
            chunks.append([])
        chunks[-1].append(message)
    return units + [chunk for chunks in groups.values() for chunk in chunks]


def _carry(provider: Provider, limiter: RateLimiter | None, unit: list[OutgoingMessage],
           stop: threading.Event | None) -> list[tuple[OutgoingMessage, object]]:
    """Make a unit's calls and return each message's outcome: a SendResult, an exception, or
    _NOT_TRIED. Messages to one address go one by one, in order; one text to several
    addresses goes in one bulk call. Never raises an Exception."""
    if len(unit) > 1 and unit[0].to == unit[1].to:
        return [outcome for message in unit for outcome in _carry(provider, limiter, [message], stop)]
    if stop is not None and stop.is_set():
        return [(m, _NOT_TRIED) for m in unit]
    try:
        if limiter is not None:
            limiter.acquire(len(unit))
            if stop is not None and stop.is_set():
                return [(m, _NOT_TRIED) for m in unit]
        if len(unit) == 1:
            return [(unit[0], provider.send(unit[0]))]
        outcomes = provider.send_many(unit)  # type: ignore[attr-defined]
        if len(outcomes) != len(unit):
            raise AmbiguousSendError(f"{provider.name} answered {len(outcomes)} outcomes for {len(unit)} messages")
        return list(zip(unit, outcomes))
    except Exception as exc:
        return [(m, exc) for m in unit]


def send_due(
    db: Database,
    providers: Mapping[str, Provider],
    *,
    limit: int | None = None,
    batch_size: int = 50,
    policy: RetryPolicy = RetryPolicy(),
    stale_after: timedelta = timedelta(minutes=5),
    clock: Callable[[], datetime] = utcnow,
    worker: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    parallel: int = 1,
    rate_limits: Mapping[str, float] | None = None,
) -> SendSummary:
    """Send what is due, at most ``limit`` messages; safe to run in several processes.

    ``parallel=1`` sends one message at a time, each committed ``sending`` before its
    call (a crash leaves one ``unknown``). With more, each batch is sent at once by that
    many threads, identical texts in bulk requests (a crash leaves at most the batch
    ``unknown``). ``rate_limits`` caps each channel in messages per second.
    """
    from core.registry import load_areas

    load_areas()  # their batch hooks (a campaign's auto-pause) must see every batch
    worker = worker or worker_name()
    summary = SendSummary()
    channels = sorted(providers)
    limiters = {channel: RateLimiter((rate_limits or {}).get(channel)) for channel in channels}
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="ofisi-send") if parallel > 1 else None
    # One connection for the whole run: a pool checkout (and its pre-ping) per commit would
    # double the round trips of every message.
    with db.engine.connect() as connection, db.sessions(bind=connection) as session:
        summary.released, summary.stale_unknown = recover_stale(session, clock(), stale_after)
        run = _Dispatch(session, worker, policy, clock, summary)
        remaining = limit
        try:
            while not summary.stopped and (remaining is None or remaining > 0):
                take = batch_size if remaining is None else min(batch_size, remaining)
                claimed_at = clock()
                batch = claim_due(session, worker, channels, take, claimed_at)
                if not batch:
                    break
                if pool is not None:
                    summary.stopped = run.send_batch(pool, providers, limiters, batch)
                    if on_progress:
                        on_progress(len(batch))
                else:
                    for message in batch:
                        if clock() - claimed_at > stale_after / 2:
                            # A slow batch: keep the claims we still hold from looking abandoned.
                            claimed_at = clock()
                            run.refresh_claims(claimed_at)
                        summary.stopped = run.send_one(providers[message.channel], message,
                                                       limiters[message.channel])
                        if summary.stopped:
                            break
                        if on_progress:
                            on_progress(1)
                run.commit(announce=True)  # the batch's last outcome
                campaign_ids = {m.campaign_id for m in batch if m.campaign_id is not None}
                if campaign_ids and BATCH_HOOKS:
                    for hook in BATCH_HOOKS:
                        hook(session, campaign_ids)
                    run.commit(announce=True)
                if remaining is not None:
                    remaining -= len(batch)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            # Claims we did not get to (a stop, an error, Ctrl-C) go straight back to the queue.
            session.rollback()
            summary.released += session.execute(
                update(Message)
                .where(Message.status == "claimed", Message.claimed_by == worker)
                .values(status="queued", claimed_by=None, updated_at=clock())
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
        summary.waiting = {
            channel: count
            for channel, count in session.execute(
                select(Message.channel, func.count())
                .where(Message.status == "queued", Message.next_attempt_at <= clock(),
                       Message.channel.not_in(channels))
                .group_by(Message.channel)
            )
        }
    return summary


__all__ = [
    "PURPOSES", "REDACTED", "MessageView", "OfisiError", "OptOuts", "RateLimiter", "RetryPolicy", "address_for",
    "after_batch", "attachments", "enqueue_many", "SendSummary", "claim_due", "enqueue", "list_messages",
    "record_delivery_report", "recover_stale", "send_due", "send_message", "settle_unknown", "status_counts",
]
