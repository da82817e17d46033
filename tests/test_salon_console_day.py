"""Closing the day's visits from the salon's console agenda with Pilot: a
receptionist checks a client in, completes the visit paid by M-Pesa, marks
another client a no-show, and the figures and takings read back from the core
show that revenue and no-show rate; the calendar books a client for next
Tuesday from a professional's week view, and a walk-in now."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, RadioButton

from console.app import OfisiApp
from console.salon import SalonHomeScreen
from console.salon.calendar import BookDialog, CalendarScreen
from console.salon.closing import CompleteDialog
from console.widgets.confirm import Confirm
from core.contacts import add_contact
from core.salon.analytics import salon_analytics
from core.salon.bookings import book, get_appointment
from core.salon.schedule import set_weekly_hours
from core.salon.services import add_service
from core.salon.settings import update_booking_settings
from core.salon.takings import daily_takings
from core.users import add_user
from db.models import Contact
from db.models_salon import SalonAppointment
from tests.salon_support import SYSTEM
from tests.test_console import PASSWORD, home, sign_in, until

ALL_DAY = [(time(0, 0), time(0, 0))]


@pytest.fixture
def day(committed_db, backend, make_org, cli_actor):
    """A salon with a receptionist and two professionals, each with a client booked at midnight today."""
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on both backends; the core tests cover PostgreSQL")
    with committed_db.session() as s:
        org = make_org(s, "salon", slug="kinyozi", name="Kinyozi Bora")
        add_user(s, cli_actor, "desk@example.com", org_id=org.id, role="owner", name="Desk", password=PASSWORD)
        amina = add_user(s, cli_actor, "amina@example.com", org_id=org.id, role="professional", name="Amina")
        beth = add_user(s, cli_actor, "beth@example.com", org_id=org.id, role="professional", name="Beth")
        for pro in (amina, beth):
            set_weekly_hours(s, cli_actor, org.id, pro.id, work={d: ALL_DAY for d in range(7)})
        update_booking_settings(s, cli_actor, org.id, no_show_fee="300")
        braids = add_service(s, cli_actor, org.id, name="Braids", minutes=60, price="1500")
        midnight = datetime.combine(datetime.now(org.tz).date(), time(0, 0), tzinfo=org.tz)
        ids = {}
        for pro, name, phone in ((amina, "Akinyi Otieno", "0712 345 678"), (beth, "Baraka", "0712 000 111")):
            client = add_contact(s, cli_actor, org.id, name=name, phone=phone)
            ids[name] = book(s, cli_actor, org.id, professional_id=pro.id, service_id=braids.id,
                             contact_id=client.id, start=midnight, now=midnight - timedelta(days=1)).id
    return org, ids


async def open_calendar(pilot) -> CalendarScreen:
    """Signed in at the desk, c from home: the calendar, read."""
    await sign_in(pilot, "desk@example.com")
    await home(pilot)
    await pilot.press("c")
    await until(pilot, lambda: isinstance(pilot.app.screen, CalendarScreen) and pilot.app.screen.data is not None,
                what="the calendar")
    return pilot.app.screen


def agenda_row(screen, client: str) -> int:
    table = screen.query_one("#agenda", DataTable)
    return next(i for i in range(table.row_count) if table.get_row_at(i)[2] == client)


async def test_check_in_complete_by_mpesa_and_no_show(committed_db, day):
    org, ids = day

    def appointment(name: str):
        with committed_db.session() as s:
            return get_appointment(s, SYSTEM, org.id, ids[name])

    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "desk@example.com")
        screen = await home(pilot)
        assert isinstance(screen, SalonHomeScreen)
        await until(pilot, lambda: screen.query_one("#agenda", DataTable).row_count == 2, what="the agenda")
        agenda = screen.query_one("#agenda", DataTable)
        agenda.focus()

        # i: Akinyi has arrived.
        agenda.move_cursor(row=agenda_row(screen, "Akinyi Otieno"))
        await pilot.press("i")
        await until(pilot, lambda: appointment("Akinyi Otieno").checked_in_at is not None, what="the check-in")

        # d: done, 1,500 less 200 discount plus 100 tip, paid by M-Pesa.
        agenda.move_cursor(row=agenda_row(screen, "Akinyi Otieno"))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompleteDialog), what="the payment dialog")
        dialog = pilot.app.screen
        assert "Akinyi Otieno" in dialog.dialog_title and "00:00" in dialog.dialog_title
        assert dialog.query_one("#price", Input).value == "1,500"
        dialog.query_one("#discount", Input).value = "200"
        dialog.query_one("#tip", Input).value = "100"
        dialog.query_one("#method-mpesa", RadioButton).value = True
        await pilot.pause()
        dialog.action_confirm()
        await until(pilot, lambda: appointment("Akinyi Otieno").status == "completed", what="the visit completed")
        done = appointment("Akinyi Otieno")
        assert (done.charged_minor, done.paid_minor) == (140000, 140000)

        # m: Baraka did not come; the Confirm names him and the fee.
        await until(pilot, lambda: pilot.app.screen is screen)
        agenda.focus()
        agenda.move_cursor(row=agenda_row(screen, "Baraka"))
        await pilot.press("m")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the no-show question")
        confirm = pilot.app.screen
        assert "Baraka" in confirm.dialog_title
        assert any("300" in str(line) for line in confirm.details)
        await pilot.press("y")
        await until(pilot, lambda: appointment("Baraka").status == "no_show", what="the no-show")
        await until(pilot, lambda: "no_show" in str(agenda.get_row_at(agenda_row(screen, "Baraka"))[4]))

    with committed_db.session() as s:
        figures = salon_analytics(s, SYSTEM, org.id)
        takings = daily_takings(s, SYSTEM, org.id, datetime.now(org.tz).date())
    # Revenue: the completed visit less its tip, plus the no-show's fee charged.
    assert sum(w.revenue_minor for w in figures.weeks) == 130000 + 30000
    assert figures.no_show_rate == 0.5
    assert takings.by("method") == {"mpesa": 140000}


async def test_calendar_books_next_tuesday_from_the_week_view_and_a_walk_in(committed_db, day):
    org, _ = day
    today = datetime.now(org.tz).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)

    def booked(phone: str):
        with committed_db.session() as s:
            return s.execute(select(SalonAppointment, Contact.name).join(
                Contact, Contact.id == SalonAppointment.contact_id).where(Contact.phone == phone)).one_or_none()

    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        calendar = await open_calendar(pilot)
        # The day view: only the two professionals are columns (the owner is not).
        assert [c.label for c in calendar.data.columns] == ["Amina", "Beth"]
        await pilot.press("v")
        await until(pilot, lambda: calendar.data.week, what="Amina's week")
        if tuesday - calendar.data.start >= timedelta(days=7):
            await pilot.press("right_curly_bracket")
            await until(pilot, lambda: calendar.data.start <= tuesday < calendar.data.start + timedelta(days=7),
                        what="next week")
        grid = calendar.query_one("#grid", DataTable)
        grid.move_cursor(row=calendar.data.slots.index(10 * 60), column=1 + (tuesday - calendar.data.start).days)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, BookDialog), what="the booking dialog")
        dialog = pilot.app.screen
        assert "Amina" in dialog.dialog_title and f"{tuesday:%d}" in dialog.dialog_title
        dialog.query_one("#book-phone", Input).value = "0722 111 222"
        dialog.query_one("#book-name", Input).value = "Wambui"
        dialog.action_confirm()
        await until(pilot, lambda: booked("+254722111222") is not None, what="the booking")
        appointment, name = booked("+254722111222")
        assert name == "Wambui" and appointment.status == "confirmed"
        assert appointment.starts_at.astimezone(org.tz).replace(tzinfo=None) == datetime.combine(tuesday, time(10))
        await until(pilot, lambda: any("Wambui" in str(grid.get_row_at(r)[1 + (tuesday - calendar.data.start).days])
                                       for r in range(grid.row_count)), what="the booking in the week")

        # w: a walk-in now, with the professional under the cursor.
        await pilot.press("t", "w")
        await until(pilot, lambda: isinstance(pilot.app.screen, BookDialog), what="the walk-in dialog")
        pilot.app.screen.query_one("#book-phone", Input).value = "0733 444 555"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: booked("+254733444555") is not None, what="the walk-in")
        assert booked("+254733444555")[0].walk_in


async def test_calendar_completes_a_visit_at_80x24(committed_db, day):
    """The agenda does not fit an 80x24 home; the calendar closes visits with the same keys."""
    org, ids = day
    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        calendar = await open_calendar(pilot)
        grid = calendar.query_one("#grid", DataTable)
        grid.move_cursor(row=calendar.data.slots.index(15), column=2)  # Beth's, inside Baraka's hour
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompleteDialog), what="the payment dialog")
        assert "Baraka" in pilot.app.screen.dialog_title
        await pilot.press("enter")  # the booked price, cash

        def status():
            with committed_db.session() as s:
                return get_appointment(s, SYSTEM, org.id, ids["Baraka"])
        await until(pilot, lambda: status().status == "completed", what="the visit completed")
        assert (status().paid_minor, status().charged_minor) == (150000, 150000)
