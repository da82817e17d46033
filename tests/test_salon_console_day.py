"""A receptionist's day at the salon's console with Pilot, at 80x24: a client booked for next
Tuesday from a professional's week view, a walk-in, today's visit checked in and completed with an
M-Pesa payment, a no-show, a service's new price, Saturday's hours set alone and a holiday; then the
figures screen shows that revenue and no-show rate, and the takings screen what the completed visits
were paid, on the day and over a period chosen (its total equal to their payments in the database)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Label, RadioButton

from console.app import OfisiApp
from console.salon import AnalyticsScreen, SalonHomeScreen
from console.salon.calendar import BookDialog, CalendarScreen
from console.salon.closing import CompleteDialog
from console.salon.setup import HolidayDialog, HolidaysScreen, HoursScreen, ServicesScreen
from console.salon.takings import PeriodDialog, TakingsScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from core.contacts import add_contact
from core.salon.analytics import salon_analytics
from core.salon.bookings import book, complete, get_appointment
from core.salon.schedule import list_date_exceptions, set_weekly_hours, weekly_hours
from core.salon.services import add_service, list_services
from core.salon.settings import update_booking_settings
from core.users import add_user
from db.models import Contact
from db.models_salon import SalonAppointment, SalonPayment
from tests.salon_support import SYSTEM
from tests.test_console import PASSWORD, home, sign_in, static_text, until

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


async def test_a_receptionists_day(committed_db, day):
    """The whole day at the desk, at 80x24: next Tuesday booked from Amina's week, a walk-in, today's
    visit checked in and completed by M-Pesa, a no-show, a new price, Saturday's hours alone, a holiday;
    then the figures show that revenue and no-show rate, and the takings what the visits were paid."""
    org, ids = day
    today = datetime.now(org.tz).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    holiday = today + timedelta(days=20)

    def appointment(name: str):
        with committed_db.session() as s:
            return get_appointment(s, SYSTEM, org.id, ids[name])

    def paid_between(first: date, last: date) -> int:
        """What the completed appointments were paid from ``first`` to ``last`` (whole days, the salon's)."""
        start = datetime.combine(first, time(0), tzinfo=org.tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=org.tz)
        with committed_db.session() as s:
            return sum(s.scalars(select(SalonPayment.amount_minor).join(
                SalonAppointment, SalonAppointment.id == SalonPayment.appointment_id).where(
                SalonAppointment.org_id == org.id, SalonAppointment.status == "completed",
                SalonPayment.at >= start, SalonPayment.at < end)))

    def booked(phone: str):
        with committed_db.session() as s:
            return s.execute(select(SalonAppointment, Contact.name).join(
                Contact, Contact.id == SalonAppointment.contact_id).where(Contact.phone == phone)).one_or_none()

    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        # c: the calendar; only the two professionals are columns (the owner at the desk is not).
        calendar = await open_calendar(pilot)
        assert [c.label for c in calendar.data.columns] == ["Amina", "Beth"]

        # v: Amina's week; Enter on Tuesday 10:00 books Wambui, a new client.
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
        appointment_row, name = booked("+254722111222")
        assert name == "Wambui" and appointment_row.status == "confirmed"
        assert appointment_row.starts_at.astimezone(org.tz).replace(tzinfo=None) == datetime.combine(tuesday, time(10))
        await until(pilot, lambda: any("Wambui" in str(grid.get_row_at(r)[1 + (tuesday - calendar.data.start).days])
                                       for r in range(grid.row_count)), what="the booking in the week")

        # t, w: a walk-in now with Beth (the day view's second column), the notice does not apply to staff.
        await pilot.press("t", "v")
        await until(pilot, lambda: not calendar.data.week and calendar.data.start == today, what="today")
        grid.move_cursor(column=2)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(pilot.app.screen, BookDialog), what="the walk-in dialog")
        pilot.app.screen.query_one("#book-phone", Input).value = "0733 444 555"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: booked("+254733444555") is not None, what="the walk-in")
        assert booked("+254733444555")[0].walk_in

        # Back home. i: Akinyi has arrived.
        await until(pilot, lambda: pilot.app.screen is calendar)
        await pilot.press("escape")
        screen = await home(pilot)
        assert isinstance(screen, SalonHomeScreen)
        await until(pilot, lambda: screen.query_one("#agenda", DataTable).row_count == 3, what="the agenda")
        agenda = screen.query_one("#agenda", DataTable)
        times = [str(agenda.get_row_at(r)[0]) for r in range(agenda.row_count)]
        assert times == sorted(times) and str(agenda.get_row_at(2)[2]).endswith("444555")  # by time: walk-in last
        agenda.focus()
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

        # o, e: Braids now costs 1,800 (the day's visits keep their price).
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ServicesScreen)
                    and pilot.app.screen.table.row_count == 1, what="the services")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the price box")
        assert "Braids" in pilot.app.screen.dialog_title
        pilot.app.screen.query_one(Input).value = "1800"
        await pilot.press("enter")

        def braids():
            with committed_db.session() as s:
                return list_services(s, SYSTEM, org.id)[0]
        await until(pilot, lambda: braids().price_minor == 180000, what="the new price")
        assert appointment("Akinyi Otieno").price_minor == 150000

        # 2, Saturday, Enter: Amina works 10:00-15:00 on Saturdays, the other days as before.
        await until(pilot, lambda: isinstance(pilot.app.screen, ServicesScreen))
        await pilot.press("2")
        await until(pilot, lambda: isinstance(pilot.app.screen, HoursScreen)
                    and pilot.app.screen.table.row_count == 7, what="Amina's week")
        hours = pilot.app.screen
        hours.query_one("#hours", DataTable).move_cursor(row=5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="Saturday's hours")
        assert "Saturday" in pilot.app.screen.dialog_title and "Amina" in pilot.app.screen.dialog_title
        pilot.app.screen.query_one(Input).value = "10:00-15:00"
        await pilot.press("enter")

        def week():
            with committed_db.session() as s:
                return weekly_hours(s, SYSTEM, org.id, hours.professional_id)
        await until(pilot, lambda: week().work[5] == [(time(10), time(15))], what="Saturday's new hours")
        assert all(week().work[d] == ALL_DAY for d in (0, 1, 2, 3, 4, 6))

        # 3, a: the salon is closed for Jamhuri Day.
        await until(pilot, lambda: pilot.app.screen is hours)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(pilot.app.screen, HolidaysScreen), what="the holidays")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, HolidayDialog), what="the holiday dialog")
        dialog = pilot.app.screen
        dialog.query_one("#holiday-date", Input).value = holiday.isoformat()
        dialog.query_one("#holiday-note", Input).value = "Jamhuri Day"
        dialog.action_confirm()

        def holidays():
            with committed_db.session() as s:
                return [(h.day, h.hours, h.note) for h in list_date_exceptions(s, SYSTEM, org.id, date.min, date.max)]
        await until(pilot, lambda: holidays() == [(holiday, None, "Jamhuri Day")], what="the holiday")

        # Home, y: the figures show the day's revenue (the visit less its tip, and the no-show's fee) and rate.
        await until(pilot, lambda: isinstance(pilot.app.screen, HolidaysScreen) and pilot.app.screen.table.row_count)
        await pilot.press("escape")
        await home(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, AnalyticsScreen)
                    and "No-show rate" in static_text(pilot.app.screen, "#figures"), what="the figures")
        figures = static_text(pilot.app.screen, "#figures")
        assert "KES 1,600" in figures and "No-show rate: 50%" in figures
        baraka = appointment("Baraka")
        with committed_db.session() as s:
            figures = salon_analytics(s, SYSTEM, org.id)
            # Twelve days ago Baraka came and paid cash: outside today's takings, inside a period's.
            earlier = datetime.combine(today - timedelta(days=12), time(10), tzinfo=org.tz)
            past = book(s, SYSTEM, org.id, professional_id=baraka.professional_id, service_id=baraka.service_id,
                        contact_id=baraka.contact_id, start=earlier, now=earlier - timedelta(days=1))
            complete(s, SYSTEM, org.id, past.id, price="1200", now=earlier + timedelta(hours=1))

        # Escape, k: the takings are what the completed visit was paid, by M-Pesa.
        await pilot.press("escape")
        await home(pilot)
        await pilot.press("k")
        await until(pilot, lambda: isinstance(pilot.app.screen, TakingsScreen)
                    and pilot.app.screen.takings is not None, what="the takings")
        takings_screen = pilot.app.screen
        assert "KES 1,400" in str(takings_screen.query_one("#takings-title", Label).content)
        assert "mpesa KES 1,400" in static_text(takings_screen, "#takings-totals")
        assert takings_screen.takings.total_minor == paid_between(today, today) == 140000

        # p: the last fortnight takes in Baraka's earlier visit; a last day before the first is refused.
        async def period(first: date, last: date) -> None:
            await pilot.press("p")
            await until(pilot, lambda: isinstance(pilot.app.screen, PeriodDialog), what="the period dialog")
            pilot.app.screen.query_one("#period-from", Input).value = first.isoformat()
            pilot.app.screen.query_one("#period-to", Input).value = last.isoformat()
            await pilot.press("enter")

        fortnight = today - timedelta(days=13)
        await period(fortnight, today)
        await until(pilot, lambda: takings_screen.takings.first == fortnight, what="the fortnight's takings")
        assert takings_screen.takings.total_minor == paid_between(fortnight, today) == 140000 + 120000
        assert "cash KES 1,200" in static_text(takings_screen, "#takings-totals")
        await period(today, fortnight)
        await until(pilot, lambda: any("give the first day first" in str(n.message)
                                       for n in pilot.app._notifications), what="the period refused")
        assert takings_screen.takings.first == fortnight
        # [: the fortnight before, with nothing taken; m: the month of its last day.
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: takings_screen.takings.last == fortnight - timedelta(days=1), what="before")
        assert takings_screen.takings.total_minor == 0
        await pilot.press("m")
        start_of_month = (fortnight - timedelta(days=1)).replace(day=1)
        await until(pilot, lambda: takings_screen.takings.first == start_of_month
                    and (takings_screen.takings.last + timedelta(days=1)).day == 1, what="the month")
        month = takings_screen.takings
        assert month.total_minor == paid_between(month.first, month.last)

    with committed_db.session() as s:
        paid = s.scalars(select(SalonPayment.amount_minor).join(
            SalonAppointment, SalonAppointment.id == SalonPayment.appointment_id).where(
            SalonAppointment.org_id == org.id, SalonAppointment.status == "completed")).all()
    assert sum(paid) == 140000 + 120000
    assert sum(w.revenue_minor for w in figures.weeks) == 130000 + 30000
    assert figures.no_show_rate == 0.5


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
