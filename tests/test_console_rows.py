"""Actions land on the record under the cursor, the cursor stays there, dialogs name the
record, and consequential actions ask first (``n`` changes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import Input

from console.app import OfisiApp
from console.base import AskText
from console.salon import LeadsScreen
from console.widgets.confirm import Confirm
from console.widgets.table import OfisiTable
from core.salon.leads import LeadDetails, add_lead
from core.users import add_user
from db.models_salon import SalonLead
from tests.console_support import screen_text, until
from tests.test_console import PASSWORD, home, sign_in

SIZE = (160, 48)


@pytest.fixture
def salon_with_leads(committed_db, make_org, cli_actor):
    with committed_db.session() as s:
        org = make_org(s, "salon", slug="rows-salon", name="Rows Salon")
        add_user(s, cli_actor, "owner@rows.example", org_id=org.id, role="owner", name="Owner", password=PASSWORD)
        for n in range(1, 9):
            add_lead(s, cli_actor, org.id, LeadDetails(phone=f"+25472000000{n}", name=f"Lead {n}"))
    return org


def lead(committed_db, name: str) -> SalonLead:
    with committed_db.session() as s:
        return s.scalar(select(SalonLead).where(SalonLead.name == name))


def statuses(committed_db) -> dict[str, str]:
    with committed_db.session() as s:
        return {row.name: row.status for row in s.scalars(select(SalonLead))}


async def sixth_lead(pilot, committed_db):
    """Sign in, open the leads and put the cursor on the 6th row: (screen, table, that lead, statuses now)."""
    await sign_in(pilot, "owner@rows.example")
    await home(pilot)
    await pilot.press("l")
    await until(pilot, lambda: isinstance(pilot.app.screen, LeadsScreen), what="the leads")
    screen = pilot.app.screen
    table = screen.query_one("#leads", OfisiTable)
    await until(pilot, lambda: table.row_count == 8, what="eight leads")
    table.focus()
    table.move_cursor(row=5)
    return screen, table, table.selected_row.data, statuses(committed_db)


async def test_actions_land_on_the_sixth_row_and_the_cursor_stays(committed_db, salon_with_leads):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, table, sixth, before = await sixth_lead(pilot, committed_db)

        await pilot.press("c")  # log a call: the sixth lead is contacted, no other changes
        await until(pilot, lambda: statuses(committed_db)[sixth.name] == "contacted", what="the call logged")
        after = statuses(committed_db)
        assert {name for name in after if after[name] != before[name]} == {sixth.name}
        await until(pilot, lambda: table.get_row_at(5)[3] == "contacted", what="the list read again")
        assert table.cursor_row == 5 and table.selected_id == sixth.id

        await pilot.press("x")  # lose it: the dialog names the lead
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason box")
        assert f"Why is {sixth.name}, +254 720 00000" in screen_text(app)
        app.screen.query_one("#ask-text", Input).value = "moved away"
        await pilot.press("enter")
        await until(pilot, lambda: statuses(committed_db)[sixth.name] == "lost", what="the lead lost")
        await until(pilot, lambda: str(table.get_row_at(5)[3]) == "lost: moved away", what="the list read again")
        assert table.cursor_row == 5 and table.selected_id == sixth.id


async def test_converting_asks_first_and_no_changes_nothing(committed_db, salon_with_leads):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, table, sixth, before = await sixth_lead(pilot, committed_db)

        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the confirmation")
        shown = screen_text(app)
        assert f"Convert {sixth.name}, +254 720 00000" in shown and "becomes a client" in shown
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="the leads again")
        await pilot.pause(0.3)
        assert statuses(committed_db) == before
        assert lead(committed_db, sixth.name).contact_id is None

        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the confirmation again")
        await pilot.press("y")
        await until(pilot, lambda: statuses(committed_db)[sixth.name] == "converted", what="the lead converted")
        after = statuses(committed_db)
        assert {name for name in after if after[name] != before[name]} == {sixth.name}
        assert lead(committed_db, sixth.name).contact_id is not None
        await until(pilot, lambda: table.get_row_at(5)[3] == "converted", what="the list read again")
        assert table.selected_id == sixth.id


async def test_the_agenda_is_in_time_order(committed_db, make_org, cli_actor):
    from datetime import datetime, time, timedelta

    from core.contacts import add_contact
    from core.salon.bookings import book
    from core.salon.schedule import set_weekly_hours
    from core.salon.services import add_service
    from core.salon.settings import update_staff_settings

    with committed_db.session() as s:
        org = make_org(s, "salon", slug="agenda-salon", name="Agenda Salon")
        owner = add_user(s, cli_actor, "owner@rows.example", org_id=org.id, role="owner", name="Owner",
                         password=PASSWORD)
        update_staff_settings(s, cli_actor, org.id, owner.id, bookable=True)
        set_weekly_hours(s, cli_actor, org.id, owner.id, work={d: [(time(0, 0), time(0, 0))] for d in range(7)})
        service = add_service(s, cli_actor, org.id, name="Braids", minutes=30, price="1500")
        today = datetime.now(org.tz).date()
        for hour, name in ((15, "Late"), (1, "Early"), (9, "Middle")):
            client = add_contact(s, cli_actor, org.id, name=name, phone=f"+2547210000{hour:02d}")
            start = datetime.combine(today, time(hour), tzinfo=org.tz)
            book(s, cli_actor, org.id, professional_id=owner.id, service_id=service.id, contact_id=client.id,
                 start=start, now=start - timedelta(days=1))
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "owner@rows.example")
        screen = await home(pilot)
        agenda = screen.query_one("#agenda", OfisiTable)
        await until(pilot, lambda: agenda.row_count == 3, what="three appointments")
        assert [str(agenda.get_row_at(i)[2]) for i in range(3)] == ["Early", "Middle", "Late"]
