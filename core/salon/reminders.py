"""What the client and the professional hear about an appointment, all through the outbox.

A booking writes its confirmation (now) and its reminders (at the salon's
reminder times before the start, 24 h and 2 h unless changed) to the outbox
in the booking's own transaction, each with ``send_at`` and an idempotency
key; ``ofisi send due`` sends each when it falls due. Every message goes by
SMS, and by email too when the contact has an address.

Moving or cancelling an appointment (or closing it as completed or no-show)
withdraws its reminders in the same transaction: rows still ``queued``, or
``claimed`` by a sender that has not started the call, become ``cancelled``.
A sender moves a claimed row to ``sending`` only if it is still claimed, so
a withdrawn reminder is never sent; one already on the wire cannot be called
back. A moved appointment gets new reminders under its next ``revision``.

The earliest reminder (24 hours before, by default) asks the client to reply
1 to confirm or 2 to cancel (:mod:`core.salon.sms` reads the answer).

The professional is texted of a new, moved or cancelled booking of hers when
she has a phone and has not turned that kind off (``core.salon.settings``),
unless she made the change herself. A move to another professional is a
cancellation for one and a new booking for the other; the client hears
"now with Beth", never "moved from 14:00 to 14:00".

Keys: ``salon:appt:<id>:r<revision>:<what>:<channel>``, for reminders
``salon:appt:<id>:remind:r<revision>:<minutes>:<channel>``, so one prefix
finds every reminder an appointment ever had, and for the professional
``salon:appt:<id>:r<revision>:pro<user id>:<kind>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.actors import Actor
from core.changes import mark_changed
from core.money import format_money
from core.outbox import enqueue
from core.salon.common import clock, day_label, when
from core.salon.settings import notify_on
from db.models import Contact, Message, Org, User
from db.models_salon import SalonAppointment

WITHDRAWABLE = ("queued", "claimed")


def _reminder_prefix(appointment_id: int) -> str:
    return f"salon:appt:{appointment_id}:remind:"


class Notice:
    """The words of one kind of message about one appointment."""

    def __init__(self, org: Org, appointment: SalonAppointment, contact: Contact, service_name: str,
                 professional_name: str) -> None:
        self.org, self.appointment, self.contact = org, appointment, contact
        self.service, self.pro = service_name, professional_name.split()[0] if professional_name.strip() else ""
        self.tz = ZoneInfo(org.timezone)

    @property
    def greeting(self) -> str:
        first = self.contact.name.split()[0] if self.contact.name.strip() else ""
        return f"{self.org.name}: " + (f"{first}, " if first and not first.startswith("+") else "")

    def what(self) -> str:
        start = self.appointment.starts_at
        return f"{self.service} with {self.pro} on {day_label(start, self.tz)} at {clock(start, self.tz)}"

    def booked(self) -> str:
        a = self.appointment
        if a.status == "pending" and a.hold_until is not None:
            return (f"{self.greeting}we are holding {self.what()} for you. Pay the "
                    f"{format_money(a.deposit_minor, a.currency)} deposit on the M-Pesa prompt by "
                    f"{clock(a.hold_until, self.tz)} to keep it.")
        if a.status == "pending":
            return f"{self.greeting}we have your request for {self.what()}. We will confirm it shortly."
        return f"{self.greeting}you are booked for {self.what()}. See you then!"

    def confirmed(self) -> str:
        return f"{self.greeting}your {self.what()} is confirmed. See you then!"

    def deposit_paid(self, amount_minor: int) -> str:
        return (f"{self.greeting}we received your {format_money(amount_minor, self.appointment.currency)} deposit; "
                f"your {self.what()} is confirmed. See you then!")

    def released(self) -> str:
        return (f"{self.greeting}the time we held for {self.what()} is free again: the deposit did not reach us in "
                "time. Reply to book again.")

    def reminder(self, ask: bool = False) -> str:
        # The date, not "tomorrow": a sender that runs late must not make the words wrong.
        text = f"{self.greeting}a reminder of your {self.what()}."
        return text + " Reply 1 to confirm, 2 to cancel." if ask else text

    def moved(self, old_start: datetime) -> str:
        if old_start == self.appointment.starts_at:
            return f"{self.greeting}your {self.what()} is now with {self.pro}."
        return (f"{self.greeting}your {self.service} with {self.pro} has moved from {when(old_start, self.tz)} "
                f"to {when(self.appointment.starts_at, self.tz)}.")

    def cancelled(self) -> str:
        return f"{self.greeting}your {self.what()} is cancelled. Reply to book another time."


def _send(session: Session, notice: Notice, key: str, body: str, send_at: datetime, purpose: str) -> None:
    """One message per channel the contact can be reached on: a notice about their booking
    (transactional) or a reminder (service)."""
    contact, org_id = notice.contact, notice.org.id
    enqueue(session, org_id, to=contact.phone, body=body, channel="sms", send_at=send_at, purpose=purpose,
            idempotency_key=f"{key}:sms", contact_id=contact.id)
    if contact.email:
        enqueue(session, org_id, to=contact.email, body=body, channel="email", send_at=send_at, purpose=purpose,
                subject=f"Your appointment at {notice.org.name}", idempotency_key=f"{key}:email",
                contact_id=contact.id)


def _key(appointment: SalonAppointment, what: str) -> str:
    return f"salon:appt:{appointment.id}:r{appointment.revision}:{what}"


def schedule_reminders(session: Session, notice: Notice, reminder_minutes: tuple[int, ...], now: datetime) -> int:
    """Queue the appointment's reminders that are still ahead; returns how many times were queued.
    The earliest asks for a reply (1 confirm, 2 cancel)."""
    appointment = notice.appointment
    asking = max(reminder_minutes) if reminder_minutes else None
    queued = 0
    for minutes in reminder_minutes:
        send_at = appointment.starts_at - timedelta(minutes=minutes)
        if send_at <= now:
            continue  # booked closer than this reminder: the confirmation says it all
        _send(session, notice, f"{_reminder_prefix(appointment.id)}r{appointment.revision}:{minutes}",
              notice.reminder(ask=minutes == asking), send_at, "service")
        queued += 1
    return queued


def withdraw_reminders(session: Session, org_id: int, appointment_id: int, now: datetime) -> int:
    """Cancel the appointment's reminders that have not gone out; returns how many messages."""
    withdrawn = session.execute(
        update(Message)
        .where(Message.org_id == org_id, Message.idempotency_key.like(_reminder_prefix(appointment_id) + "%"),
               Message.status.in_(WITHDRAWABLE))
        .values(status="cancelled", claimed_by=None, updated_at=now,
                last_error="withdrawn: the appointment was moved, cancelled or closed")
        .execution_options(synchronize_session=False)
    ).rowcount
    if withdrawn:
        mark_changed(session, org_id)
    return withdrawn


