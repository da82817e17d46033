"""Appointments: book (walk-ins too), reschedule, cancel, confirm, check in, complete
with the money taken, no-show; the client's own answer to a reminder; lists and history.

No double booking, and the database is what refuses it. Each service checks
the time with :func:`core.salon.availability.check_bookable` and writes the
row in the same transaction. On SQLite that transaction began with ``BEGIN
IMMEDIATE`` (see ``db.engine``), so no other writer can slip in between the
check and the insert. On PostgreSQL two transactions can both pass the check;
the exclusion constraint then refuses the second insert (SQLSTATE 23P01),
which is rolled back and answered like any other clash: which appointment is
in the way, and the next free slots.

Every change of time or state is kept as an event (the appointment's
history), and what the client and the professional should hear goes to the
outbox in the same transaction (:mod:`core.salon.reminders`).

Closing the visit: :func:`check_in` when the client arrives; :func:`complete`
with the price (the booked one unless changed), a discount, a tip and how the
balance was paid (cash, M-Pesa, card), less any deposit already paid;
:func:`mark_no_show` with the salon's no-show fee, keeping a paid deposit
toward it when the salon's policy says so. Each sum taken is a
``salon_payments`` row, which the takings report reads; the client record
(visits, spend, last visit) follows from completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from core import audit
from core.actors import Actor
from core.errors import InvalidInput, NotFound, OfisiError
from core.money import format_money, parse_money
from core.phones import normalize_phone
from core.salon import reminders
from core.salon.availability import Booking, Unavailable, check_bookable, next_free
from core.salon.clients import record_visit
from core.salon.common import require_for_professional, require_salon, when
from core.salon.schedule import DAY_MINUTES, local_instant
from core.salon.settings import load_booking_settings
from db.engine import transaction_lock
from db.models import Contact, Org, User
from db.models_salon import (
    PAYMENT_METHODS,
    SOURCES,
    SalonAppointment,
    SalonAppointmentEvent,
    SalonPayment,
    SalonService,
)
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
    walk_in: bool = False
    checked_in_at: datetime | None = None
    client_confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    discount_minor: int = 0
    tip_minor: int = 0
    charged_minor: int | None = None
    deposit_minor: int = 0
    hold_until: datetime | None = None
    paid_minor: int = 0  # what was taken for it so far, deposit included, refunds less

    @property
    def price(self) -> str:
        return format_money(self.price_minor, self.currency)

    @property
    def state(self) -> str:
        """What the agenda shows: the status, or ``arrived`` / ``awaiting deposit`` for an open one."""
        if self.status in OPEN and self.checked_in_at is not None:
            return "arrived"
        if self.status == "pending" and self.hold_until is not None:
            return "awaiting deposit"
        return self.status.replace("_", "-")

    @property
    def owed_minor(self) -> int:
        """What the client still owes for a closed appointment (a no-show's fee not yet paid)."""
        return max(0, (self.charged_minor or 0) - self.paid_minor)


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


_paid = (select(func.coalesce(func.sum(SalonPayment.amount_minor), 0))
         .where(SalonPayment.appointment_id == SalonAppointment.id).correlate(SalonAppointment).scalar_subquery())


def _select():
    return (
        select(SalonAppointment, _Pro.name, SalonService.name, Contact.name, Contact.phone, _paid)
        .join(_Pro, _Pro.id == SalonAppointment.professional_id)
        .join(SalonService, SalonService.id == SalonAppointment.service_id)
        .outerjoin(Contact, Contact.id == SalonAppointment.contact_id)
    )


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz)


def _make_view(a: SalonAppointment, tz: ZoneInfo, professional_name: str, service_name: str,
               client_name: str | None, client_phone: str | None, paid_minor: int = 0) -> AppointmentView:
    return AppointmentView(
        a.id, a.org_id, a.professional_id, professional_name, a.service_id, service_name, a.contact_id, client_name,
        client_phone, a.starts_at.astimezone(tz), a.ends_at.astimezone(tz), a.blocked_start.astimezone(tz),
        a.blocked_end.astimezone(tz), a.price_minor, a.currency, a.status, a.source, a.notes, a.cancel_reason,
        a.revision, a.created_at, a.walk_in, _local(a.checked_in_at, tz), _local(a.client_confirmed_at, tz),
        _local(a.closed_at, tz), a.discount_minor, a.tip_minor, a.charged_minor, a.deposit_minor,
        _local(a.hold_until, tz), int(paid_minor or 0))


