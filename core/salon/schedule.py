"""When a professional works: the usual week with its breaks, dates that differ
(a holiday, a late opening), and time blocks (leave, training).

Weekly hours are wall-clock times in the salon's time zone; a date's hours
become UTC intervals only when :func:`working_time` asks for them, so a salon
that opens at 09:00 opens at 09:00 on both sides of a daylight-saving change.
A professional whose week was never set works the salon default, Monday to
Saturday 09:00 to 18:00.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.salon.common import (
    Interval,
    aware,
    bookable_professional,
    merge,
    require_for_professional,
    require_salon,
    subtract,
    when,
)
from db.models import Contact, Org
from db.models_salon import (
    BLOCK_REASONS,
    SalonAppointment,
    SalonDateException,
    SalonService,
    SalonTimeBlock,
    SalonWeeklyHours,
)
from db.types import utcnow

DAY_MINUTES = 24 * 60
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Monday to Saturday, 09:00 to 18:00, as (start, end) minutes after local midnight.
DEFAULT_WEEK: dict[int, list[tuple[int, int]]] = {day: [(9 * 60, 18 * 60)] for day in range(6)}

Hours = Sequence[tuple[time, time]]


@dataclass(frozen=True)
class WeekView:
    """A professional's usual week: per weekday (0 Monday), working stretches and breaks."""

    professional_id: int
    work: dict[int, list[tuple[time, time]]]
    breaks: dict[int, list[tuple[time, time]]]
    is_default: bool


@dataclass(frozen=True)
class DateExceptionView:
    id: int
    professional_id: int | None
    day: date
    hours: tuple[time, time] | None  # None: closed all day
    note: str


@dataclass(frozen=True)
class TimeBlockView:
    id: int
    professional_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    note: str


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _end_minute(t: time) -> int:
    """An end of 00:00 means midnight at the end of the day."""
    return _minute(t) or DAY_MINUTES


