"""Keeping a salon set up from the console with Pilot at 80x24: a new service
price, Saturday's hours set alone, a holiday added and removed, a service retired."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from textual.widgets import DataTable, Input

from console.app import OfisiApp
from console.salon.setup import HolidayDialog, HolidaysScreen, HoursScreen, ServicesScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from core.salon.schedule import list_date_exceptions, set_weekly_hours, weekly_hours
from core.salon.services import add_service, list_services
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
        add_service(s, cli_actor, org.id, name="Braids", minutes=60, price="1500")
    return org, amina.id


async def test_price_saturday_hours_and_a_holiday(committed_db, salon):
    org, amina = salon
    holiday = datetime.now(org.tz).date() + timedelta(days=20)

    def services():
        with committed_db.session() as s:
            return {v.name: v for v in list_services(s, SYSTEM, org.id, include_inactive=True)}

    async with OfisiApp(committed_db, live_updates=False).run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "desk@example.com")
        await home(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ServicesScreen)
                    and pilot.app.screen.table.row_count == 1, what="the services")
        # e: Braids now costs 1,800.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the price box")
        assert "Braids" in pilot.app.screen.dialog_title
        pilot.app.screen.query_one(Input).value = "1800"
        await pilot.press("enter")
        await until(pilot, lambda: services()["Braids"].price_minor == 180000, what="the new price")

        # 2, Saturday, Enter: 10:00-15:00 on Saturdays only.
        await until(pilot, lambda: isinstance(pilot.app.screen, ServicesScreen))
        await pilot.press("2")
        await until(pilot, lambda: isinstance(pilot.app.screen, HoursScreen)
                    and pilot.app.screen.table.row_count == 7, what="Amina's week")
        hours = pilot.app.screen
        hours.query_one("#hours", DataTable).move_cursor(row=5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="Saturday's hours")
        assert "Saturday" in pilot.app.screen.dialog_title
        pilot.app.screen.query_one(Input).value = "10:00-15:00"
        await pilot.press("enter")

        def week():
            with committed_db.session() as s:
                return weekly_hours(s, SYSTEM, org.id, amina)
        await until(pilot, lambda: week().work[5] == [(time(10), time(15))], what="Saturday's new hours")
        assert all(week().work[d] == NINE_TO_SIX for d in (0, 1, 2, 3, 4, 6))

        # 3, a: a holiday for the salon, then x removes it.
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
                return [(h.day, h.hours, h.note) for h in
                        list_date_exceptions(s, SYSTEM, org.id, date.min, date.max)]
        await until(pilot, lambda: holidays() == [(holiday, None, "Jamhuri Day")], what="the holiday")
        await until(pilot, lambda: pilot.app.screen.table.row_count == 1, what="the holiday listed")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the removal question")
        await pilot.press("y")
        await until(pilot, lambda: holidays() == [], what="the holiday removed")

        # 1, x: Braids retired after a Confirm.
        await pilot.press("1")
        await until(pilot, lambda: isinstance(pilot.app.screen, ServicesScreen)
                    and pilot.app.screen.table.row_count == 1)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the retire question")
        assert "Braids" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: not services()["Braids"].active, what="Braids retired")
