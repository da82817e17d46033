"""Closing the visit (check-in, completion with the money taken, no-shows with the salon's fee),
the takings that follow, walk-ins, the stylist told, and the salon maintained: a service's
price, Saturday's hours alone, a break outside hours, a block over booked appointments."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from core.actors import Actor
from core.errors import InvalidInput
from core.salon.analytics import salon_analytics
from core.salon.availability import Unavailable
from core.salon.bookings import (
    book,
    cancel,
    check_in,
    complete,
    get_appointment,
    mark_no_show,
    reschedule,
    take_payment,
)
from core.salon.clients import get_client
from core.salon.leads import add_task, list_tasks
from core.salon.schedule import BookedInTheWay, add_time_block, set_weekly_hours, weekly_hours
from core.salon.services import list_services, update_service
from core.salon.settings import update_booking_settings, update_staff_settings
from core.salon.takings import daily_takings
from core.salon.timeline import person_timeline
from core.users import add_user
from db.models import Contact, Message
from db.models_salon import SalonAppointment
from tests.salon_support import SYSTEM, add_client, add_staff, make_salon

UTC = timezone.utc
TUESDAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def salon(session):
    return make_salon(session, minutes=60)


def book_at(session, salon, hh_mm, *, client=None, now=NOW, day=TUESDAY, **kw):
    return book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                contact_id=(client or salon.client).id, start=salon.at(day, hh_mm), now=now, **kw)


def test_a_day_closed_adds_up_in_the_takings_the_client_record_and_the_figures(session, salon):
    update_booking_settings(session, SYSTEM, salon.org.id, no_show_fee="500")
    other = add_client(session, salon, "Achieng Otieno", "0722000111")
    third = add_client(session, salon, "Njeri", "0733000222")
    done = book_at(session, salon, "09:00")
    missed = book_at(session, salon, "11:00", client=other)
    cash = book_at(session, salon, "13:00", client=third)
    arrived = check_in(session, SYSTEM, salon.org.id, done.id, now=salon.at(TUESDAY, "08:55"))
    assert (arrived.state, arrived.checked_in_at) == ("arrived", salon.at(TUESDAY, "08:55"))
    with pytest.raises(InvalidInput, match="checked in; complete it instead"):
        mark_no_show(session, SYSTEM, salon.org.id, done.id, now=salon.at(TUESDAY, "09:30"))
    paid = complete(session, SYSTEM, salon.org.id, done.id, discount="200", tip="100", method="mpesa",
                    reference="SKX1Y2Z3", now=salon.at(TUESDAY, "10:05"))
    assert (paid.status, paid.charged_minor, paid.paid_minor, paid.owed_minor) == ("completed", 140_000, 140_000, 0)
    no_show = mark_no_show(session, SYSTEM, salon.org.id, missed.id, now=salon.at(TUESDAY, "11:30"))
    assert (no_show.state, no_show.charged_minor, no_show.owed_minor) == ("no-show", 50_000, 50_000)
    with pytest.raises(InvalidInput, match="KES 500 owing"):
        take_payment(session, SYSTEM, salon.org.id, missed.id, amount="600", method="cash")
    take_payment(session, SYSTEM, salon.org.id, missed.id, amount="500", method="cash",
                 now=salon.at(TUESDAY, "15:00"))
    complete(session, SYSTEM, salon.org.id, cash.id, price="1800", now=salon.at(TUESDAY, "14:10"))

    takings = daily_takings(session, SYSTEM, salon.org.id, TUESDAY)
    completed = session.scalars(select(SalonAppointment).where(SalonAppointment.org_id == salon.org.id,
                                                               SalonAppointment.status == "completed")).all()
    completed_paid = sum(get_appointment(session, SYSTEM, salon.org.id, a.id).paid_minor for a in completed)
    assert completed_paid == 140_000 + 180_000
    assert takings.total_minor == completed_paid + 50_000  # and the no-show's fee, paid the same day
    assert takings.by("method") == {"mpesa": 140_000, "cash": 230_000}
    assert takings.by("service") == {"Braids": 370_000}
    assert takings.by("professional") == {"Aisha Mohamed": 370_000}
    assert takings.tips_minor == 10_000
    assert takings.lines[0].reference == "SKX1Y2Z3"

    record = get_client(session, SYSTEM, salon.org.id, salon.client.id)
    assert (record.visit_count, record.lifetime_spend_minor, record.last_visit_at) == (
        1, 140_000, salon.at(TUESDAY, "09:00"))
    missed_record = get_client(session, SYSTEM, salon.org.id, other.id)
    assert (missed_record.visit_count, missed_record.no_shows, missed_record.owed_minor) == (0, 1, 0)

    figures = salon_analytics(session, SYSTEM, salon.org.id, weeks=2, now=salon.at(TUESDAY, "18:00"))
    assert figures.weeks[-1].revenue_minor == 130_000 + 180_000 + 50_000  # after discounts, before tips
    assert figures.no_show_rate == pytest.approx(1 / 3)


def test_a_deposit_counts_toward_the_bill_and_is_kept_on_a_no_show(session, salon):
    from core.salon.bookings import _payment

    update_booking_settings(session, SYSTEM, salon.org.id, no_show_fee="300")
    visit, missed = book_at(session, salon, "09:00"), book_at(session, salon, "12:00")
    for appointment_id in (visit.id, missed.id):
        row = session.get(SalonAppointment, appointment_id)
        _payment(session, SYSTEM, row, "deposit", "mpesa", 50_000, NOW, reference="SKDEP")
    session.commit()
    paid = complete(session, SYSTEM, salon.org.id, visit.id, method="cash", now=salon.at(TUESDAY, "10:00"))
    assert (paid.charged_minor, paid.paid_minor) == (150_000, 150_000)
    kept = mark_no_show(session, SYSTEM, salon.org.id, missed.id, now=salon.at(TUESDAY, "12:30"))
    assert (kept.charged_minor, kept.paid_minor, kept.owed_minor) == (50_000, 50_000, 0)


def test_walk_ins_are_staff_bookings_now_or_an_hour_back(session, salon):
    now = salon.at(TUESDAY, "10:20")
    walk_in = book_at(session, salon, "10:00", now=now, walk_in=True)
    assert (walk_in.walk_in, walk_in.state, walk_in.checked_in_at) == (True, "arrived", now)
    assert session.scalars(select(Message.idempotency_key).where(Message.org_id == salon.org.id)).all() == []
    with pytest.raises(Unavailable, match="more than an hour ago"):
        book_at(session, salon, "09:00", now=now, walk_in=True, client=add_client(session, salon, "B", "0722000112"))
    with pytest.raises(Unavailable, match="a walk-in starts now or in the past hour"):
        book_at(session, salon, "12:00", now=now, walk_in=True)
    # A client asking by SMS still gives the salon its notice.
    with pytest.raises(Unavailable, match="too soon"):
        book_at(session, salon, "11:00", now=now, source="sms", client=add_client(session, salon, "C", "0722000113"))
    with pytest.raises(InvalidInput, match="Only staff book walk-ins"):
        book_at(session, salon, "11:00", now=now, source="sms", walk_in=True)


def test_a_refused_booking_does_not_create_the_client(session, salon):
    book_at(session, salon, "10:00")
    with pytest.raises(Unavailable):
        book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
             client_phone="0799000111", client_name="New Person", start=salon.at(TUESDAY, "10:30"), now=NOW)
    assert session.scalar(select(Contact.id).where(Contact.phone == "+254799000111")) is None
    made = book(session, SYSTEM, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
                client_phone="0799000111", client_name="New Person", start=salon.at(TUESDAY, "12:00"), now=NOW)
    assert made.client_name == "New Person"


def test_the_stylist_is_texted_of_her_bookings_as_she_chooses(session, salon):
    beth = add_user(session, SYSTEM, f"beth.{salon.org.slug}@example.com", org_id=salon.org.id, role="professional",
                    name="Beth Wanjiru", phone="0744000555")
    add_user(session, SYSTEM, salon.pro.email, org_id=salon.org.id, role="professional", phone="0744000444")
    appointment = book_at(session, salon, "14:00")
    reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(TUESDAY, "15:00"), now=NOW)
    reschedule(session, SYSTEM, salon.org.id, appointment.id, start=salon.at(TUESDAY, "15:00"),
               professional_id=beth.id, now=NOW)
    update_staff_settings(session, SYSTEM, salon.org.id, beth.id, notify=["booked", "moved"])
    cancel(session, SYSTEM, salon.org.id, appointment.id, reason="client ill", now=NOW)

    def heard(phone):
        return [m.body.split(": ", 1)[1] for m in session.scalars(
            select(Message).where(Message.to_address == phone).order_by(Message.id))]

    assert heard("+254744000444") == ["New booking: Braids for Wanjiku on Tue 3 Mar 14:00.",
                                      "Moved: Braids for Wanjiku from Tue 3 Mar 14:00 to Tue 3 Mar 15:00.",
                                      "Cancelled: Braids for Wanjiku on Tue 3 Mar 15:00."]
    assert heard("+254744000555") == ["New booking: Braids for Wanjiku on Tue 3 Mar 15:00."]  # not told of the cancel
    client_heard = heard("+254712345678")
    assert "Wanjiku, your Braids with Beth on Tue 3 Mar at 15:00 is now with Beth." in client_heard
    assert not any("from Tue 3 Mar 15:00 to Tue 3 Mar 15:00" in text for text in client_heard)
    # She is not texted of what she did herself.
    own = Actor.staff(salon.pro.id, salon.pro.email)
    book(session, own, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
         contact_id=salon.client.id, start=salon.at(TUESDAY, "10:00"), now=NOW)
    assert len(heard("+254744000444")) == 3


def test_services_hours_and_blocks_can_be_maintained(session, salon):
    booked = book_at(session, salon, "10:00")
    update_service(session, SYSTEM, salon.org.id, salon.service.id, price="2000")
    assert get_appointment(session, SYSTEM, salon.org.id, booked.id).price_minor == 150_000
    update_service(session, SYSTEM, salon.org.id, salon.service.id, active=False)
    assert list_services(session, SYSTEM, salon.org.id) == []
    update_service(session, SYSTEM, salon.org.id, salon.service.id, active=True)

    set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id, work={5: [(time(10), time(14))]},
                     only_these_days=True)
    week = weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id)
    assert week.work[5] == [(time(10), time(14))]
    assert all(week.work[d] == [(time(9), time(18))] for d in range(5)) and 6 not in week.work
    with pytest.raises(InvalidInput, match=r"break 19:00–20:00 on Mon is outside that day's working hours"):
        set_weekly_hours(session, SYSTEM, salon.org.id, salon.pro.id, work={0: [(time(9), time(18))]},
                         breaks={0: [(time(19), time(20))]}, only_these_days=True)

    with pytest.raises(BookedInTheWay, match=f"1 appointment is booked then: #{booked.id} Tue 3 Mar 10:00 "
                                             "Wanjiku Kamau \\(Braids\\)") as refused:
        add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=salon.at(TUESDAY, "09:00"),
                       end=salon.at(TUESDAY, "18:00"), now=NOW)
    assert [a[0] for a in refused.value.appointments] == [booked.id]
    add_time_block(session, SYSTEM, salon.org.id, salon.pro.id, start=salon.at(TUESDAY, "09:00"),
                   end=salon.at(TUESDAY, "18:00"), booked="cancel", note="sick", now=NOW)
    gone = get_appointment(session, SYSTEM, salon.org.id, booked.id)
    assert (gone.status, gone.cancel_reason) == ("cancelled", "the professional is away (leave: sick)")


def test_tasks_have_an_assignee_and_a_due_date_and_a_person_a_timeline(session, salon):
    lucy = add_staff(session, salon, "receptionist", "Lucy")
    now = salon.at(TUESDAY, "12:00")
    for title, due in (("late", "09:00"), ("today", "16:00"), ("tomorrow", "10:00")):
        day = TUESDAY + timedelta(days=1) if title == "tomorrow" else TUESDAY
        add_task(session, SYSTEM, salon.org.id, title=title, due_at=salon.at(day, due),
                 assignee_id=lucy.user_id if title != "late" else None)
    assert [t.title for t in list_tasks(session, SYSTEM, salon.org.id, due="overdue", now=now)] == ["late"]
    assert [t.title for t in list_tasks(session, SYSTEM, salon.org.id, due="today", now=now)] == ["today"]
    assert [t.title for t in list_tasks(session, SYSTEM, salon.org.id, due="upcoming", now=now)] == ["tomorrow"]
    assert [t.assignee_name for t in list_tasks(session, SYSTEM, salon.org.id, assignee_id=lucy.user_id)] == [
        "Lucy", "Lucy"]

    from core.salon.conversations import record_inbound

    record_inbound(session, salon.org.id, salon.client.phone, "Can I come at 10?", now=NOW)
    appointment = book_at(session, salon, "10:00", now=NOW + timedelta(minutes=5))
    complete(session, SYSTEM, salon.org.id, appointment.id, now=salon.at(TUESDAY, "11:00"))
    entries = person_timeline(session, SYSTEM, salon.org.id, "0712 345 678")
    assert [(e.kind, e.what) for e in entries] == [("visit", "completed"), ("visit", "booked"), ("message", "in")]
