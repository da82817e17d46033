"""Free slots, and the one test of whether a time can be booked.

A start ``s`` for a service is bookable when the professional is free for
the whole blocked range ``[s - buffer before, s + minutes + buffer after)``:
inside working hours, outside breaks and time blocks, clear of every other
non-cancelled appointment's blocked range; and, for a client booking by SMS
or a form, when ``s`` is at least the minimum notice after now and at most
the booking horizon ahead. Staff book from now on, as far ahead as they
like, and a walk-in up to an hour back (the client is in the chair). Free slots
are the bookable starts on the slot step, counted on the salon's wall clock
(09:00, 09:15, …). :func:`check_bookable` applies the same rule to any start,
so every slot offered can be booked and a booked time is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.salon.common import (
    Interval,
    ProfessionalView,
    aware,
    bookable_professional,
    clock,
    covers,
    day_label,
    require_salon,
    subtract,
    when,
)
from core.salon.schedule import DAY_MINUTES, day_hours_text, local_instant, working_time
from core.salon.services import MAX_SPAN_MINUTES, load_service
from core.salon.settings import BookingSettings, load_booking_settings
from db.models import Org
from db.models_salon import SalonAppointment, SalonService
from db.types import utcnow

MAX_SPAN = timedelta(minutes=MAX_SPAN_MINUTES)
NEXT_FREE_COUNT = 3
NEXT_FREE_SEARCH = timedelta(days=14)
# Staff booking "now" take a few minutes to type it; a walk-in may be entered after she sat down.
STAFF_GRACE = timedelta(minutes=5)
WALK_IN_BACK = timedelta(hours=1)


class Unavailable(Conflict):
    """That time cannot be booked. ``appointment_id`` is the appointment in the
    way, if that is why; ``next_free`` are the next bookable starts after it."""

    def __init__(self, reason: str, next_free: list[datetime], tz: ZoneInfo, appointment_id: int | None = None):
        self.reason = reason
        self.next_free = next_free
        self.appointment_id = appointment_id
        super().__init__(f"{reason}; {offer(next_free, tz)}.")


def offer(slots: list[datetime], tz: ZoneInfo) -> str:
    """``next free: Tue 3 Mar 11:15, 11:30, Wed 4 Mar 09:00`` (the date only when it changes)."""
    if not slots:
        return "no free time in the next two weeks"
    parts, last_day = [], None
    for slot in slots:
        day = slot.astimezone(tz).date()
        parts.append(clock(slot, tz) if day == last_day else when(slot, tz))
        last_day = day
    return "next free: " + ", ".join(parts)


@dataclass(frozen=True)
class Busy:
    """Another appointment's blocked range, for the message that names it."""

    appointment_id: int
    start: datetime
    end: datetime
    starts_at: datetime
    ends_at: datetime
    service_name: str


def busy_between(session: Session, org_id: int, professional_id: int, start: datetime, end: datetime,
                 *, ignore: int | None = None) -> list[Busy]:
    """Non-cancelled appointments whose blocked range meets ``[start, end)``.

    No appointment spans more than ``MAX_SPAN``, so the index range on
    ``blocked_start`` is bounded on both sides, however long the history.
    """
    query = (
        select(SalonAppointment.id, SalonAppointment.blocked_start, SalonAppointment.blocked_end,
               SalonAppointment.starts_at, SalonAppointment.ends_at, SalonService.name)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .where(SalonAppointment.org_id == org_id, SalonAppointment.professional_id == professional_id,
               SalonAppointment.blocked_start < end, SalonAppointment.blocked_start > start - MAX_SPAN,
               SalonAppointment.blocked_end > start, SalonAppointment.status != "cancelled")
        .order_by(SalonAppointment.blocked_start)
    )
    if ignore is not None:
        query = query.where(SalonAppointment.id != ignore)
    return [Busy(*row) for row in session.execute(query)]


def _align(moment: datetime, step: int, tz: ZoneInfo) -> datetime:
    """The first wall-clock mark of ``step`` minutes at or after ``moment``."""
    local = moment.astimezone(tz)
    past = (local.minute % step) * 60 + local.second + local.microsecond / 1_000_000
    return moment if past == 0 else moment + timedelta(seconds=step * 60 - past)


@dataclass(frozen=True)
class Booking:
    """What a time is being checked for: a service with a professional in a salon, under its rules."""

    org: Org
    professional: ProfessionalView
    service: SalonService
    settings: BookingSettings
    client: bool = True  # the client books (notice and horizon apply), or staff do
    walk_in: bool = False

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.org.timezone)

    @classmethod
    def load(cls, session: Session, org: Org, professional_id: int, service_id: int, *, client: bool = True,
             walk_in: bool = False) -> Booking:
        return cls(org, bookable_professional(session, org, professional_id),
                   load_service(session, org.id, service_id), load_booking_settings(session, org.id), client,
                   walk_in)

    def window(self, now: datetime) -> tuple[datetime, datetime | None]:
        """The earliest and latest bookable start (None: no limit) under these rules."""
        if self.client:
            return (now + timedelta(minutes=self.settings.min_notice_minutes),
                    now + timedelta(days=self.settings.max_advance_days))
        if self.walk_in:
            return now - WALK_IN_BACK, now + STAFF_GRACE
        return now - STAFF_GRACE, None