def _time(minute: int) -> time:
    return time(0, 0) if minute >= DAY_MINUTES else time(minute // 60, minute % 60)


def _stretches(hours: Hours, what: str) -> list[tuple[int, int]]:
    stretches = []
    for start, end in hours:
        a, b = _minute(start), _end_minute(end)
        if a >= b:
            raise InvalidInput(f"{what} {start:%H:%M}–{end:%H:%M} ends before it starts.")
        stretches.append((a, b))
    return sorted(stretches)


def set_weekly_hours(
    session: Session,
    actor: Actor,
    org_id: int,
    professional_id: int,
    *,
    work: Mapping[int, Hours],
    breaks: Mapping[int, Hours] | None = None,
    only_these_days: bool = False,
) -> WeekView:
    """Set a professional's usual week. ``work`` and ``breaks`` map weekdays
    (0 Monday … 6 Sunday) to (start, end) local times; an end of 00:00 is
    midnight; a weekday mapped to no hours is a day off.

    With ``only_these_days`` only the weekdays in ``work`` change (setting
    Saturday leaves Monday to Friday as they were); otherwise ``work`` is the
    whole week and the days it leaves out are days off. A break must lie
    inside that day's working hours. Appointments already booked stay where they are.
    """
    org = require_for_professional(session, actor, org_id, professional_id, "salon.schedule.write")
    bookable_professional(session, org, professional_id)
    breaks = breaks or {}
    for weekday in (*work, *breaks):
        if weekday not in range(7):
            raise InvalidInput(f"{weekday!r} is not a weekday; use 0 for Monday to 6 for Sunday.")
    days = set(work) if only_these_days else set(range(7))
    if only_these_days and set(breaks) - days:
        raise InvalidInput("A break is set with that day's hours.")
    old_work, old_breaks, _ = _week_minutes(session, org.id, professional_id)
    new_work = {d: v for d, v in old_work.items() if d not in days}
    new_breaks = {d: v for d, v in old_breaks.items() if d not in days}
    for weekday in days:
        label = WEEKDAYS[weekday]
        stretches = _stretches(work.get(weekday, ()), f"Working hours on {label}")
        pauses = _stretches(breaks.get(weekday, ()), f"A break on {label}")
        hours = merge(stretches)
        for a, b in pauses:
            if not any(x <= a and b <= y for x, y in hours):
                shown = ", ".join(f"{_time(x):%H:%M}–{_time(y):%H:%M}" for x, y in hours) or "a day off"
                raise InvalidInput(f"The break {_time(a):%H:%M}–{_time(b):%H:%M} on {label} is outside that day's "
                                   f"working hours ({shown}).")
        if stretches:
            new_work[weekday] = stretches
            if pauses:
                new_breaks[weekday] = pauses
    if not new_work:
        raise InvalidInput("A week needs some working hours; for time away, add a time block (leave).")
    session.execute(delete(SalonWeeklyHours).where(SalonWeeklyHours.org_id == org.id,
                                                   SalonWeeklyHours.professional_id == professional_id))
    session.add_all(SalonWeeklyHours(org_id=org.id, professional_id=professional_id, weekday=d, start_minute=a,
                                     end_minute=b, kind=kind)
                    for kind, week in (("work", new_work), ("break", new_breaks))
                    for d, stretches in week.items() for a, b in stretches)
    audit.record(session, actor, "salon.hours", "user", professional_id, org_id=org.id,
                 after={"days": sorted(days), "work": {WEEKDAYS[d]: new_work.get(d, []) for d in sorted(days)}})
    session.commit()
    return _week(session, org.id, professional_id)


def weekly_hours(session: Session, actor: Actor, org_id: int, professional_id: int) -> WeekView:
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    bookable_professional(session, org, professional_id)
    return _week(session, org.id, professional_id)


def _week_minutes(session: Session, org_id: int, professional_id: int):
    rows = session.execute(
        select(SalonWeeklyHours.kind, SalonWeeklyHours.weekday, SalonWeeklyHours.start_minute,
               SalonWeeklyHours.end_minute)
        .where(SalonWeeklyHours.org_id == org_id, SalonWeeklyHours.professional_id == professional_id)
    ).all()
    work: dict[int, list[tuple[int, int]]] = {}
    breaks: dict[int, list[tuple[int, int]]] = {}
    for kind, weekday, a, b in rows:
        (work if kind == "work" else breaks).setdefault(weekday, []).append((a, b))
    if not work:
        return DEFAULT_WEEK, breaks, True
    return work, breaks, False


def _week(session: Session, org_id: int, professional_id: int) -> WeekView:
    work, breaks, is_default = _week_minutes(session, org_id, professional_id)

    def as_times(week):
        return {d: [(_time(a), _time(b)) for a, b in sorted(week[d])] for d in sorted(week)}

    return WeekView(professional_id, as_times(work), as_times(breaks), is_default)


# ---------------------------------------------------------------- dates that differ

def set_date_exception(
    session: Session,
    actor: Actor,
    org_id: int,
    day: date,
    *,
    hours: tuple[time, time] | None,
    professional_id: int | None = None,
    note: str = "",
    booked: str = "refuse",
    now: datetime | None = None,
) -> DateExceptionView:
    """Hours for one date instead of the usual week (``hours=None``: closed).

    Without ``professional_id`` it is the whole salon's (a public holiday); a
    professional's own exception on that date wins over the salon's.
    Appointments booked that day outside the new hours are handled as a time
    block's are (``booked``: refuse with their list, keep, or cancel).
    """
    now = now or utcnow()
    if professional_id is None:
        org = require_salon(session, actor, org_id, "salon.schedule.write")
    else:
        org = require_for_professional(session, actor, org_id, professional_id, "salon.schedule.write")
        bookable_professional(session, org, professional_id)
    _check_booked_choice(booked)
    start_minute = end_minute = None
    if hours is not None:
        [(start_minute, end_minute)] = _stretches([hours], f"The hours on {day.isoformat()}")
    tz = ZoneInfo(org.timezone)
    day_start, day_end = local_instant(day, 0, tz), local_instant(day, DAY_MINUTES, tz)
    query = _open_appointments(org.id, day_start, day_end)
    if professional_id is not None:
        query = query.where(SalonAppointment.professional_id == professional_id)
    else:  # a professional's own hours that day stand
        query = query.where(SalonAppointment.professional_id.not_in(
            select(SalonDateException.professional_id).where(
                SalonDateException.org_id == org.id, SalonDateException.day == day,
                SalonDateException.professional_id.is_not(None))))
    rows = session.execute(query).all()
    if start_minute is not None:
        open_from, open_to = local_instant(day, start_minute, tz), local_instant(day, end_minute, tz)
        rows = [r for r in rows if not (open_from <= aware(r[0].starts_at) and aware(r[0].ends_at) <= open_to)]
    whose = "the salon" if professional_id is None else "the professional"
    what = "closed" if hours is None else f"open {hours[0]:%H:%M}–{hours[1]:%H:%M} only"
    why = f"{whose} is {what} that day" + (f" ({note.strip()})" if note.strip() else "")
    _settle_booked(session, actor, org, rows, booked, why, now)
    _delete_exception(session, org.id, day, professional_id)
    row = SalonDateException(org_id=org.id, professional_id=professional_id, day=day,
                             start_minute=start_minute, end_minute=end_minute, note=note.strip())
    session.add(row)
    session.flush()
    audit.record(session, actor, "salon.holiday.set", "salon_date_exception", row.id, org_id=org.id,
                 after={**_audited(row), "booked": booked, "appointments": [r[0].id for r in rows]})
    session.commit()
    return _exception_view(row)


def clear_date_exception(
    session: Session, actor: Actor, org_id: int, day: date, *, professional_id: int | None = None
) -> None:
    """Back to the usual week on ``day``."""
    if professional_id is None:
        org = require_salon(session, actor, org_id, "salon.schedule.write")
    else:
        org = require_for_professional(session, actor, org_id, professional_id, "salon.schedule.write")
    row = _exception(session, org.id, day, professional_id)
    if row is None:
        whose = "the salon" if professional_id is None else "that professional"
        raise NotFound(f"{day.isoformat()} has no holiday, closure or other hours for {whose}; "
                       "`salon holiday list` shows those set.")
    audit.record(session, actor, "salon.holiday.remove", "salon_date_exception", row.id, org_id=org.id,
                 before=_audited(row))
    session.delete(row)
    session.commit()


def _audited(row: SalonDateException) -> dict:
    hours = None if row.start_minute is None else [f"{_time(row.start_minute):%H:%M}", f"{_time(row.end_minute):%H:%M}"]
    return {"day": row.day.isoformat(), "professional_id": row.professional_id, "hours": hours, "note": row.note}


def _who(professional_id: int | None):
    return (SalonDateException.professional_id.is_(None) if professional_id is None
            else SalonDateException.professional_id == professional_id)


def _exception(session: Session, org_id: int, day: date, professional_id: int | None) -> SalonDateException | None:
    return session.scalar(select(SalonDateException).where(
        SalonDateException.org_id == org_id, SalonDateException.day == day, _who(professional_id)))


def _delete_exception(session: Session, org_id: int, day: date, professional_id: int | None) -> None:
    session.execute(delete(SalonDateException).where(SalonDateException.org_id == org_id,
                                                     SalonDateException.day == day, _who(professional_id)))


def date_exception_on(session: Session, org: Org, professional_id: int, day: date) -> DateExceptionView | None:
    """The exception that rules ``professional_id``'s ``day``: her own, else the salon's (for services
    that checked the actor)."""
    return next((_exception_view(r) for r in (_exception(session, org.id, day, professional_id),
                                              _exception(session, org.id, day, None)) if r is not None), None)


def salon_closed_on(session: Session, org: Org, day: date) -> DateExceptionView | None:
    """The salon's closure on ``day`` when nobody keeps her own hours then (for services that checked
    the actor, or that answer a client): what to tell a client who asks for that day."""
    row = _exception(session, org.id, day, None)
    if row is None or row.start_minute is not None:
        return None
    own_hours = session.scalar(select(SalonDateException.id).where(
        SalonDateException.org_id == org.id, SalonDateException.day == day,
        SalonDateException.professional_id.is_not(None), SalonDateException.start_minute.is_not(None)).limit(1))
    return None if own_hours is not None else _exception_view(row)


def list_date_exceptions(
    session: Session, actor: Actor, org_id: int, first: date, last: date
) -> list[DateExceptionView]:
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    rows = session.scalars(select(SalonDateException).where(
        SalonDateException.org_id == org.id, SalonDateException.day.between(first, last))
        .order_by(SalonDateException.day, SalonDateException.id))
    return [_exception_view(r) for r in rows]


def _exception_view(row: SalonDateException) -> DateExceptionView:
    hours = None if row.start_minute is None else (_time(row.start_minute), _time(row.end_minute))
    return DateExceptionView(row.id, row.professional_id, row.day, hours, row.note)


# ---------------------------------------------------------------- time blocks

class BookedInTheWay(Conflict):
    """A time block would cover booked appointments; ``appointments`` are (id, start, client, service)."""

    def __init__(self, message: str, appointments: list[tuple[int, datetime, str, str]]) -> None:
        self.appointments = appointments
        super().__init__(message)


BOOKED_CHOICES = ("refuse", "keep", "cancel")


def _check_booked_choice(booked: str) -> None:
    if booked not in BOOKED_CHOICES:
        raise InvalidInput(f"{booked!r}: say refuse, keep or cancel for the appointments booked then.")


def _open_appointments(org_id: int, start: datetime, end: datetime):
    """Open appointments meeting ``[start, end)`` with their client's and service's names, locked, by start."""
    from core.salon.bookings import OPEN

    return (select(SalonAppointment, Contact.name, SalonService.name)
            .join(SalonService, SalonService.id == SalonAppointment.service_id)
            .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
            .where(SalonAppointment.org_id == org_id, SalonAppointment.status.in_(OPEN),
                   SalonAppointment.starts_at < end, SalonAppointment.ends_at > start)
            .order_by(SalonAppointment.starts_at).with_for_update(of=SalonAppointment))


def _settle_booked(session: Session, actor: Actor, org: Org, in_the_way, booked: str, why: str,
                   now: datetime) -> None:
    """Appointments in the way of a block or a closure: refused with their list, kept, or cancelled (``why``)."""
    from core.salon.bookings import release

    tz = ZoneInfo(org.timezone)
    if in_the_way and booked == "refuse":
        listed = [(a.id, a.starts_at.astimezone(tz), client or "", service) for a, client, service in in_the_way]
        names = "; ".join(f"#{i} {when(at, tz)} {client} ({service})".replace("  ", " ")
                          for i, at, client, service in listed)
        raise BookedInTheWay(f"{len(listed)} appointment{'s are' if len(listed) > 1 else ' is'} booked then: {names}. "
                             "Say whether to keep them (and move them by hand) or cancel them.", listed)
    if booked == "cancel":
        for appointment, _client, _service in in_the_way:
            release(session, actor, org, appointment, status="cancelled", now=now, reason=why)


def add_time_block(
    session: Session,
    actor: Actor,
    org_id: int,
    professional_id: int,
    *,
    start: datetime,
    end: datetime,
    reason: str = "leave",
    note: str = "",
    booked: str = "refuse",
    now: datetime | None = None,
) -> TimeBlockView:
    """Keep a professional free of bookings from ``start`` to ``end`` (leave, training, other).

    Appointments already booked in that time are listed in a refusal
    (:class:`BookedInTheWay`) unless ``booked`` says what to do with them:
    ``keep`` them (someone moves them by hand) or ``cancel`` them (their
    clients are told).
    """
    now = now or utcnow()
    org = require_for_professional(session, actor, org_id, professional_id, "salon.schedule.write")
    bookable_professional(session, org, professional_id)
    start, end = aware(start, "start"), aware(end, "end")
    if start >= end:
        raise InvalidInput("A time block ends after it starts.")
    if reason not in BLOCK_REASONS:
        raise InvalidInput(f"{reason!r} is not a reason; use one of {', '.join(BLOCK_REASONS)}.")
    _check_booked_choice(booked)
    in_the_way = session.execute(
        _open_appointments(org.id, start, end).where(SalonAppointment.professional_id == professional_id)).all()
    what = reason + (f": {note.strip()}" if note.strip() else "")
    _settle_booked(session, actor, org, in_the_way, booked, f"the professional is away ({what})", now)
    block = SalonTimeBlock(org_id=org.id, professional_id=professional_id, starts_at=start, ends_at=end,
                           reason=reason, note=note.strip(), created_by=actor.label)
    session.add(block)
    session.flush()
    session.commit()
    return _block_view(block)


def remove_time_block(session: Session, actor: Actor, org_id: int, block_id: int) -> None:
    block = session.get(SalonTimeBlock, block_id)
    if block is None or block.org_id != org_id:
        require_salon(session, actor, org_id, "salon.bookings.read")
        raise NotFound("That time block does not exist.")
    require_for_professional(session, actor, org_id, block.professional_id, "salon.schedule.write")
    audit.record(session, actor, "salon.block.remove", "salon_time_block", block.id, org_id=org_id,
                 before={"professional_id": block.professional_id, "starts_at": block.starts_at.isoformat(),
                         "ends_at": block.ends_at.isoformat(), "reason": block.reason, "note": block.note})
    session.delete(block)
    session.commit()


def list_time_blocks(
    session: Session, actor: Actor, org_id: int, professional_id: int | None, start: datetime, end: datetime
) -> list[TimeBlockView]:
    """Blocks meeting ``[start, end)``, of one professional or (None) of everyone, by start."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    return [_block_view(b) for b in _blocks(session, org.id, professional_id, start, end)]


def _blocks(session: Session, org_id: int, professional_id: int | None, start: datetime, end: datetime):
    query = select(SalonTimeBlock).where(SalonTimeBlock.org_id == org_id, SalonTimeBlock.starts_at < end,
                                         SalonTimeBlock.ends_at > start)
    if professional_id is not None:
        query = query.where(SalonTimeBlock.professional_id == professional_id)
    return session.scalars(query.order_by(SalonTimeBlock.starts_at, SalonTimeBlock.id)).all()


def _block_view(block: SalonTimeBlock) -> TimeBlockView:
    return TimeBlockView(block.id, block.professional_id, block.starts_at, block.ends_at, block.reason, block.note)


# ---------------------------------------------------------------- the time a professional can be booked

@dataclass(frozen=True)
class WorkingTime:
    """A professional's bookable time in a window, as merged UTC intervals.

    ``hours`` is working time less breaks; ``available`` is that less time
    blocks. ``blocks`` are kept to say why a time is refused.
    """

    hours: list[Interval]
    available: list[Interval]
    blocks: list[TimeBlockView]


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``minute`` on ``day`` (a minute of 1440 is the next midnight)."""
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def working_time(session: Session, org: Org, professional_id: int, start: datetime, end: datetime) -> WorkingTime:
    """What ``professional_id`` can be booked for between ``start`` and ``end`` (UTC intervals)."""
    tz = ZoneInfo(org.timezone)
    # A day's local hours can reach into the UTC neighbours on either side.
    first, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(days=1)
    work, breaks, _is_default = _week_minutes(session, org.id, professional_id)
    exceptions: dict[date, tuple[int | None, int | None]] = {}
    # The salon's rows first, so that a professional's own row for the same date replaces it.
    for row in session.execute(
        select(SalonDateException.day, SalonDateException.start_minute, SalonDateException.end_minute)
        .where(SalonDateException.org_id == org.id, SalonDateException.day.between(first, last),
               or_(SalonDateException.professional_id == professional_id,
                   SalonDateException.professional_id.is_(None)))
        .order_by(SalonDateException.professional_id.is_not(None))
    ):
        exceptions[row.day] = (row.start_minute, row.end_minute)
    hours: list[Interval] = []
    day = first
    while day <= last:
        weekday = day.weekday()
        if day in exceptions:
            a, b = exceptions[day]
            stretches = [] if a is None else [(a, b)]
        else:
            stretches = work.get(weekday, [])
        day_hours = merge((local_instant(day, a, tz), local_instant(day, b, tz)) for a, b in stretches)
        day_breaks = [(local_instant(day, a, tz), local_instant(day, b, tz)) for a, b in breaks.get(weekday, [])]
        hours.extend(subtract(day_hours, day_breaks))
        day += timedelta(days=1)
    hours = [(max(a, start), min(b, end)) for a, b in merge(hours) if b > start and a < end]
    blocks = [_block_view(b) for b in _blocks(session, org.id, professional_id, start, end)]
    available = subtract(hours, [(b.starts_at, b.ends_at) for b in blocks])
    return WorkingTime(hours, available, blocks)


def day_hours_text(session: Session, org: Org, professional_id: int, day: date) -> str:
    """``09:00–13:00, 14:00–18:00`` for a professional's hours on ``day`` (local), ``no hours``, or what
    a holiday or closure says (``the salon is closed: Madaraka Day``, ``10:00–14:00, the salon hours
    that day: half day``)."""
    tz = ZoneInfo(org.timezone)
    start = local_instant(day, 0, tz)
    end = local_instant(day, DAY_MINUTES, tz)
    stretches = working_time(session, org, professional_id, start, end).hours
    shown = ", ".join(f"{a.astimezone(tz):%H:%M}–{b.astimezone(tz):%H:%M}" for a, b in stretches) or "no hours"
    exception = date_exception_on(session, org, professional_id, day)
    if exception is None:
        return shown
    said = f": {exception.note}" if exception.note else ""
    salon = exception.professional_id is None
    if exception.hours is None:
        return ("the salon is closed" if salon else "closed") + said
    return f"{shown}, {'the salon' if salon else 'her own'} hours that day" + said
