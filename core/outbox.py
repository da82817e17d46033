"""The outbox: messages are rows first, sends second.

A message's life::

    queued ──claim──▶ claimed ──before the call──▶ sending ──▶ sent
       ▲                 │                            ├──▶ queued   (transient error, backoff + jitter)
       │   (stale claim: │                            ├──▶ dead     (transient errors, attempts used up)
       └─never attempted)┘                            ├──▶ failed   (permanent error)
                                                      └──▶ unknown  (ambiguous reply, or the process died)

Each arrow is its own committed transaction, so a crash leaves at most the
one message that was on the wire as ``sending``; the next run turns a stale
``sending`` into ``unknown``, which is never resent by itself: a delivery
report or an operator settles it. Claims use ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite every transaction holds the write lock (``BEGIN
IMMEDIATE``), which gives the same one-claimer-per-row rule.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.changes import mark_changed
from core.errors import InvalidInput, NotFound, OfisiError
from core.permissions import grant, require
from core.phones import normalize_phone
from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    Provider,
    ProviderUnavailable,
    SendError,
    TransientSendError,
)
from db.engine import Database
from db.models import Message, Org
from db.types import utcnow

log = logging.getLogger("ofisi.outbox")

CHANNELS = ("sms", "email", "whatsapp")
STATUSES = ("queued", "claimed", "sending", "sent", "delivered", "failed", "dead", "unknown", "cancelled")

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

    @classmethod
    def of(cls, m: Message) -> MessageView:
        return cls(m.id, m.org_id, m.channel, m.to_address, m.body, m.status, m.attempts,
                   m.next_attempt_at, m.provider_message_id, m.last_error, m.created_at)


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
    channel: str = "sms",
    subject: str | None = None,
    idempotency_key: str | None = None,
    send_at: datetime | None = None,
    contact_id: int | None = None,
    campaign_id: int | None = None,
) -> int:
    """Add a message to the caller's unit of work; returns its id.

    For use by services that have already checked permission. With an
    ``idempotency_key`` a second enqueue of the same key returns the first
    message's id and adds nothing, even when two processes race.
    """
    if channel not in CHANNELS:
        raise InvalidInput(f"{channel!r} is not a channel; use one of {', '.join(CHANNELS)}.")
    if not body.strip():
        raise InvalidInput("A message needs some text.")
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("That organisation does not exist.")
    if idempotency_key is not None:
        existing = session.scalar(
            select(Message.id).where(Message.org_id == org_id, Message.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing
    message = Message(
        org_id=org_id,
        channel=channel,
        to_address=_address(channel, to, org.country),
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        next_attempt_at=send_at or utcnow(),
        contact_id=contact_id,
        campaign_id=campaign_id,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        existing = session.scalar(
            select(Message.id).where(Message.org_id == org_id, Message.idempotency_key == idempotency_key)
        )
        if existing is None:
            raise
        return existing
    return message.id


def send_message(
    session: Session, actor: Actor, org_id: int, *, to: str, body: str, channel: str = "sms",
    idempotency_key: str | None = None, send_at: datetime | None = None,
) -> MessageView:
    """Queue one message on behalf of a person (the console's "send SMS")."""
    require(session, actor, org_id, "messages.send")
    message_id = enqueue(session, org_id, to=to, body=body, channel=channel,
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
    before = {"status": message.status}
    if sent:
        message.status = "sent"
    else:
        message.status, message.next_attempt_at, message.claimed_by = "queued", utcnow(), None
    audit.record(session, actor, "message.settle", "message", message.id, org_id=org_id,
                 before=before, after={"status": message.status})
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
    return f"{socket.gethostname()}:{os.getpid()}"


def recover_stale(session: Session, now: datetime, stale_after: timedelta) -> tuple[int, int]:
    """Settle rows whose process died: never-attempted claims go back to the
    queue; rows that were on the wire become ``unknown`` (never resent blindly)."""
    cutoff = now - stale_after
    released = session.execute(
        update(Message)
        .where(Message.status == "claimed", Message.claimed_at < cutoff)
        .values(status="queued", claimed_by=None, updated_at=now)
    ).rowcount
    stale = session.execute(
        update(Message)
        .where(Message.status == "sending", Message.claimed_at < cutoff)
        .values(status="unknown", updated_at=now,
                last_error="the sending process stopped before the provider answered; check delivery reports")
        .returning(Message.org_id)
    ).scalars().all()
    for org_id in set(stale):
        mark_changed(session, org_id)
    session.commit()
    return released, len(stale)


def claim_due(session: Session, worker: str, channels: list[str], limit: int, now: datetime) -> list[OutgoingMessage]:
    due = (
        select(Message.id)
        .where(Message.status == "queued", Message.next_attempt_at <= now, Message.channel.in_(channels))
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(status="claimed", claimed_by=worker, claimed_at=now, updated_at=now)
        .returning(Message.id, Message.org_id, Message.channel, Message.to_address, Message.subject, Message.body)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted((OutgoingMessage(*row) for row in rows), key=lambda m: m.id)


def _transition(session: Session, message_id: int, worker: str, expect: str, now: datetime, **values) -> bool:
    """Move one of our own rows on, only if it is still where we left it."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == expect, Message.claimed_by == worker)
        .values(updated_at=now, **values)
        .returning(Message.org_id)
    ).scalar_one_or_none()
    if result is not None:
        mark_changed(session, result)
    session.commit()
    return result is not None


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
) -> SendSummary:
    """Send what is due, at most ``limit`` messages; safe to run in several processes."""
    worker = worker or worker_name()
    summary = SendSummary()
    channels = sorted(providers)
    with db.session() as session:
        summary.released, summary.stale_unknown = recover_stale(session, clock(), stale_after)
        remaining = limit
        try:
            while remaining is None or remaining > 0:
                take = batch_size if remaining is None else min(batch_size, remaining)
                batch = claim_due(session, worker, channels, take, clock())
                if not batch:
                    break
                for index, message in enumerate(batch):
                    try:
                        _send_one(session, providers[message.channel], message, worker, policy, clock, summary)
                    except ProviderUnavailable as exc:
                        summary.stopped = str(exc)
                        break
                    if on_progress:
                        on_progress(1)
                if summary.stopped:
                    break
                if remaining is not None:
                    remaining -= len(batch)
        finally:
            # Claims we did not get to (a stop, Ctrl-C) go straight back to the queue.
            summary.released += session.execute(
                update(Message)
                .where(Message.status.in_(("claimed",)), Message.claimed_by == worker)
                .values(status="queued", claimed_by=None, updated_at=clock())
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


def _send_one(session: Session, provider: Provider, message: OutgoingMessage, worker: str,
              policy: RetryPolicy, clock: Callable[[], datetime], summary: SendSummary) -> None:
    now = clock()
    # The state before the call: from here a crash leaves it "unknown", never resent.
    if not _transition(session, message.id, worker, "claimed", now,
                       status="sending", attempts=Message.attempts + 1, provider=provider.name):
        return
    try:
        result = provider.send(message)
    except ProviderUnavailable as exc:
        # Nothing left; give the message back as it was.
        _transition(session, message.id, worker, "sending", clock(), status="queued", claimed_by=None,
                    attempts=Message.attempts - 1, last_error=str(exc))
        raise
    except PermanentSendError as exc:
        _transition(session, message.id, worker, "sending", clock(), status="failed", last_error=str(exc))
        summary.failed += 1
        return
    except AmbiguousSendError as exc:
        _transition(session, message.id, worker, "sending", clock(), status="unknown", last_error=str(exc))
        summary.unknown += 1
        return
    except (TransientSendError, SendError, OSError) as exc:
        attempts = session.scalar(select(Message.attempts).where(Message.id == message.id)) or 1
        if attempts >= policy.max_attempts:
            _transition(session, message.id, worker, "sending", clock(), status="dead",
                        last_error=f"gave up after {attempts} attempts: {exc}")
            summary.dead += 1
        else:
            _transition(session, message.id, worker, "sending", clock(), status="queued", claimed_by=None,
                        next_attempt_at=clock() + policy.delay(attempts), last_error=str(exc))
            summary.retried += 1
        return
    _transition(session, message.id, worker, "sending", clock(), status="sent", sent_at=clock(),
                provider_message_id=result.provider_message_id, last_error=None)
    summary.sent += 1


__all__ = [
    "MessageView", "OfisiError", "RetryPolicy", "SendSummary", "claim_due", "enqueue", "list_messages",
    "recover_stale", "send_due", "send_message", "settle_unknown", "status_counts",
]
