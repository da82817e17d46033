"""Appointments: book, reschedule, cancel, confirm, complete, no-show; lists and history.

No double booking, and the database is what refuses it. Each service checks
the time with :func:`core.salon.availability.check_bookable` and writes the
row in the same transaction. On SQLite that transaction began with ``BEGIN
IMMEDIATE`` (see ``db.engine``), so no other writer can slip in between the
check and the insert. On PostgreSQL two transactions can both pass the check;
the exclusion constraint then refuses the second insert (SQLSTATE 23P01),
which is rolled back and answered like any other clash: which appointment is
in the way, and the next free slots.

Every change of time or state is kept as an event (the appointment's
history), and what the client should hear goes to the outbox in the same
transaction (:mod:`core.salon.reminders`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from core.actors import Actor
from core.errors import InvalidInput, NotFound
from core.money import format_money
from core.salon import reminders
from core.salon.availability import Booking, Unavailable, check_bookable, next_free
from core.salon.clients import record_visit
from core.salon.common import require_for_professional, require_salon, when
from core.salon.schedule import DAY_MINUTES, local_instant
from db.engine import transaction_lock
from db.models import Contact, Org, User
from db.models_salon import SOURCES, SalonAppointment, SalonAppointmentEvent, SalonService
from db.types import utcnow

OPEN = ("pending", "confirmed")
# SQLSTATEs of a lost race on PostgreSQL: the exclusion constraint refused the row, or two writers
# that bypassed the diary lock waited on each other's rows and one was chosen to fail.
EXCLUSION_VIOLATION, DEADLOCK_DETECTED = "23P01", "40P01"


@dataclass(frozen=True)
class AppointmentView:
    """An appointment as front ends show it; times are in the salon's time zone."""

    id: int
    org_id: int
    professional_id: int
    professional_name: str
    service_id: int
    service_name: str
    contact_id: int | None
    client_name: str | None
    client_phone: str | None
    starts_at: datetime
    ends_at: datetime
    blocked_start: datetime
    blocked_end: datetime
    price_minor: int
    currency: str
    status: str
    source: str
    notes: str
    cancel_reason: str | None
    revision: int
    created_at: datetime

    @property
    def price(self) -> str:
        return format_money(self.price_minor, self.currency)


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    actor: str
    at: datetime
    from_start: datetime | None
    to_start: datetime | None
    reason: str | None
    details: dict[str, Any] | None


# ---------------------------------------------------------------- reading

_Pro = aliased(User)


def _select():
    return (
        select(SalonAppointment, _Pro.name, SalonService.name, Contact.name, Contact.phone)
        .join(_Pro, _Pro.id == SalonAppointment.professional_id)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
    )


def _make_view(a: SalonAppointment, tz: ZoneInfo, professional_name: str, service_name: str,
               client_name: str | None, client_phone: str | None) -> AppointmentView:
    return AppointmentView(
        a.id, a.org_id, a.professional_id, professional_name, a.service_id, service_name, a.contact_id, client_name,
        client_phone, a.starts_at.astimezone(tz), a.ends_at.astimezone(tz), a.blocked_start.astimezone(tz),
        a.blocked_end.astimezone(tz), a.price_minor, a.currency, a.status, a.source, a.notes, a.cancel_reason,
        a.revision, a.created_at)


def _views(session: Session, org: Org, query) -> list[AppointmentView]:
    tz = ZoneInfo(org.timezone)
    return [_make_view(a, tz, *names) for a, *names in session.execute(query)]


def _view(booking: Booking, appointment: SalonAppointment, contact: Contact | None) -> AppointmentView:
    """The view of an appointment just booked or moved, from what that already loaded."""
    return _make_view(appointment, booking.tz, booking.professional.name, booking.service.name,
                      contact.name if contact else None, contact.phone if contact else None)


def _fetch_view(session: Session, org: Org, appointment_id: int) -> AppointmentView:
    return _views(session, org, _select().where(SalonAppointment.id == appointment_id))[0]


def get_appointment(session: Session, actor: Actor, org_id: int, appointment_id: int) -> AppointmentView:
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    found = _views(session, org, _select().where(SalonAppointment.org_id == org.id,
                                                 SalonAppointment.id == appointment_id))
    if not found:
        raise NotFound(f"There is no appointment #{appointment_id} in {org.name}.")
    return found[0]


