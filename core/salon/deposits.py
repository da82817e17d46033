"""Deposits: a client booking by SMS or a form pays the service's deposit by M-Pesa.

The booking is pending with ``hold_until`` set: :func:`ask_for_deposit` adds
the STK push (``core.payments.request_payment``, purpose ``salon.deposit``,
the appointment as its subject) and the due job that frees the time at
``hold_until``, both in the booking's transaction, and wakes this process's
payment sender once it commits. When Daraja reports the payment, the hook
records the deposit (keyed by the payment request, so a replayed callback
records nothing more), confirms the booking and tells the client. If the
hold ran out first, the time was freed and the late deposit is recorded as
owed back. The deposit counts toward the bill at completion, and a no-show
keeps it as the salon's settings say (:mod:`core.salon.bookings`).
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core import jobs
from core.actors import Actor
from core.payments import PaymentView, on_success, request_payment, wake_payment_sender
from core.salon import reminders
from core.salon.bookings import _event, _payment, _confirm, notice_as_booked, release
from db.models import Contact, Org
from db.models_salon import SalonAppointment, SalonPayment
from db.types import utcnow

DEPOSIT = "salon.deposit"
HOLD_JOB = "salon.deposit_hold"
MPESA = Actor.system_actor("mpesa")
HOLD = Actor.system_actor("salon:deposit-hold")


def ask_for_deposit(session: Session, org: Org, appointment: SalonAppointment, contact: Contact,
                    service_name: str) -> int:
    """Queue the M-Pesa prompt for the appointment's deposit and the job that frees the time if it
    is not paid by ``hold_until``, in the booking's unit of work; returns the payment request's id."""
    request_id = request_payment(
        session, org.id, purpose=DEPOSIT, subject_id=appointment.id, phone=contact.phone,
        amount_minor=appointment.deposit_minor, account_reference=f"BK{appointment.id}"[:12],
        description="Deposit", payload={"service": service_name[:40]},
        idempotency_key=f"salon:deposit:{appointment.id}")
    jobs.schedule(session, HOLD_JOB, f"salon:deposit-hold:{appointment.id}", appointment.hold_until,
                  org_id=org.id, payload={"appointment_id": appointment.id})
    # The push leaves as soon as the booking commits (the sender of `ofisi serve`; others poll).
    event.listen(session, "after_commit", lambda _s: wake_payment_sender(), once=True)
    return request_id


def _locked(session: Session, org_id: int, appointment_id: int | None) -> SalonAppointment | None:
    return session.scalar(select(SalonAppointment).where(SalonAppointment.org_id == org_id,
                                                         SalonAppointment.id == appointment_id).with_for_update())


@on_success(DEPOSIT)
def _deposit_paid(session: Session, payment: PaymentView) -> None:
    appointment = _locked(session, payment.org_id, payment.subject_id)
    if appointment is None:
        return  # the appointment was deleted with its salon; nothing to credit
    if session.scalar(select(SalonPayment.id).where(SalonPayment.payment_request_id == payment.id)) is not None:
        return
    now = utcnow()
    org = session.get(Org, appointment.org_id)
    _payment(session, MPESA, appointment, "deposit", "mpesa", payment.amount_minor, now,
             reference=payment.receipt_number, payment_request_id=payment.id)
    if appointment.status == "pending" and appointment.hold_until is not None:
        _confirm(session, MPESA, org, appointment, now)
        notice = notice_as_booked(session, org, appointment)
        if notice is not None:
            reminders.on_deposit_paid(session, notice, payment.amount_minor, now)
    elif appointment.status == "cancelled":
        # Paid after the time was freed: the money goes back to the client.
        _payment(session, MPESA, appointment, "refund", "mpesa", -payment.amount_minor, now)
        _event(session, MPESA, appointment, "deposit_late", now, details={"amount_minor": payment.amount_minor})
    session.commit()


@jobs.handler(HOLD_JOB)
def _hold_ran_out(session: Session, job: jobs.DueJob) -> None:
    """Free the time of a booking whose deposit did not come by ``hold_until``."""
    appointment = _locked(session, job.org_id, job.payload.get("appointment_id"))
    if appointment is None or appointment.status != "pending" or appointment.hold_until is None:
        return  # paid, confirmed, checked in or cancelled meanwhile
    org = session.get(Org, appointment.org_id)
    now = utcnow()
    release(session, HOLD, org, appointment, status="cancelled", client_told=False, now=now,
            reason="the deposit was not paid in time")
    notice = notice_as_booked(session, org, appointment)
    if notice is not None:
        reminders.on_released(session, notice, now)