def _views(session: Session, org: Org, query) -> list[AppointmentView]:
    tz = ZoneInfo(org.timezone)
    return [_make_view(a, tz, *names) for a, *names in session.execute(query)]


def _view(booking: Booking, appointment: SalonAppointment, contact: Contact | None,
          paid_minor: int = 0) -> AppointmentView:
    """The view of an appointment just booked or moved, from what that already loaded."""
    return _make_view(appointment, booking.tz, booking.professional.name, booking.service.name,
                      contact.name if contact else None, contact.phone if contact else None, paid_minor)


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


def _write_or_refuse(session: Session, booking: Booking, start: datetime, now: datetime, *,
                     ignore: int | None = None) -> None:
    """Flush the new or moved appointment; if PostgreSQL refuses it (another transaction
    took the time after our check), roll back and say who has it."""
    try:
        session.flush()
    except DBAPIError as exc:
        if not _is_overlap(exc):
            raise
        session.rollback()
        org_id, professional_id = booking.org.id, booking.professional.id
        booking = Booking.load(session, session.get(Org, org_id), professional_id, booking.service.id,
                               client=booking.client, walk_in=booking.walk_in)
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


def _names(session: Session, appointment: SalonAppointment) -> tuple[str, str]:
    """(service name, professional name) of an appointment as booked."""
    return (session.scalar(select(SalonService.name).where(SalonService.id == appointment.service_id)),
            session.scalar(select(User.name).where(User.id == appointment.professional_id)))


def notice_as_booked(session: Session, org: Org, appointment: SalonAppointment) -> reminders.Notice | None:
    """The notice for an appointment that is not being (re)booked: its professional
    need not be bookable any more (a stylist who left can still have bookings cancelled)."""
    contact = _client_of(session, appointment)
    if contact is None:
        return None
    return reminders.Notice(org, appointment, contact, *_names(session, appointment))


def tell_professional(session: Session, org: Org, appointment: SalonAppointment, kind: str, by: Actor, now: datetime,
                      *, professional_id: int | None = None, old_start: datetime | None = None) -> None:
    """Text the appointment's professional (or ``professional_id``) of it, as her settings say."""
    service_name, _ = _names(session, appointment)
    contact = _client_of(session, appointment)
    reminders.tell_professional(session, org, appointment, professional_id or appointment.professional_id, kind,
                                service_name=service_name, client_name=contact.name if contact else None, by=by,
                                now=now, old_start=old_start)


def book(session: Session, actor: Actor, org_id: int, **booking: Any) -> AppointmentView:
    """:func:`place_booking`, committed; a refusal leaves nothing behind (not even a new client)."""
    try:
        view = place_booking(session, actor, org_id, **booking)
    except OfisiError:
        session.rollback()
        raise
    session.commit()
    return view


def client_for_booking(session: Session, org: Org, actor: Actor, phone: str, name: str = "") -> Contact:
    """The contact with ``phone``, or a new one, in the booking's unit of work (gone if the booking is refused)."""
    e164 = normalize_phone(phone, org.country)
    contact = session.scalar(select(Contact).where(Contact.org_id == org.id, Contact.phone == e164))
    if contact is not None:
        if name.strip() and contact.name in ("", contact.phone):
            contact.name = name.strip()
        return contact
    contact = Contact(org_id=org.id, name=name.strip() or e164, phone=e164)
    session.add(contact)
    session.flush()
    audit.record(session, actor, "contact.add", "contact", contact.id, org_id=org.id,
                 after={"name": contact.name, "phone": contact.phone, "from": "booking"})
    return contact