def _slots(session: Session, booking: Booking, start: datetime, end: datetime, now: datetime,
           *, ignore: int | None = None) -> list[datetime]:
    """Bookable starts ``s`` with ``start <= s < end``, in UTC."""
    service, settings = booking.service, booking.settings
    before, length = timedelta(minutes=service.buffer_before), timedelta(minutes=service.minutes)
    after = timedelta(minutes=service.buffer_after)
    soonest, latest = booking.window(now)
    earliest = max(start, soonest if booking.client else now)
    horizon = end if latest is None else latest
    if earliest >= end or earliest > horizon:
        return []
    span = (earliest - before, min(end, horizon + timedelta(microseconds=1)) + length + after)
    pro = booking.professional.id
    hours = working_time(session, booking.org, pro, *span).available
    taken = busy_between(session, booking.org.id, pro, *span, ignore=ignore)
    free = subtract(hours, [(b.start, b.end) for b in taken])
    step = timedelta(minutes=settings.slot_step_minutes)
    slots: list[datetime] = []
    for a, b in free:
        s = _align(max(a + before, earliest), settings.slot_step_minutes, booking.tz)
        while s < end and s <= horizon and s + length + after <= b:
            slots.append(s)
            s += step
    return slots


def free_slots(
    session: Session,
    actor: Actor,
    org_id: int,
    professional_id: int,
    service_id: int,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    client: bool = True,
) -> list[datetime]:
    """The bookable starts from ``start`` (inclusive) to ``end`` (exclusive), in the salon's time zone,
    under a client's rules (notice, horizon) or, with ``client=False``, staff's."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    booking = Booking.load(session, org, professional_id, service_id, client=client)
    if not booking.service.active:
        return []
    slots = _slots(session, booking, aware(start, "start"), aware(end, "end"), now or utcnow())
    return [s.astimezone(booking.tz) for s in slots]


def free_slots_on(
    session: Session,
    actor: Actor,
    org_id: int,
    professional_id: int,
    service_id: int,
    day: date,
    *,
    now: datetime | None = None,
    client: bool = True,
) -> list[datetime]:
    """The bookable starts on one date of the salon's calendar (23 or 25 hours long on a clock change)."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    tz = ZoneInfo(org.timezone)
    return free_slots(session, actor, org_id, professional_id, service_id, local_instant(day, 0, tz),
                      local_instant(day, DAY_MINUTES, tz), now=now, client=client)


def next_free(session: Session, booking: Booking, after: datetime, now: datetime,
              *, ignore: int | None = None) -> list[datetime]:
    """Up to ``NEXT_FREE_COUNT`` bookable starts from ``after`` on, within two weeks, in the salon's time zone."""
    slots = _slots(session, booking, after, after + NEXT_FREE_SEARCH, now, ignore=ignore)
    return [s.astimezone(booking.tz) for s in slots[:NEXT_FREE_COUNT]]


def check_bookable(session: Session, booking: Booking, start: datetime, now: datetime,
                   *, ignore: int | None = None) -> tuple[datetime, datetime, datetime, datetime]:
    """Refuse with :class:`Unavailable` unless ``start`` can be booked; return
    (starts_at, ends_at, blocked_start, blocked_end) in UTC.

    ``ignore`` is the appointment being moved, which does not stand in its own way.
    """
    tz, service, settings = booking.tz, booking.service, booking.settings
    pro = booking.professional.id
    start = aware(start)
    ends = start + timedelta(minutes=service.minutes)
    blocked = (start - timedelta(minutes=service.buffer_before), ends + timedelta(minutes=service.buffer_after))

    def refuse(reason: str, appointment_id: int | None = None) -> Unavailable:
        return Unavailable(reason, next_free(session, booking, start, now, ignore=ignore), tz, appointment_id)

    if not service.active:
        raise InvalidInput(f"{service.name} is no longer offered.")
    earliest, latest = booking.window(now)
    notice = settings.min_notice_minutes
    if start < earliest:
        if booking.walk_in:
            raise refuse(f"{when(start, tz)} is more than an hour ago; a walk-in is booked from an hour back to now")
        raise refuse(f"{when(start, tz)} is too soon: bookings need {notice} minutes' notice"
                     if booking.client and notice else f"{when(start, tz)} has already passed")
    if latest is not None and start > latest:
        raise refuse(f"{when(start, tz)} is later than now; a walk-in starts now or in the past hour"
                     if booking.walk_in else
                     f"{when(start, tz)} is too far ahead: bookings open {settings.max_advance_days} days ahead")
    hours = working_time(session, booking.org, pro, *blocked)
    if not covers(hours.available, *blocked):
        raise refuse(_why_not_working(session, booking, hours.blocks, blocked))
    taken = busy_between(session, booking.org.id, pro, *blocked, ignore=ignore)
    if taken:
        raise refuse(in_the_way(booking, taken[0]), taken[0].appointment_id)
    return start, ends, blocked[0], blocked[1]


def in_the_way(booking: Booking, busy: Busy) -> str:
    """``Aisha Mohamed is booked from 10:00 to 11:00 on Tue 3 Mar (appointment #12, Braids)``."""
    tz = booking.tz
    return (f"{booking.professional.name} is booked from {clock(busy.starts_at, tz)} to {clock(busy.ends_at, tz)} "
            f"on {day_label(busy.starts_at, tz)} (appointment #{busy.appointment_id}, {busy.service_name})")


def _why_not_working(session: Session, booking: Booking, blocks, blocked: Interval) -> str:
    tz, name = booking.tz, booking.professional.name
    if blocks:
        block = blocks[0]
        what = block.reason + (f": {block.note}" if block.note else "")
        return f"{name} is away ({what}) from {when(block.starts_at, tz)} to {when(block.ends_at, tz)}"
    day = blocked[0].astimezone(tz).date()
    hours = day_hours_text(session, booking.org, booking.professional.id, day)
    return (f"{clock(blocked[0], tz)}–{clock(blocked[1], tz)} (buffers included) is outside {name}'s hours "
            f"on {day_label(blocked[0], tz)} ({hours})")


__all__ = ["Booking", "Unavailable", "busy_between", "check_bookable", "free_slots", "free_slots_on",
           "in_the_way", "next_free", "offer"]
