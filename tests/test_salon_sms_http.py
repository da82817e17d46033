"""The client's phone over real HTTP (`ofisi serve`'s app under uvicorn), with fake Africa's
Talking and Daraja servers: a reply of 1 confirms, 2 cancels and texts the stylist; a booking
by SMS for a service with a deposit sends the M-Pesa prompt, and is confirmed when paid within
the hold, or freed when not."""

from __future__ import annotations

import itertools
from datetime import time, timedelta

import httpx
from sqlalchemy import select

from config import load_settings
from core import jobs, outbox
from core.orgs import set_sms_number
from core.salon.availability import free_slots_on
from core.salon.bookings import book
from core.salon.schedule import set_weekly_hours
from core.salon.services import update_service
from core.salon.settings import update_booking_settings
from core.users import add_user
from db.models_salon import SalonAppointment, SalonPayment
from db.types import utcnow
from tests.fakes import wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)
from tests.fakes.daraja import PUSH_PATH, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.salon_support import SYSTEM, add_client, make_salon

TOKEN = "cb-token"
_ids = itertools.count(1)


def text(base: str, sender: str, words: str) -> str:
    """Africa's Talking posting an inbound SMS to the gateway."""
    form = {"from": sender, "to": "22384", "text": words, "date": "2026-11-21 10:00:00",
            "id": f"ATXid_salon_{next(_ids)}", "linkId": "link-1"}
    answer = httpx.post(f"{base}/sms/inbound?token={TOKEN}", data=form, timeout=10)
    assert answer.status_code == 200
    return answer.text


def appointment(db, appointment_id: int) -> SalonAppointment:
    with db.session() as s:
        return s.get(SalonAppointment, appointment_id)


def test_the_clients_phone_confirms_cancels_and_pays_deposits(committed_db, fake_at, fake_daraja):
    day = (utcnow() + timedelta(days=3)).date()
    with committed_db.session() as s:
        salon = make_salon(s)
        set_sms_number(s, SYSTEM, salon.org.id, "22384")  # the salon's own number takes strangers' texts
        add_user(s, SYSTEM, salon.pro.email, org_id=salon.org.id, role="professional", phone="0744000444")
        set_weekly_hours(s, SYSTEM, salon.org.id, salon.pro.id, work={d: [(time(0), time(0))] for d in range(7)})
        achieng = add_client(s, salon, "Achieng Otieno", "0722000111")
        kept = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                    contact_id=salon.client.id, start=salon.at(day, "08:00"))
        dropped = book(s, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                       contact_id=achieng.id, start=salon.at(day, "14:00"))
        update_service(s, SYSTEM, salon.org.id, salon.service.id, deposit="500")
        update_booking_settings(s, SYSTEM, salon.org.id, deposit_hold_minutes=30)
    settings = load_settings({**fake_daraja.env(callback_token=TOKEN)})
    with running_gateway(committed_db, settings) as base:
        # 1 confirms Wanjiku's appointment; 2 cancels Achieng's and frees the time.
        assert text(base, "+254712345678", "1") == "handled"
        assert appointment(committed_db, kept.id).client_confirmed_at is not None
        assert text(base, "0722000111", "2") == "handled"
        assert (appointment(committed_db, dropped.id).status,
                appointment(committed_db, dropped.id).cancel_reason) == ("cancelled", "the client replied 2 to cancel")
        # Anything else waits in the inbox.
        assert text(base, "+254712345678", "Can I bring my sister?") == "handled"

        # A booking by SMS for a service with a deposit: the prompt leaves, the payment confirms it.
        assert text(base, "0799000111", f"BOOK braids {day.isoformat()} 10:00") == "handled"
        with committed_db.session() as s:
            paid_one = s.scalar(select(SalonAppointment).where(SalonAppointment.starts_at == salon.at(day, "10:00")))
            assert (paid_one.status, paid_one.source, paid_one.deposit_minor) == ("pending", "sms", 50_000)
        wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=10, what="the deposit's M-Pesa prompt")
        push = fake_daraja.received(PUSH_PATH)[0].body
        assert (push["Amount"], push["PhoneNumber"], push["AccountReference"]) == (
            500, "254799000111", f"BK{paid_one.id}")
        checkout = wait_until(lambda: list(fake_daraja.pushes), timeout=5, what="the push accepted")[0]
        wait_until(lambda: _awaiting(committed_db), timeout=5, what="the request awaiting its result")
        fake_daraja.complete(checkout, 0, url=f"{base}/mpesa/stk/callback?token={TOKEN}")
        confirmed = appointment(committed_db, paid_one.id)
        assert (confirmed.status, confirmed.hold_until) == ("confirmed", None)

        # Another, not paid: when the hold runs out the time is free again.
        assert text(base, "0799000222", f"BOOK braids {day.isoformat()} 12:00") == "handled"
        with committed_db.session() as s:
            unpaid = s.scalar(select(SalonAppointment).where(SalonAppointment.starts_at == salon.at(day, "12:00")))
            hold_until = unpaid.hold_until
    jobs.run_due(committed_db, now=hold_until - timedelta(minutes=1))
    assert appointment(committed_db, unpaid.id).status == "pending"
    jobs.run_due(committed_db, now=hold_until + timedelta(minutes=1))
    released = appointment(committed_db, unpaid.id)
    assert (released.status, released.cancel_reason) == ("cancelled", "the deposit was not paid in time")
    with committed_db.session() as s:
        assert salon.at(day, "12:00") in free_slots_on(s, SYSTEM, salon.org.id, salon.pro.id, salon.service.id, day)
        deposits = s.execute(select(SalonPayment.appointment_id, SalonPayment.kind, SalonPayment.amount_minor)).all()
        assert deposits == [(paid_one.id, "deposit", 50_000)]

    outbox.send_due(committed_db, {"sms": fake_at.provider()})

    def heard(phone: str) -> list[str]:
        return [r.message.split(": ", 1)[1] for r in fake_at.received_for(phone)]

    assert "Cancelled: Braids for Achieng on" in " ".join(heard("+254744000444"))
    assert any(m.endswith("is confirmed. See you then!") for m in heard("+254712345678"))
    assert any(m.endswith("is cancelled. Reply to book another time.") for m in heard("+254722000111"))
    assert any("we received your KES 500 deposit" in m for m in heard("+254799000111"))
    assert any("the deposit did not reach us in time" in m for m in heard("+254799000222"))


def _awaiting(db) -> bool:
    from db.models_payments import PaymentRequest

    with db.session() as s:
        return s.scalar(select(PaymentRequest.status).order_by(PaymentRequest.id).limit(1)) == "awaiting"