def place_booking(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    professional_id: int,
    service_id: int,
    start: datetime,
    contact_id: int | None = None,
    client_phone: str | None = None,
    client_name: str = "",
    source: str = "console",
    walk_in: bool = False,
    notes: str = "",
    now: datetime | None = None,
) -> AppointmentView:
    """In the caller's unit of work (a lead's conversion books with it), book a client with a professional
    for a service at ``start`` (aware): ``contact_id``, or ``client_phone`` (and ``client_name``) for a
    client who may be new, whose contact is written only if the booking is.

    The price is the service's price now. Bookings made by staff
    (``source="console"``) are confirmed and are not held to the notice and
    horizon clients are; a ``walk_in`` starts now or up to an hour back and
    is checked in at once. Those from SMS or a form are pending until staff
    confirm them, or, for a service with a deposit, until the deposit is paid
    (an M-Pesa prompt goes to the client's phone and the time is held for the
    salon's hold minutes; :mod:`core.salon.deposits`). All hold the time.
    Refuses with :class:`~core.salon.availability.Unavailable` when the time
    cannot be booked, naming the appointment in the way and the next free slots.
    """
    now = now or utcnow()
    org = require_for_professional(session, actor, org_id, professional_id, "salon.bookings.write")
    if source not in SOURCES:
        raise InvalidInput(f"{source!r} is not a booking source; use one of {', '.join(SOURCES)}.")
    if walk_in and source != "console":
        raise InvalidInput("Only staff book walk-ins.")
    if (contact_id is None) == (client_phone is None):
        raise InvalidInput("Say who the client is: a contact, or a phone number.")
    booking = Booking.load(session, org, professional_id, service_id, client=source != "console", walk_in=walk_in)
    if not booking.service.active:
        raise InvalidInput(f"{booking.service.name} is no longer offered.")
    lock_diary(session, org.id, professional_id)
    starts_at, ends_at, blocked_start, blocked_end = check_bookable(session, booking, start, now)
    contact = (_contact(session, org.id, contact_id) if contact_id is not None
               else client_for_booking(session, org, actor, client_phone, client_name))
    deposit = booking.service.deposit_minor if booking.client else 0
    status = "confirmed" if source == "console" else "pending"
    appointment = SalonAppointment(
        org_id=org.id, professional_id=professional_id, service_id=service_id, contact_id=contact.id,
        starts_at=starts_at, ends_at=ends_at, blocked_start=blocked_start, blocked_end=blocked_end,
        price_minor=booking.service.price_minor, currency=org.currency, status=status, source=source,
        notes=notes.strip(), revision=0, walk_in=walk_in, checked_in_at=now if walk_in else None,
        deposit_minor=deposit, created_by=actor.label, created_at=now, updated_at=now,
    )
    if deposit:
        appointment.hold_until = now + timedelta(minutes=booking.settings.deposit_hold_minutes)
    session.add(appointment)
    _write_or_refuse(session, booking, starts_at, now)
    _event(session, actor, appointment, "booked", now,
           details={"source": source, "status": appointment.status, "walk_in": walk_in, "deposit_minor": deposit})
    if deposit:
        from core.salon.deposits import ask_for_deposit

        ask_for_deposit(session, org, appointment, contact, booking.service.name)
    reminders.on_booked(session, _notice(org, appointment, booking, contact), booking.settings.reminder_minutes, now)
    tell_professional(session, org, appointment, "booked", actor, now)
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
    time, and the client and the professionals are told of the move.
    """
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    _must_be_open(appointment, "moved")
    old_pro, old_start = appointment.professional_id, appointment.starts_at
    new_pro = professional_id or old_pro
    if new_pro != old_pro:
        require_for_professional(session, actor, org.id, new_pro, "salon.bookings.write")
    booking = Booking.load(session, org, new_pro, appointment.service_id, client=False)
    lock_diary(session, org.id, new_pro)
    starts_at, ends_at, blocked_start, blocked_end = check_bookable(session, booking, start, now,
                                                                    ignore=appointment.id)
    if (new_pro, starts_at) == (old_pro, old_start):
        raise InvalidInput(f"Appointment #{appointment.id} is already then, with {booking.professional.name}.")
    appointment.professional_id = new_pro
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    appointment.blocked_start, appointment.blocked_end = blocked_start, blocked_end
    appointment.revision += 1
    appointment.updated_at = now
    _write_or_refuse(session, booking, starts_at, now, ignore=appointment.id)
    details = {"professional_from": old_pro, "professional_to": new_pro} if new_pro != old_pro else None
    _event(session, actor, appointment, "rescheduled", now, from_start=old_start, reason=(reason or "").strip() or None,
           details=details)
    contact = _client_of(session, appointment)
    notice = _notice(org, appointment, booking, contact)
    if notice is not None:
        reminders.on_moved(session, notice, old_start, booking.settings.reminder_minutes, now)
    else:
        reminders.withdraw_reminders(session, org.id, appointment.id, now)
    if new_pro != old_pro:
        tell_professional(session, org, appointment, "cancelled", actor, now, professional_id=old_pro)
        tell_professional(session, org, appointment, "booked", actor, now)
    else:
        tell_professional(session, org, appointment, "moved", actor, now, old_start=old_start)
    session.commit()
    return _view(booking, appointment, contact, _paid_for(session, appointment.id))


def release(session: Session, actor: Actor, org: Org, appointment: SalonAppointment, *, status: str, reason: str,
            now: datetime, client_told: bool = True) -> None:
    """Cancel an open appointment in the caller's unit of work: the time is free at once, its reminders
    are withdrawn, the client (unless ``client_told`` is False: the caller tells them) and the professional
    are told, and a paid deposit is owed back."""
    appointment.status, appointment.cancel_reason, appointment.updated_at = status, reason, now
    appointment.hold_until = None
    _event(session, actor, appointment, "cancelled", now, reason=reason)
    notice = notice_as_booked(session, org, appointment)
    if notice is not None and client_told:
        reminders.on_cancelled(session, notice, now)
    else:
        reminders.withdraw_reminders(session, org.id, appointment.id, now)
    paid = _paid_for(session, appointment.id)
    if paid > 0:
        _payment(session, actor, appointment, "refund", "mpesa", -paid, now)
    tell_professional(session, org, appointment, "cancelled", actor, now)


def cancel(
    session: Session, actor: Actor, org_id: int, appointment_id: int, *, reason: str, now: datetime | None = None
) -> AppointmentView:
    """Cancel with a reason; the time is free at once, reminders are withdrawn, the client and the
    professional are told, and a paid deposit is recorded as owed back."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the appointment is cancelled (for example: client asked, stylist ill).")
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    _must_be_open(appointment, "cancelled")
    release(session, actor, org, appointment, status="cancelled", reason=reason, now=now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def confirm(session: Session, actor: Actor, org_id: int, appointment_id: int, *,
            now: datetime | None = None) -> AppointmentView:
    """Confirm a pending booking (from SMS or a form); the client is told."""
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    if appointment.status != "pending":
        raise InvalidInput(f"Appointment #{appointment.id} is {appointment.status.replace('_', '-')}, not pending.")
    _confirm(session, actor, org, appointment, now)
    notice = notice_as_booked(session, org, appointment)
    if notice is not None:
        reminders.on_confirmed(session, notice, now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def _confirm(session: Session, actor: Actor, org: Org, appointment: SalonAppointment, now: datetime) -> None:
    appointment.status, appointment.updated_at, appointment.hold_until = "confirmed", now, None
    _event(session, actor, appointment, "confirmed", now)


# ---------------------------------------------------------------- the client's answer to the reminder

CLIENT = Actor.system_actor("sms")


def answer_reminder(session: Session, org_id: int, contact_id: int, answer: str, *,
                    now: datetime | None = None) -> str | None:
    """The client replied 1 (confirm) or 2 (cancel) to a reminder: act on their next open appointment
    and return what to text back, or None when they have none (their text is then just a message).
    Cancelling frees the time and tells the professional. In the caller's unit of work."""
    now = now or utcnow()
    org = session.get(Org, org_id)
    appointment = session.scalar(
        select(SalonAppointment).where(SalonAppointment.org_id == org_id, SalonAppointment.contact_id == contact_id,
                                       SalonAppointment.status.in_(OPEN), SalonAppointment.starts_at > now,
                                       SalonAppointment.checked_in_at.is_(None))
        .order_by(SalonAppointment.starts_at).limit(1).with_for_update())
    if appointment is None:
        return None
    notice = notice_as_booked(session, org, appointment)
    if answer == "1":
        appointment.client_confirmed_at = now
        if appointment.status == "pending" and appointment.hold_until is None:
            _confirm(session, CLIENT, org, appointment, now)
        else:
            _event(session, CLIENT, appointment, "client_confirmed", now)
        return notice.confirmed() if notice is not None else None
    release(session, CLIENT, org, appointment, status="cancelled", reason="the client replied 2 to cancel",
            now=now, client_told=False)
    return notice.cancelled() if notice is not None else None


# ---------------------------------------------------------------- closing the visit

def _paid_for(session: Session, appointment_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(SalonPayment.amount_minor), 0))
                              .where(SalonPayment.appointment_id == appointment_id)) or 0)


