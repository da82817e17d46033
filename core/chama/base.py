"""What every chama service shares: the org check, the lock, members, money text.

Lock order, so two services never wait on each other in a circle: the chama's
settings row first (:func:`lock_chama` or :func:`hold_cycle`), then a member,
then a loan or payout. On PostgreSQL the locks are ``SELECT … FOR UPDATE`` (and
``FOR SHARE`` for :func:`hold_cycle`); on SQLite every transaction already
holds the write lock (``BEGIN IMMEDIATE``).

Every ledger entry is ordered against the share-out. The share-out takes the
chama row ``FOR UPDATE``; every posting takes it at least ``FOR SHARE`` before
its INSERT draws an entry id (``ledger.post`` makes sure). So a posting either
commits before the share-out reads the books (and is shared out), or draws
its id after the share-out committed (and is past the cycle's boundary, see
``cycles``): never a contribution with an id below the boundary that the
share-out did not see. Postings take the share lock, not the update one, so
they do not queue behind one another. ``FOR KEY SHARE`` would not do: it
only conflicts with ``FOR UPDATE`` and key changes, so a share-out that
locked with ``FOR NO KEY UPDATE`` (what a plain UPDATE of the row takes)
would slip past it; ``FOR SHARE`` conflicts with every way of writing the row.
PostgreSQL lets a new ``FOR SHARE`` in ahead of a waiting ``FOR UPDATE``, so
a share-out waits for a steady stream of postings to pause; a chama's
postings are seconds apart, so that wait is short.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox
from core.actors import Actor
from core.errors import InvalidInput, NotFound
from core.money import format_money
from core.permissions import require
from db.models import Contact, Org
from db.models_chama import ChamaMember, ChamaSettings
from db.types import utcnow

T = TypeVar("T")

OFFICIAL_ROLES = ("chair", "treasurer", "secretary")
MEMBER_ROLES = (*OFFICIAL_ROLES, "member")
MEMBER_STATUSES = ("active", "suspended", "exited")


def chama_org(session: Session, actor: Actor, org_id: int, permission: str) -> Org:
    """The org, if it is a chama and ``actor`` may do ``permission`` there."""
    org = require(session, actor, org_id, permission)
    if org.kind != "chama":
        raise InvalidInput(f"{org.name} is a {org.kind} organisation, not a chama.")
    return org


def settings_row(session: Session, org_id: int, *, lock: bool = False, share: bool = False) -> ChamaSettings:
    """The chama's settings, created with the defaults on first use; ``lock`` takes the row
    ``FOR UPDATE`` (``FOR SHARE`` with ``share``) until the transaction ends."""
    query = select(ChamaSettings).where(ChamaSettings.org_id == org_id)
    if lock:
        query = query.with_for_update(read=share).execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(ChamaSettings(org_id=org_id))
    except IntegrityError:
        pass  # another session created it first; read theirs
    return session.scalars(query.execution_options(populate_existing=True)).one()


def lock_chama(session: Session, org_id: int) -> ChamaSettings:
    """Serialise pool-changing work in one chama until the transaction ends.

    Take it before anything that posts: a transaction that holds :func:`hold_cycle`
    and then asks for this one waits, like any other, for every other holder."""
    row = settings_row(session, org_id, lock=True)
    _mark_held(session, org_id, "update")
    return row


def hold_cycle(session: Session, org_id: int) -> None:
    """Keep the chama's cycle from ending (no share-out commits) until the transaction ends.

    Every ledger posting holds it before it writes (``ledger.post`` calls this);
    a service that locks a member, loan or payout before posting calls it first,
    to keep the lock order. Nothing to do when the transaction holds it already,
    or holds :func:`lock_chama`."""
    if _held(session, org_id) is None:
        settings_row(session, org_id, lock=True, share=True)
        _mark_held(session, org_id, "share")


def _held(session: Session, org_id: int) -> str | None:
    """How this transaction holds the chama row: "update", "share" or not at all (None)."""
    held = session.info.get("chama_held")
    if held is None or held[0] is not session.get_transaction():
        return None
    return held[1].get(org_id)


def _mark_held(session: Session, org_id: int, how: str) -> None:
    transaction = session.get_transaction()
    held = session.info.get("chama_held")
    if held is None or held[0] is not transaction:
        held = session.info["chama_held"] = (transaction, {})
    if held[1].get(org_id) != "update":
        held[1][org_id] = how


def member_row(session: Session, org_id: int, member_id: int, *, lock: bool = False) -> ChamaMember:
    if lock:
        member = session.scalar(select(ChamaMember).where(ChamaMember.id == member_id, ChamaMember.org_id == org_id)
                                .with_for_update().execution_options(populate_existing=True))
    else:
        member = session.get(ChamaMember, member_id)  # no query when this unit of work has it already
    # Another chama's member looks exactly like a missing one.
    if member is None or member.org_id != org_id:
        raise NotFound("That member does not exist in this chama.")
    return member


def locked(session: Session, model: type[T], org_id: int, row_id: int, missing: str) -> T:
    """A row of this chama, locked until the transaction ends; ``missing`` when there is none."""
    row = session.scalar(select(model).where(model.id == row_id, model.org_id == org_id)  # type: ignore[attr-defined]
                         .with_for_update().execution_options(populate_existing=True))
    if row is None:
        raise NotFound(missing)
    return row


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` so the parts add up exactly.

    Each part starts at the floor of its exact share; the units left over go
    one each to the parts with the largest remainders, earlier parts first
    on a tie. A negative total is split as its absolute value and negated.
    """
    if total < 0:
        return [-part for part in largest_remainder(-total, weights)]
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must add up to more than zero")
    parts = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def contact_of(session: Session, member: ChamaMember) -> Contact:
    contact = session.get(Contact, member.contact_id)
    assert contact is not None  # the foreign key cascades
    return contact


