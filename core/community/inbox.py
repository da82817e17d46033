"""The staff inbox: every SMS to the community that no keyword answered, one thread per phone.

:func:`record_inbound` files a message (keyed by the inbound message's id, so
a redelivery files nothing twice) and reopens a closed thread; staff list the
threads, read one (which marks it read), reply by SMS through the outbox and
close it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, outbox
from core.actors import Actor
from core.community.base import community_org, owned
from core.errors import Conflict, InvalidInput
from db.models_community import CommunityProfile, CommunityThread, CommunityThreadMessage


@dataclass(frozen=True)
class ThreadView:
    id: int
    phone: str
    account_id: int | None
    name: str
    status: str
    unread: int
    last_message_at: datetime
    last_text: str


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    direction: str  # "in" or "out"
    body: str
    staff: str | None
    created_at: datetime


def record_inbound(session: Session, org_id: int, *, phone: str, account_id: int | None, text: str,
                   inbound_message_id: int, at: datetime) -> tuple[int, bool]:
    """File one inbound SMS in its phone's thread; returns (thread id, whether the thread was opened now).

    For the SMS front door (no permission check: the network vouches for the sender).
    """
    thread = session.scalar(select(CommunityThread).where(CommunityThread.org_id == org_id,
                                                          CommunityThread.phone == phone).with_for_update())
    opened = thread is None or thread.status == "closed"
    if thread is None:
        thread = CommunityThread(org_id=org_id, phone=phone, account_id=account_id, status="open", unread=0,
                                 last_message_at=at, created_at=at)
        session.add(thread)
        session.flush()
    try:
        with session.begin_nested():
            session.add(CommunityThreadMessage(org_id=org_id, thread_id=thread.id, direction="in", body=text,
                                               inbound_message_id=inbound_message_id, created_at=at))
    except IntegrityError:
        return thread.id, False  # a redelivery: filed already
    thread.status, thread.unread, thread.last_message_at = "open", thread.unread + 1, at
    thread.account_id = account_id or thread.account_id
    return thread.id, opened


def _view(session: Session, t: CommunityThread) -> ThreadView:
    name = session.scalar(select(CommunityProfile.display_name).where(
        CommunityProfile.account_id == t.account_id, CommunityProfile.is_primary)) if t.account_id else None
    last = session.scalar(select(CommunityThreadMessage.body).where(CommunityThreadMessage.thread_id == t.id)
                          .order_by(CommunityThreadMessage.id.desc()).limit(1)) or ""
    return ThreadView(t.id, t.phone, t.account_id, name or "not a member", t.status, t.unread, t.last_message_at,
                      last)


def list_threads(session: Session, actor: Actor, org_id: int, *, status: str | None = "open",
                 before: tuple[datetime, int] | None = None, limit: int = 50) -> list[ThreadView]:
    """Threads, latest message first; page with ``before=(last_message_at, id)`` of the last one."""
    community_org(session, actor, org_id, "community.read")
    T = CommunityThread
    query = select(T).where(T.org_id == org_id)
    if status:
        query = query.where(T.status == status)
    if before is not None:
        query = query.where(or_(T.last_message_at < before[0], and_(T.last_message_at == before[0], T.id < before[1])))
    return [_view(session, t) for t in session.scalars(query.order_by(T.last_message_at.desc(), T.id.desc())
                                                        .limit(limit))]


def read_thread(session: Session, actor: Actor, org_id: int, thread_id: int) -> tuple[ThreadView, list[ThreadMessage]]:
    """A thread and its messages, oldest first; reading it marks it read."""
    community_org(session, actor, org_id, "community.read")
    thread = owned(session, CommunityThread, org_id, thread_id, "conversation", lock=True)
    M = CommunityThreadMessage
    messages = [ThreadMessage(m.id, m.direction, m.body, m.staff, m.created_at)
                for m in session.scalars(select(M).where(M.thread_id == thread.id).order_by(M.id))]
    if thread.unread:
        thread.unread = 0
        session.commit()
    return _view(session, thread), messages


def reply(session: Session, actor: Actor, org_id: int, thread_id: int, body: str) -> ThreadMessage:
    """Answer a thread by SMS (through the outbox, in this transaction)."""
    community_org(session, actor, org_id, "community.members")
    thread = owned(session, CommunityThread, org_id, thread_id, "conversation", lock=True)
    if not body.strip():
        raise InvalidInput("Write the reply first.")
    sent = session.scalar(select(CommunityThreadMessage.id).where(CommunityThreadMessage.thread_id == thread.id)
                          .order_by(CommunityThreadMessage.id.desc()).limit(1))
    message_id = outbox.enqueue(session, org_id, to=thread.phone, body=body.strip(), purpose="transactional",
                                idempotency_key=f"community:thread:{thread.id}:reply:{sent}:{len(body)}")
    row = CommunityThreadMessage(org_id=org_id, thread_id=thread.id, direction="out", body=body.strip(),
                                 outbox_message_id=message_id, staff=actor.label[:254])
    session.add(row)
    thread.unread = 0
    session.flush()
    audit.record(session, actor, "community.inbox.reply", "community_thread", thread.id, org_id=org_id,
                 after={"message_id": message_id})
    session.commit()
    return ThreadMessage(row.id, "out", row.body, row.staff, row.created_at)


def close_thread(session: Session, actor: Actor, org_id: int, thread_id: int) -> ThreadView:
    """Done with a conversation; the member's next SMS opens it again."""
    community_org(session, actor, org_id, "community.read")
    thread = owned(session, CommunityThread, org_id, thread_id, "conversation", lock=True)
    if thread.status == "closed":
        raise Conflict("That conversation is already closed.")
    thread.status, thread.unread = "closed", 0
    session.commit()
    return _view(session, thread)