def _payment(session: Session, actor: Actor | str, appointment: SalonAppointment, kind: str, method: str,
             amount_minor: int, now: datetime, *, reference: str | None = None,
             payment_request_id: int | None = None) -> SalonPayment:
    """One sum taken for (or owed back on) an appointment; money, so audited."""
    if method not in PAYMENT_METHODS:
        raise InvalidInput(f"{method!r} is not a way to pay here; use one of {', '.join(PAYMENT_METHODS)}.")
    label = actor if isinstance(actor, str) else actor.label
    row = SalonPayment(org_id=appointment.org_id, appointment_id=appointment.id, kind=kind, method=method,
                       amount_minor=amount_minor, currency=appointment.currency,
                       reference=(reference or "").strip()[:40] or None, payment_request_id=payment_request_id,
                       recorded_by=label, at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor if isinstance(actor, Actor) else Actor.system_actor(label), "salon.payment",
                 "salon_appointment", appointment.id, org_id=appointment.org_id,
                 after={"kind": kind, "method": method, "amount_minor": amount_minor,
                        "currency": appointment.currency, "reference": row.reference})
    return row


def _amount(value: str | int | None, org: Org, what: str) -> int:
    if value is None or value == "":
        return 0
    minor = parse_money(value, org.currency)
    if minor < 0:
        raise InvalidInput(f"A {what} cannot be negative.")
    return minor