def on_booked(session: Session, notice: Notice, reminder_minutes: tuple[int, ...], now: datetime) -> None:
    if not notice.appointment.walk_in:  # a walk-in is in the chair: no booking message, no reminders
        _send(session, notice, _key(notice.appointment, "booked"), notice.booked(), now, "transactional")
        schedule_reminders(session, notice, reminder_minutes, now)


def on_confirmed(session: Session, notice: Notice, now: datetime) -> None:
    _send(session, notice, _key(notice.appointment, "confirmed"), notice.confirmed(), now, "transactional")


def on_moved(session: Session, notice: Notice, old_start: datetime, reminder_minutes: tuple[int, ...],
             now: datetime) -> None:
    """After ``revision`` was raised: the old reminders go, the notice and the new reminders come."""
    withdraw_reminders(session, notice.org.id, notice.appointment.id, now)
    _send(session, notice, _key(notice.appointment, "moved"), notice.moved(old_start), now, "transactional")
    schedule_reminders(session, notice, reminder_minutes, now)


def on_cancelled(session: Session, notice: Notice, now: datetime) -> None:
    withdraw_reminders(session, notice.org.id, notice.appointment.id, now)
    _send(session, notice, _key(notice.appointment, "cancelled"), notice.cancelled(), now, "transactional")


def on_deposit_paid(session: Session, notice: Notice, amount_minor: int, now: datetime) -> None:
    _send(session, notice, _key(notice.appointment, "deposit"), notice.deposit_paid(amount_minor), now,
          "transactional")


def on_released(session: Session, notice: Notice, now: datetime) -> None:
    withdraw_reminders(session, notice.org.id, notice.appointment.id, now)
    _send(session, notice, _key(notice.appointment, "released"), notice.released(), now, "transactional")


# ---------------------------------------------------------------- the professional

PRO_WORDS = {"booked": "New booking", "moved": "Moved", "cancelled": "Cancelled"}


def tell_professional(session: Session, org: Org, appointment: SalonAppointment, professional_id: int, kind: str,
                      *, service_name: str, client_name: str | None, by: Actor, now: datetime,
                      old_start: datetime | None = None) -> int | None:
    """Text the professional of a booking of hers (``booked``, ``moved``, ``cancelled``) when she has a
    phone, wants to hear of it, and did not make the change herself; returns the message id, if any."""
    if by.user_id == professional_id or kind not in notify_on(session, org.id, professional_id):
        return None
    phone = session.scalar(select(User.phone).where(User.id == professional_id))
    if not phone:
        return None
    tz = ZoneInfo(org.timezone)
    client = (client_name or "a client").split()[0] if (client_name or "").strip() else "a client"
    start = appointment.starts_at
    if kind == "moved" and old_start is not None and old_start != start:
        what = f"{service_name} for {client} from {when(old_start, tz)} to {when(start, tz)}"
    else:
        what = f"{service_name} for {client} on {when(start, tz)}"
    body = f"{org.name}: {PRO_WORDS[kind]}: {what}."
    return enqueue(session, org.id, to=phone, body=body, channel="sms", purpose="service",
                   idempotency_key=f"{_key(appointment, f'pro{professional_id}')}:{kind}")
