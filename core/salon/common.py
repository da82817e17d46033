"""What the salon's services share: the salon and permission checks, the
professionals who can be booked, time intervals, and times as people read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.permissions import require
from db.models import Membership, Org, User
from db.models_salon import SalonStaff

# Professionals take clients; an owner does too once her salon settings say she is bookable.
PROFESSIONAL = "professional"

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


def _bookable(role: str, staff: SalonStaff | None) -> bool:
    return role == PROFESSIONAL or (role == "owner" and staff is not None and staff.bookable)


def bookable_professional(session: Session, org: Org, user_id: int) -> ProfessionalView:
    """The staff member ``user_id`` if clients can be booked with them in ``org``."""
    row = session.execute(
        select(User, Membership.role, SalonStaff)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(SalonStaff, (SalonStaff.org_id == Membership.org_id) & (SalonStaff.user_id == User.id))
        .where(Membership.org_id == org.id, User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound("That professional is not staff of this salon.")
    user, role, staff = row
    if not user.is_active:
        raise InvalidInput(f"{user.name}'s login is switched off; clients cannot be booked with them.")
    if not _bookable(role, staff):
        also = (" An owner who also takes clients says so with `ofisi salon staff set --bookable yes`."
                if role == "owner" else "")
        raise InvalidInput(f"{user.name} is the {role} of {org.name}, not a professional; clients cannot be "
                           f"booked with them.{also}")
    return ProfessionalView(user.id, user.email, user.name, role)


def list_professionals(session: Session, actor: Actor, org_id: int) -> list[ProfessionalView]:
    """The staff clients can be booked with, by name."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    rows = session.execute(
        select(User, Membership.role, SalonStaff)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(SalonStaff, (SalonStaff.org_id == Membership.org_id) & (SalonStaff.user_id == User.id))
        .where(Membership.org_id == org.id, Membership.role.in_((PROFESSIONAL, "owner")),
               User.is_active.is_(True))
        .order_by(User.name, User.id)
    )
    return [ProfessionalView(u.id, u.email, u.name, role) for u, role, staff in rows if _bookable(role, staff)]


def find_staff(session: Session, actor: Actor, org_id: int, email: str) -> ProfessionalView:
    """Any staff member of the salon by login email (bookable or not)."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    row = session.execute(select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                          .where(Membership.org_id == org.id, User.email == email.strip().lower())).one_or_none()
    if row is None:
        raise NotFound(f"{email} is not staff of {org.name}; add them with "
                       f"`ofisi user add {email} --org {org.slug} --role professional`.")
    return ProfessionalView(row[0].id, row[0].email, row[0].name, row[1])


def find_professional(session: Session, actor: Actor, org_id: int, email: str) -> ProfessionalView:
    """The bookable professional with this login email."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    return bookable_professional(session, org, find_staff(session, actor, org.id, email).id)


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

UTC = ZoneInfo("UTC")


def aware(moment: datetime, what: str = "time") -> datetime:
    """``moment`` as a UTC instant; refused without a zone, or when its wall clock does not exist there."""
    if moment.tzinfo is None:
        raise InvalidInput(f"The {what} {moment.isoformat()} has no time zone; say which (the org's, or +03:00).")
    if isinstance(moment.tzinfo, ZoneInfo) and not exists(moment.replace(tzinfo=None), moment.tzinfo):
        raise InvalidInput(_gap(moment.replace(tzinfo=None), moment.tzinfo))
    return moment.astimezone(UTC)


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether the wall-clock time ``local`` (naive) happens in ``tz`` (not in a spring-forward gap)."""
    there = local.replace(tzinfo=tz)
    return there.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def ambiguous(local: datetime, tz: ZoneInfo) -> bool:
    """Whether the wall-clock time ``local`` (naive) happens twice in ``tz`` (the fall-back hour)."""
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset() \
        and exists(local, tz)


def _gap(local: datetime, tz: ZoneInfo) -> str:
    return (f"{local:%H:%M} on {local:%a} {local.day} {local:%b %Y} does not exist in {tz.key}: the clocks go "
            "forward over it; choose a time after the change.")


def wall_clock(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant (UTC) of a wall-clock time people typed in the salon's zone.

    A time the clocks skip is refused with the reason; a time that happens twice
    (the fall-back hour) is refused with both offsets, to be written with one.
    """
    if local.tzinfo is not None:
        return aware(local)
    if not exists(local, tz):
        raise InvalidInput(_gap(local, tz))
    if ambiguous(local, tz):
        first, second = (local.replace(tzinfo=tz, fold=f) for f in (0, 1))
        raise InvalidInput(
            f"{local:%H:%M} on {local:%a} {local.day} {local:%b %Y} happens twice in {tz.key} (the clocks go back): "
            f"write {first.isoformat(timespec='minutes')} for the first or {second.isoformat(timespec='minutes')} "
            "for the second.")
    return local.replace(tzinfo=tz).astimezone(UTC)


def day_label(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 3 Mar``: the date of ``moment`` in the salon's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def when(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 3 Mar 10:00`` in the salon's time zone (with the offset in the hour that happens twice)."""
    return f"{day_label(moment, tz)} {clock(moment, tz)}"


def clock(moment: datetime, tz: ZoneInfo) -> str:
    """``10:00``; in the hour the clocks go back over, ``01:30 (+01:00)`` and ``01:30 (+00:00)``."""
    local = moment.astimezone(tz)
    text = f"{local:%H:%M}"
    if ambiguous(local.replace(tzinfo=None), tz):
        offset = local.isoformat()[-6:]
        text += f" ({offset})"
    return text