def check_in(session: Session, actor: Actor, org_id: int, appointment_id: int, *,
             now: datetime | None = None) -> AppointmentView:
    """The client has arrived. A pending booking is confirmed by it; its last reminders are withdrawn."""
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    _must_be_open(appointment, "checked in")
    if appointment.checked_in_at is not None:
        raise InvalidInput(f"Appointment #{appointment.id} is already checked in.")
    if appointment.starts_at - now > timedelta(hours=12):
        raise InvalidInput(f"Appointment #{appointment.id} is on "
                           f"{when(appointment.starts_at, ZoneInfo(org.timezone))}; check the client in that day.")
    appointment.checked_in_at, appointment.updated_at, appointment.hold_until = now, now, None
    if appointment.status == "pending":
        appointment.status = "confirmed"
    _event(session, actor, appointment, "checked_in", now)
    reminders.withdraw_reminders(session, org.id, appointment.id, now)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def _close(session: Session, actor: Actor, org_id: int, appointment_id: int, status: str,
           now: datetime) -> tuple[Org, SalonAppointment]:
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    doing = "completed" if status == "completed" else "marked a no-show"
    _must_be_open(appointment, doing)
    if appointment.starts_at > now:
        raise InvalidInput(f"Appointment #{appointment.id} starts {when(appointment.starts_at, ZoneInfo(org.timezone))}; "
                           f"it cannot be {doing} before then.")
    if status == "no_show" and appointment.checked_in_at is not None:
        raise InvalidInput(f"The client of appointment #{appointment.id} checked in; complete it instead.")
    appointment.status, appointment.updated_at, appointment.closed_at = status, now, now
    appointment.hold_until = None
    reminders.withdraw_reminders(session, org.id, appointment.id, now)
    return org, appointment