def list_appointments(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    start: datetime,
    end: datetime | None = None,
    professional_id: int | None = None,
    include_cancelled: bool = True,
    limit: int = 500,
) -> list[AppointmentView]:
    """Appointments starting from ``start`` (up to ``end``), by start time, at most ``limit``."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    query = _select().where(SalonAppointment.org_id == org.id, SalonAppointment.starts_at >= start)
    if end is not None:
        query = query.where(SalonAppointment.starts_at < end)
    if professional_id is not None:
        query = query.where(SalonAppointment.professional_id == professional_id)
    if not include_cancelled:
        query = query.where(SalonAppointment.status != "cancelled")
    return _views(session, org, query.order_by(SalonAppointment.starts_at, SalonAppointment.id).limit(limit))


def client_appointments(session: Session, actor: Actor, org_id: int, contact_id: int, *,
                        before_id: int | None = None, limit: int = 50) -> list[AppointmentView]:
    """A client's history, newest first (keyset by id)."""
    org = require_salon(session, actor, org_id, "salon.clients.read")
    query = _select().where(SalonAppointment.org_id == org.id, SalonAppointment.contact_id == contact_id)
    if before_id is not None:
        query = query.where(SalonAppointment.id < before_id)
    return _views(session, org, query.order_by(SalonAppointment.id.desc()).limit(limit))


def appointments_on(session: Session, actor: Actor, org_id: int, day: date, **kw) -> list[AppointmentView]:
    """One date of the salon's calendar (its own time zone)."""
    org = require_salon(session, actor, org_id, "salon.bookings.read")
    tz = ZoneInfo(org.timezone)
    return list_appointments(session, actor, org_id, start=local_instant(day, 0, tz),
                             end=local_instant(day, DAY_MINUTES, tz), **kw)


def appointment_history(session: Session, actor: Actor, org_id: int, appointment_id: int) -> list[EventView]:
    """What happened to an appointment, oldest first."""
    get_appointment(session, actor, org_id, appointment_id)
    rows = session.scalars(select(SalonAppointmentEvent).where(
        SalonAppointmentEvent.org_id == org_id, SalonAppointmentEvent.appointment_id == appointment_id)
        .order_by(SalonAppointmentEvent.id))
    return [EventView(e.id, e.kind, e.actor, e.at, e.from_start, e.to_start, e.reason, e.details) for e in rows]


# ---------------------------------------------------------------- changing

