"""What the salon's services share: the salon and permission checks, the
professionals who can be booked, time intervals, and times as people read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.permissions import require
from db.models import Membership, Org, User

# Roles whose members have a diary that clients can be booked into.
BOOKABLE_ROLES = ("owner", "professional")

Interval = tuple[datetime, datetime]


def check_salon(org: Org) -> Org:
    if org.kind != "salon":
        raise InvalidInput(f"{org.name} is a {org.kind}, not a salon; services and bookings belong to salons.")
    return org


def require_salon(session: Session, actor: Actor, org_id: int, permission: str) -> Org:
    """The org, if it is a salon and ``actor`` may do ``permission`` there."""
    return check_salon(require(session, actor, org_id, permission))


def require_for_professional(
    session: Session, actor: Actor, org_id: int, professional_id: int, permission: str
) -> Org:
    """The org, if ``actor`` may do ``permission`` for any professional, or may do
    ``permission.own`` and is ``professional_id`` (a professional's own diary)."""
    try:
        return require_salon(session, actor, org_id, permission)
    except PermissionDenied:
        org = require_salon(session, actor, org_id, f"{permission}.own")
        if actor.user_id != professional_id:
            raise PermissionDenied(
                f"You may do this ({permission}) only in your own diary; ask the reception or the owner."
            ) from None
        return org


@dataclass(frozen=True)
class ProfessionalView:
    id: int
    email: str
    name: str
    role: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.email


def bookable_professional(session: Session, org: Org, user_id: int) -> ProfessionalView:
    """The staff member ``user_id`` if clients can be booked with them in ``org``."""
    row = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound("That professional is not staff of this salon.")
    user, role = row
    if not user.is_active:
        raise InvalidInput(f"{user.name}'s login is switched off; clients cannot be booked with them.")
    if role not in BOOKABLE_ROLES:
        raise InvalidInput(f"{user.name} is the {role} of {org.name}, not a professional; clients cannot be "
                           "booked with them. Give them the professional role first.")
    return ProfessionalView(user.id, user.email, user.name, role)


def list_professionals(session: Session, actor: Actor, org_id: int) -> list[ProfessionalView]:
    """The staff clients can be booked with, by name."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, Membership.role.in_(BOOKABLE_ROLES), User.is_active.is_(True))
        .order_by(User.name, User.id)
    )
    return [ProfessionalView(u.id, u.email, u.name, role) for u, role in rows]


def find_professional(session: Session, actor: Actor, org_id: int, email: str) -> ProfessionalView:
    """The bookable professional with this login email."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise NotFound(f"{email} is not staff of {org.name}; add them with "
                       f"`ofisi user add {email} --org {org.slug} --role professional`.")
    return bookable_professional(session, org, user_id)


# ---------------------------------------------------------------- intervals

def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined (work to 24:00 then from 00:00 is one stretch)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: list[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    """``intervals`` (merged) less every cut, in one sweep over both sorted lists."""
    cuts = merge(cuts)
    out: list[Interval] = []
    i = 0
    for start, end in intervals:
        while i < len(cuts) and cuts[i][1] <= start:
            i += 1
        j = i
        cursor = start
        while j < len(cuts) and cuts[j][0] < end:
            if cuts[j][0] > cursor:
                out.append((cursor, cuts[j][0]))
            cursor = max(cursor, cuts[j][1])
            j += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def covers(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    """Whether one of the merged ``intervals`` holds all of ``[start, end)``."""
    return any(a <= start and end <= b for a, b in intervals)


# ---------------------------------------------------------------- time as people read it

def aware(moment: datetime, what: str = "time") -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"The {what} {moment.isoformat()} has no time zone; say which (the org's, or +03:00).")
    return moment


def day_label(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 3 Mar``: the date of ``moment`` in the salon's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def when(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 3 Mar 10:00`` in the salon's time zone."""
    return f"{day_label(moment, tz)} {clock(moment, tz)}"


def clock(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%H:%M}"


def minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