def complete(session: Session, actor: Actor, org_id: int, appointment_id: int, *, price: str | int | None = None,
             discount: str | int | None = None, tip: str | int | None = None, method: str = "cash",
             reference: str | None = None, now: datetime | None = None) -> AppointmentView:
    """The client came and paid: the price (the booked one unless given), less ``discount``, plus ``tip``,
    less what was paid ahead (the deposit); the balance is taken by ``method`` (cash, mpesa, card; an M-Pesa
    code as ``reference``). A deposit larger than the bill is recorded as owed back. The client's record
    counts the visit and what they spent."""
    now = now or utcnow()
    org, appointment = _close(session, actor, org_id, appointment_id, "completed", now)
    booked_price = appointment.price_minor
    price_minor = booked_price if price is None or price == "" else _amount(price, org, "price")
    discount_minor, tip_minor = _amount(discount, org, "discount"), _amount(tip, org, "tip")
    if discount_minor > price_minor:
        raise InvalidInput(f"The discount ({format_money(discount_minor, org.currency)}) is more than the price "
                           f"({format_money(price_minor, org.currency)}).")
    if method not in PAYMENT_METHODS:
        raise InvalidInput(f"{method!r} is not a way to pay here; use one of {', '.join(PAYMENT_METHODS)}.")
    charged = price_minor - discount_minor + tip_minor
    appointment.price_minor, appointment.discount_minor, appointment.tip_minor = price_minor, discount_minor, tip_minor
    appointment.charged_minor = charged
    balance = charged - _paid_for(session, appointment.id)
    if balance > 0:
        _payment(session, actor, appointment, "visit", method, balance, now, reference=reference)
    elif balance < 0:
        _payment(session, actor, appointment, "refund", "mpesa", balance, now)
    _event(session, actor, appointment, "completed", now, details={
        "price_minor": price_minor, "booked_price_minor": booked_price, "discount_minor": discount_minor,
        "tip_minor": tip_minor, "method": method, "taken_minor": max(balance, 0)})
    if appointment.contact_id is not None:
        record_visit(session, org.id, appointment.contact_id, appointment.starts_at, charged)
    session.commit()
    return _fetch_view(session, org, appointment.id)


def mark_no_show(session: Session, actor: Actor, org_id: int, appointment_id: int, *, method: str | None = None,
                 reference: str | None = None, now: datetime | None = None) -> AppointmentView:
    """The client did not come. The time stays taken: it is in the past. The salon's no-show fee is
    charged; a paid deposit is kept toward it (or owed back, as the salon's settings say). With
    ``method`` the rest of the fee was paid now; otherwise it stays owed on the appointment."""
    now = now or utcnow()
    org, appointment = _close(session, actor, org_id, appointment_id, "no_show", now)
    settings = load_booking_settings(session, org.id)
    paid = _paid_for(session, appointment.id)
    if paid > 0 and not settings.keep_deposit_on_no_show:
        _payment(session, actor, appointment, "refund", "mpesa", -paid, now)
        paid = 0
    appointment.charged_minor = max(settings.no_show_fee_minor, paid)
    owed = appointment.charged_minor - paid
    if owed > 0 and method is not None:
        _payment(session, actor, appointment, "no_show_fee", method, owed, now, reference=reference)
    _event(session, actor, appointment, "no_show", now,
           details={"fee_minor": settings.no_show_fee_minor, "deposit_kept_minor": paid})
    session.commit()
    return _fetch_view(session, org, appointment.id)


def take_payment(session: Session, actor: Actor, org_id: int, appointment_id: int, *, amount: str | int,
                 method: str, reference: str | None = None, now: datetime | None = None) -> AppointmentView:
    """Money paid later for a closed appointment (a no-show's fee, the rest of a bill)."""
    now = now or utcnow()
    org, appointment = _load_for_change(session, actor, org_id, appointment_id)
    if appointment.status not in ("completed", "no_show"):
        raise InvalidInput(f"Appointment #{appointment.id} is {appointment.status.replace('_', '-')}; money is taken "
                           "when it is completed or marked a no-show.")
    amount_minor = _amount(amount, org, "payment")
    owed = (appointment.charged_minor or 0) - _paid_for(session, appointment.id)
    if not 0 < amount_minor <= owed:
        raise InvalidInput(f"Appointment #{appointment.id} has {format_money(max(owed, 0), org.currency)} owing; "
                           f"{format_money(amount_minor, org.currency)} cannot be taken for it.")
    kind = "visit" if appointment.status == "completed" else "no_show_fee"
    _payment(session, actor, appointment, kind, method, amount_minor, now, reference=reference)
    _event(session, actor, appointment, "paid", now, details={"amount_minor": amount_minor, "method": method})
    session.commit()
    return _fetch_view(session, org, appointment.id)


__all__ = [
    "AppointmentView", "EventView", "Unavailable", "answer_reminder", "appointment_history", "appointments_on",
    "book", "cancel", "check_in", "client_appointments", "complete", "confirm", "get_appointment",
    "list_appointments", "mark_no_show", "place_booking", "reschedule", "take_payment",
]