def _contact(session: Session, org_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.org_id != org_id:
        raise NotFound("That client does not exist.")
    return contact


def _event(session: Session, actor: Actor, appointment: SalonAppointment, kind: str, now: datetime, *,
           from_start: datetime | None = None, reason: str | None = None, details: dict | None = None) -> None:
    session.add(SalonAppointmentEvent(
        org_id=appointment.org_id, appointment_id=appointment.id, kind=kind, actor=actor.label, at=now,
        from_start=from_start, to_start=appointment.starts_at if kind in ("booked", "rescheduled") else None,
        reason=reason, details=details))


def lock_diary(session: Session, org_id: int, professional_id: int) -> None:
    """Queue writers to one professional's diary until this transaction ends.

    PostgreSQL's exclusion check makes a second inserter wait for the first
    inserter's transaction; with many at once those waits can form a cycle and
    end in a deadlock instead of a clean refusal. Queuing on an advisory lock
    first means each booking sees the one before it committed, and is refused
    by name. SQLite already has one writer at a time. The exclusion
    constraint stays the guarantee either way.
    """
    transaction_lock(session, f"salon.diary:{org_id}:{professional_id}")


def _is_overlap(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED)


def _write_or_refuse(session: Session, org_id: int, professional_id: int, service_id: int, start: datetime,
                     now: datetime, *, ignore: int | None = None) -> None:
    """Flush the new or moved appointment; if PostgreSQL refuses it (another transaction
    took the time after our check), roll back and say who has it."""
    try:
        session.flush()
    except DBAPIError as exc:
        if not _is_overlap(exc):
            raise
        session.rollback()
        org = session.get(Org, org_id)
        booking = Booking.load(session, org, professional_id, service_id)
        # Behind the diary lock the winner has committed, so the check names it.
        lock_diary(session, org_id, professional_id)
        check_bookable(session, booking, start, now, ignore=ignore)
        raise Unavailable("Another booking took that time a moment ago",
                          next_free(session, booking, start, now, ignore=ignore), booking.tz) from None


def _client_of(session: Session, appointment: SalonAppointment) -> Contact | None:
    """The appointment's client, or None when the contact was deleted since."""
    return None if appointment.contact_id is None else session.get(Contact, appointment.contact_id)


def _notice(org: Org, appointment: SalonAppointment, booking: Booking,
            contact: Contact | None) -> reminders.Notice | None:
    if contact is None:
        return None
    return reminders.Notice(org, appointment, contact, booking.service.name, booking.professional.name)


def _notice_as_booked(session: Session, org: Org, appointment: SalonAppointment) -> reminders.Notice | None:
    """The notice for an appointment that is not being (re)booked: its professional
    need not be bookable any more (a stylist who left can still have bookings cancelled)."""
    contact = _client_of(session, appointment)
    if contact is None:
        return None
    professional = session.get(User, appointment.professional_id)
    service = session.get(SalonService, appointment.service_id)
    return reminders.Notice(org, appointment, contact, service.name, professional.name)


def book(session: Session, actor: Actor, org_id: int, **booking: Any) -> AppointmentView:
    """:func:`place_booking`, committed."""
    view = place_booking(session, actor, org_id, **booking)
    session.commit()
    return view


def place_booking(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    professional_id: int,
    service_id: int,
    contact_id: int,
    start: datetime,
    source: str = "console",
    notes: str = "",
    now: datetime | None = None,
) -> AppointmentView:
    """In the caller's unit of work (a lead's conversion books with it), book ``contact_id`` with a professional for a service at ``start`` (aware).

    The price is the service's price now. Bookings made by staff
    (``source="console"``) are confirmed; those from SMS or a form are pending
    until staff confirm them. Both hold the time. Refuses with
    :class:`~core.salon.availability.Unavailable` when the time cannot be
    booked, naming the appointment in the way and the next free slots.
    """
    now = now or utcnow()
    org = require_for_professional(session, actor, org_id, professional_id, "salon.bookings.write")
    if source not in SOURCES:
        raise InvalidInput(f"{source!r} is not a booking source; use one of {', '.join(SOURCES)}.")
    contact = _contact(session, org.id, contact_id)
    booking = Booking.load(session, org, professional_id, service_id)
    if not booking.service.active:
        raise InvalidInput(f"{booking.service.name} is no longer offered.")
    lock_diary(session, org.id, professional_id)
    starts_at, ends_at, blocked_start, blocked_end = check_bookable(session, booking, start, now)
    appointment = SalonAppointment(
        org_id=org.id, professional_id=professional_id, service_id=service_id, contact_id=contact.id,
        starts_at=starts_at, ends_at=ends_at, blocked_start=blocked_start, blocked_end=blocked_end,
        price_minor=booking.service.price_minor, currency=org.currency,
        status="confirmed" if source == "console" else "pending", source=source, notes=notes.strip(),
        revision=0, created_by=actor.label, created_at=now, updated_at=now,
    )
    session.add(appointment)
    _write_or_refuse(session, org.id, professional_id, service_id, starts_at, now)
    _event(session, actor, appointment, "booked", now, details={"source": source, "status": appointment.status})
    reminders.on_booked(session, _notice(org, appointment, booking, contact), booking.settings.reminder_minutes, now)
    return _view(booking, appointment, contact)


def _load_for_change(session: Session, actor: Actor, org_id: int, appointment_id: int) -> tuple[Org, SalonAppointment]:
    """The appointment, locked until the change commits, if ``actor`` may change it."""
    require_salon(session, actor, org_id, "salon.bookings.read")
    appointment = session.scalar(select(SalonAppointment).where(
        SalonAppointment.org_id == org_id, SalonAppointment.id == appointment_id).with_for_update())
    if appointment is None:
        raise NotFound(f"There is no appointment #{appointment_id} here.")
    org = require_for_professional(session, actor, org_id, appointment.professional_id, "salon.bookings.write")
    return org, appointment


def _must_be_open(appointment: SalonAppointment, doing: str) -> None:
    if appointment.status not in OPEN:
        state = appointment.status.replace("_", "-")
        raise InvalidInput(f"Appointment #{appointment.id} is {state}; it cannot be {doing}.")


def reschedule(
    session: Session,
    actor: Actor,
    org_id: int,
    appointment_id: int,
    *,
    start: datetime,
    professional_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> AppointmentView:
    """Move an appointment to ``start`` (and to another professional, if given).

    The moved appointment takes the service's current length and buffers and
    keeps its price. Its reminders are withdrawn and queued again for the new
    time, and the client is told of the move.
    """
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    _must_be_open(appointment, "moved")
    old_pro, old_start = appointment.professional_id, appointment.starts_at
    new_pro = professional_id or old_pro
    if new_pro != old_pro:
        require_for_professional(session, actor, org.id, new_pro, "salon.bookings.write")
    booking = Booking.load(session, org, new_pro, appointment.service_id)
    lock_diary(session, org.id, new_pro)
    starts_at, ends_at, blocked_start, blocked_end = check_bookable(session, booking, start, now,
                                                                    ignore=appointment.id)
    appointment.professional_id = new_pro
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.blocked_start, appointment.blocked_end = blocked_start, blocked_end
    appointment.revision += 1
    appointment.updated_at = now
    _write_or_refuse(session, org.id, new_pro, appointment.service_id, starts_at, now, ignore=appointment.id)
    details = {"professional_from": old_pro, "professional_to": new_pro} if new_pro != old_pro else None
    _event(session, actor, appointment, "rescheduled", now, from_start=old_start, reason=(reason or "").strip() or None,
           details=details)
    contact = _client_of(session, appointment)
    notice = _notice(org, appointment, booking, contact)
    if notice is not None:
        reminders.on_moved(session, notice, old_start, booking.settings.reminder_minutes, now)
    else:
        reminders.withdraw_reminders(session, org.id, appointment.id, now)
    session.commit()
    return _view(booking, appointment, contact)


def cancel(
    session: Session, actor: Actor, org_id: int, appointment_id: int, *, reason: str, now: datetime | None = None
) -> AppointmentView:
    """Cancel with a reason; the time is free at once, reminders are withdrawn and the client is told."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the appointment is cancelled (for example: client asked, stylist ill).")
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    _must_be_open(appointment, "cancelled")
    appointment.status, appointment.cancel_reason, appointment.updated_at = "cancelled", reason, now
    _event(session, actor, appointment, "cancelled", now, reason=reason)
    notice = _notice_as_booked(session, org, appointment)
    if notice is not None:
        reminders.on_cancelled(session, notice, now)
    else:
        reminders.withdraw_reminders(session, org.id, appointment.id, now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def confirm(session: Session, actor: Actor, org_id: int, appointment_id: int, *,
            now: datetime | None = None) -> AppointmentView:
    """Confirm a pending booking (from SMS or a form); the client is told."""
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    if appointment.status != "pending":
        raise InvalidInput(f"Appointment #{appointment.id} is {appointment.status.replace('_', '-')}, not pending.")
    appointment.status, appointment.updated_at = "confirmed", now
    _event(session, actor, appointment, "confirmed", now)
    notice = _notice_as_booked(session, org, appointment)
    if notice is not None:
        reminders.on_confirmed(session, notice, now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def _close(session: Session, actor: Actor, org_id: int, appointment_id: int, status: str,
           now: datetime | None) -> tuple[Org, SalonAppointment]:
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    doing = "completed" if status == "completed" else "marked a no-show"
    _must_be_open(appointment, doing)
    if appointment.starts_at > now:
        raise InvalidInput(f"Appointment #{appointment.id} starts {when(appointment.starts_at, ZoneInfo(org.timezone))}; "
                           f"it cannot be {doing} before then.")
    appointment.status, appointment.updated_at = status, now
    _event(session, actor, appointment, status, now)
    reminders.withdraw_reminders(session, org.id, appointment.id, now)
    return org, appointment


def complete(session: Session, actor: Actor, org_id: int, appointment_id: int, *,
             now: datetime | None = None) -> AppointmentView:
    """The client came: counts a visit and the price on their client record."""
    org, appointment = _close(session, actor, org_id, appointment_id, "completed", now)
    if appointment.contact_id is not None:
        record_visit(session, org.id, appointment.contact_id, appointment.starts_at, appointment.price_minor)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def mark_no_show(session: Session, actor: Actor, org_id: int, appointment_id: int, *,
                 now: datetime | None = None) -> AppointmentView:
    """The client did not come. The time stays taken: it is in the past."""
    org, appointment = _close(session, actor, org_id, appointment_id, "no_show", now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


__all__ = [
    "AppointmentView", "EventView", "Unavailable", "appointment_history", "appointments_on", "book", "cancel",
    "client_appointments", "place_booking",
    "complete", "confirm", "get_appointment", "list_appointments", "mark_no_show", "reschedule",
]
