"""Keeping a salon set up from the console with Pilot at 80x24 (a new price, Saturday's hours and a
holiday are in the receptionist's day, test_salon_console_day): the booking rules changed, a
professional's leave added over a booked appointment (asked again with it named, then cancelling
it) and removed, a lead form retitled, its questions and limits edited and the form closed, a professional's texts chosen and an owner made
bookable, a holiday removed and a service retired."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from textual.widgets import Input, Select

from console.app import OfisiApp
from console.salon.forms import FormQuestionsScreen, FormsScreen, LimitsDialog, QuestionDialog
from console.salon.rules import BlockDialog, BlocksScreen, RulesScreen, StaffScreen
from console.salon.setup import HolidaysScreen, ServicesScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from core.contacts import add_contact
from core.salon.bookings import book, get_appointment
from core.salon.forms import create_form, list_forms
from core.salon.schedule import list_date_exceptions, list_time_blocks, set_date_exception, set_weekly_hours
from core.salon.services import add_service, list_services
from core.salon.settings import booking_settings, list_staff_settings
from core.users import add_user
from tests.salon_support import SYSTEM
from tests.test_console import PASSWORD, home, sign_in, until

NINE_TO_SIX = [(time(9), time(18))]


@pytest.fixture
def salon(committed_db, backend, make_org, cli_actor):
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on both backends; the core tests cover PostgreSQL")
    with committed_db.session() as s:
        org = make_org(s, "salon", slug="urembo", name="Urembo")
        add_user(s, cli_actor, "desk@example.com", org_id=org.id, role="owner", name="Desk", password=PASSWORD)
        amina = add_user(s, cli_actor, "amina@example.com", org_id=org.id, role="professional", name="Amina")
        set_weekly_hours(s, cli_actor, org.id, amina.id, work={d: NINE_TO_SIX for d in range(7)})
        braids = add_service(s, cli_actor, org.id, name="Braids", minutes=60, price="1500")
        create_form(s, cli_actor, org.id, slug="book-now", title="Book now")
        leave = datetime.now(org.tz).date() + timedelta(days=10)
        client = add_contact(s, cli_actor, org.id, name="Zawadi", phone="0712 999 000")
        booked = book(s, cli_actor, org.id, professional_id=amina.id, service_id=braids.id, contact_id=client.id,
                      start=datetime.combine(leave, time(11), tzinfo=org.tz))
        set_date_exception(s, cli_actor, org.id, leave + timedelta(days=30), hours=None, note="Jamhuri Day")
    return org, amina.id, leave, booked.id


async def ask(pilot, answer: str, *, title: str = "") -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the question")
    assert title in pilot.app.screen.dialog_title
    pilot.app.screen.query_one(Input).value = answer
    await pilot.press("enter")


async def screen_of(pilot, kind, rows: int):
    await until(pilot, lambda: isinstance(pilot.app.screen, kind) and pilot.app.screen.table.row_count == rows,
                what=kind.__name__)
    return pilot.app.screen


async def test_rules_blocks_forms_holidays_and_services(committed_db, salon):
    org, amina, leave, booked_id = salon

    def read(fn, *args):
        with committed_db.session() as s:
            return fn(s, SYSTEM, org.id, *args)

    def services():
        with committed_db.session() as s:
            return list_services(s, SYSTEM, org.id, include_inactive=True)

    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "desk@example.com")
        await home(pilot)

        # o, 4: clients give two hours' notice; a no-show costs 500.
        await pilot.press("o", "4")
        rules = await screen_of(pilot, RulesScreen, 8)
        rules.table.move_cursor(row=0)
        await pilot.press("enter")
        await ask(pilot, "120", title="Notice clients must give (now 60 min)")
        await until(pilot, lambda: read(booking_settings).min_notice_minutes == 120, what="the new notice")
        await until(pilot, lambda: pilot.app.screen is rules and "120 min" in str(rules.table.get_row_at(0)[1]))
        rules.table.move_cursor(row=5)
        await pilot.press("e")
        await ask(pilot, "500", title="No-show fee")
        await until(pilot, lambda: read(booking_settings).no_show_fee_minor == 50000, what="the no-show fee")

        # 5, a: Amina's leave over Zawadi's appointment is refused naming her; then cancelling it.
        await until(pilot, lambda: pilot.app.screen is rules)
        await pilot.press("5")
        blocks = await screen_of(pilot, BlocksScreen, 0)

        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, BlockDialog), what="the block dialog")
        dialog = pilot.app.screen
        dialog.query_one("#block-from", Input).value = f"{leave} 09:00"
        dialog.query_one("#block-to", Input).value = f"{leave} 18:00"
        dialog.action_confirm()
        # Refused: the dialog comes back as typed, naming Zawadi's appointment, on the choice to make.
        await until(pilot, lambda: isinstance(pilot.app.screen, BlockDialog) and pilot.app.screen.problem,
                    what="the block asked again")
        again = pilot.app.screen
        assert "Zawadi" in again.problem and again.query_one("#block-from", Input).value == f"{leave} 09:00"
        await until(pilot, lambda: again.query_one("#block-booked", Select).has_focus, what="the choice")
        assert read(get_appointment, booked_id).status == "confirmed"
        again.query_one("#block-booked", Select).value = "cancel"
        again.action_confirm()
        await screen_of(pilot, BlocksScreen, 1)
        assert read(get_appointment, booked_id).status == "cancelled"
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the removal question")
        assert "Amina" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await screen_of(pilot, BlocksScreen, 0)
        far = datetime.now(org.tz) + timedelta(days=400)
        assert read(list_time_blocks, amina, far - timedelta(days=800), far) == []

        # 6: the form gets a new title, then x closes it.
        await pilot.press("6")
        await screen_of(pilot, FormsScreen, 1)
        await pilot.press("e")
        await ask(pilot, "Book your braids", title="/forms/book-now")
        await until(pilot, lambda: read(list_forms)[0].title == "Book your braids", what="the new title")

        # Enter: its questions. Two of its own (one required, its label shown as written), a name the
        # core refuses, reordered, email made required, one removed, and the limits changed.
        await until(pilot, lambda: isinstance(pilot.app.screen, FormsScreen))
        await pilot.press("enter")
        questions = await screen_of(pilot, FormQuestionsScreen, 6)

        async def add_question(name: str, label: str, required: bool) -> None:
            await pilot.press("a")
            await until(pilot, lambda: isinstance(pilot.app.screen, QuestionDialog), what="the question dialog")
            dialog = pilot.app.screen
            dialog.query_one("#question-name", Input).value = name
            dialog.query_one("#question-label", Input).value = label
            dialog.query_one("#question-required", Select).value = required
            dialog.action_confirm()

        def own() -> list[tuple[str, str, bool]]:
            return [(q["name"], q["label"], q["required"]) for q in read(list_forms)[0].fields]

        await add_question("hair_length", "Length [/] style", True)
        await screen_of(pilot, FormQuestionsScreen, 7)
        await add_question("nails", "", False)
        await screen_of(pilot, FormQuestionsScreen, 8)
        assert own() == [("hair_length", "Length [/] style", True), ("nails", "Nails", False)]
        assert "Length [/] style" in str(questions.table.get_row_at(6)[1])
        await add_question("Hair Length", "", False)
        await until(pilot, lambda: any("cannot be a field of the form's own" in str(n.message)
                                       for n in pilot.app._notifications), what="the core's refusal")
        await add_question("nails", "", False)
        await until(pilot, lambda: any("already asks nails" in str(n.message) for n in pilot.app._notifications),
                    what="the second nails refused")
        questions.table.move_cursor(row=7)
        await pilot.press("u")
        await until(pilot, lambda: [q[0] for q in own()] == ["nails", "hair_length"], what="nails asked first")
        await until(pilot, lambda: questions.table.selected_row.data == ("own", "nails"), what="the cursor on nails")
        questions.table.move_cursor(row=2)
        await pilot.press("r")
        await until(pilot, lambda: "email" in read(list_forms)[0].required, what="email required")
        questions.table.move_cursor(row=7)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the removal question")
        assert "hair_length" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: own() == [("nails", "Nails", False)], what="hair_length removed")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, LimitsDialog), what="the limits dialog")
        pilot.app.screen.query_one("#limit-phone", Input).value = "0"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: any("at least one submission an hour" in str(n.message)
                                       for n in pilot.app._notifications), what="a limit of 0 refused")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, LimitsDialog), what="the limits dialog")
        pilot.app.screen.query_one("#limit-ip", Input).value = "10"
        pilot.app.screen.query_one("#limit-phone", Input).value = "2"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: (read(list_forms)[0].max_per_ip_hour, read(list_forms)[0].max_per_phone_hour)
                    == (10, 2), what="the new limits")
        await until(pilot, lambda: pilot.app.screen is questions)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormsScreen), what="back on the forms")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the close question")
        await pilot.press("y")
        await until(pilot, lambda: not read(list_forms)[0].active, what="the form closed")

        # 7: Amina is texted only of new bookings; the owner at the desk takes clients too.
        await pilot.press("7")
        staff = await screen_of(pilot, StaffScreen, 2)
        staff.table.move_cursor(row=staff.table.get_row_index(str(amina)))
        await pilot.press("e")
        await ask(pilot, "booked", title="Amina")

        def person(name):
            with committed_db.session() as s:
                return next(p for p in list_staff_settings(s, SYSTEM, org.id) if p.name == name)
        await until(pilot, lambda: person("Amina").notify_on == ("booked",), what="Amina's choice")
        await until(pilot, lambda: pilot.app.screen is staff)
        staff.table.move_cursor(row=staff.table.get_row_index(str(person("Desk").user_id)))
        await pilot.press("b")
        await until(pilot, lambda: person("Desk").bookable, what="the owner bookable")

        # 3, x: Jamhuri Day removed; 1, x: Braids retired after a Confirm.
        await pilot.press("3")
        await screen_of(pilot, HolidaysScreen, 1)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the removal question")
        await pilot.press("y")
        await until(pilot, lambda: read(list_date_exceptions, date.min, date.max) == [], what="the holiday removed")
        await pilot.press("1")
        await screen_of(pilot, ServicesScreen, 1)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the retire question")
        assert "Braids" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: not services()[0].active, what="Braids retired")