def first_name(session: Session, member: ChamaMember) -> str:
    """How messages name a member: "Wanjiku" for Wanjiku Kamau."""
    return contact_of(session, member).name.split()[0]


def money(org: Org, minor: int) -> str:
    return format_money(minor, org.currency)


def percent_of(amount_minor: int, basis_points: int) -> int:
    """``amount × rate`` in whole minor units, halves rounded up (amounts are never negative)."""
    return (amount_minor * basis_points + 5_000) // 10_000


def org_zone(org: Org) -> ZoneInfo:
    return ZoneInfo(org.timezone)


def local_today(org: Org, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(org_zone(org)).date()


def local_moment(org: Org, day: date, at: time = time(0, 0)) -> datetime:
    """``day`` at ``at`` on the org's wall clock, as an aware UTC-comparable datetime."""
    return datetime.combine(day, at, tzinfo=org_zone(org))


def local_day_bounds(org: Org, start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, the day after end 00:00) in the org's time zone; open ends stay None."""
    return (
        local_moment(org, start) if start else None,
        local_moment(org, end + timedelta(days=1)) if end else None,
    )


def add_months(day: date, months: int, wanted_day: int | None = None) -> date:
    """``day`` moved by ``months``, on ``wanted_day`` (default ``day.day``) clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(wanted_day or day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def notify_member(session: Session, org: Org, member: ChamaMember, body: str, key: str, *, purpose: str) -> None:
    """An SMS to the member through the outbox, once per ``key``. ``purpose`` as
    :func:`core.outbox.enqueue` takes it: transactional for receipts and answers to the
    member's requests, which go whatever the member said; service for reminders and
    notices, which the outbox holds back when they opted out (in the console, or by
    texting STOP: both are the core's opt-out)."""
    contact = contact_of(session, member)
    outbox.enqueue(session, org.id, to=contact.phone, body=f"{org.name}: {body}", purpose=purpose,
                   idempotency_key=f"chama:{key}", contact_id=contact.id)
