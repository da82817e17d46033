"""The salon's console driven with Pilot over a committed database: the day at a
glance, booking from a free slot, cancelling with a reason, a client's history,
timeline and notes, the leads pipeline (a lead's log, corrected, added by hand, converted
and booked in one step),
every task with who does it, the figures and the conversations inbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Select, Static

from console.app import OfisiApp
from console.base import AskText
from console.salon import AnalyticsScreen, ClientHistoryScreen, InboxScreen, LeadsScreen, SalonHomeScreen
from console.salon.leads import ConvertBookDialog, LeadDialog
from console.salon.tasks import TaskDialog, TasksScreen
from console.widgets.chart import BarChart
from console.widgets.dialog import AskText as DialogAskText
from core.contacts import add_contact, get_contact
from core.salon.bookings import book
from core.salon.conversations import record_inbound
from core.salon.leads import LeadDetails, add_lead, list_tasks
from core.salon.schedule import set_weekly_hours
from core.salon.services import add_service
from core.salon.settings import update_staff_settings
from core.users import add_user
from db.models_salon import SalonAppointment, SalonLead
from tests.salon_support import SYSTEM
from tests.test_console import PASSWORD, SIZE, home, sign_in, until

ALL_DAY = [(time(0, 0), time(0, 0))]


@pytest.fixture
def salon(committed_db, backend, make_org, cli_actor):
    """A salon open around the clock, with an appointment today, a client to book and a hot lead."""
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on both backends; the core tests cover PostgreSQL")
    with committed_db.session() as s:
        org = make_org(s, "salon", slug="mama-njeri", name="Mama Njeri Salon")
        owner = add_user(s, cli_actor, "wanjiku@example.com", org_id=org.id, role="owner", name="Wanjiku",
                         password=PASSWORD)
        # The owner also takes clients (owners are bookable only by choice).
        update_staff_settings(s, cli_actor, org.id, owner.id, bookable=True)
        set_weekly_hours(s, cli_actor, org.id, owner.id, work={d: ALL_DAY for d in range(7)})
        service = add_service(s, cli_actor, org.id, name="Braids", minutes=60, price="1500")
        akinyi = add_contact(s, cli_actor, org.id, name="Akinyi Otieno", phone="0712 345 678")
        baraka = add_contact(s, cli_actor, org.id, name="Baraka", phone="0712 000 111")
        midnight = datetime.combine(datetime.now(org.tz).date(), time(0, 0), tzinfo=org.tz)
        book(s, cli_actor, org.id, professional_id=owner.id, service_id=service.id, contact_id=baraka.id,
             start=midnight, now=midnight - timedelta(days=1))
        add_lead(s, cli_actor, org.id, LeadDetails(phone="0711000001", name="Hot Lead", service_wanted="Braids",
                                                  preferred_date=midnight.date()))
    return org, akinyi


def rows(screen, selector: str) -> int:
    return screen.query_one(selector, DataTable).row_count


async def test_day_book_and_cancel(committed_db, salon):
    org, akinyi = salon
    async with OfisiApp(committed_db, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        assert isinstance(screen, SalonHomeScreen)
        await until(pilot, lambda: rows(screen, "#agenda") == 1 and rows(screen, "#slots") > 0
                    and rows(screen, "#tasks") == 1 and rows(screen, "#new-leads") == 1, what="the day")
        assert screen.query_one("#agenda", DataTable).get_row_at(0)[2] == "Baraka"
        first_slot = screen.day.slots[0]

        # Pick the client, f, Enter: booked into the first free slot.
        contacts = screen.query_one("#contacts", DataTable)
        contacts.move_cursor(row=contacts.get_row_index(str(akinyi.id)))
        await pilot.pause()
        await pilot.press("f", "enter")

        def booked():
            with committed_db.session() as s:
                return s.scalar(select(SalonAppointment).where(SalonAppointment.contact_id == akinyi.id))
        await until(pilot, lambda: booked() is not None, what="the booking")
        assert (booked().starts_at, booked().status) == (first_slot.start, "confirmed")

        # Highlight today's appointment, x, a reason: cancelled.
        screen.query_one("#agenda", DataTable).focus()
        await until(pilot, lambda: rows(screen, "#agenda") >= 1)
        baraka_row = next(i for i in range(rows(screen, "#agenda"))
                          if screen.query_one("#agenda", DataTable).get_row_at(i)[2] == "Baraka")
        screen.query_one("#agenda", DataTable).move_cursor(row=baraka_row)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the reason box")
        pilot.app.screen.query_one("#ask-text", Input).value = "client is ill"
        await pilot.press("enter")

        def cancelled():
            with committed_db.session() as s:
                return s.scalars(select(SalonAppointment.cancel_reason).where(
                    SalonAppointment.status == "cancelled")).all()
        await until(pilot, lambda: cancelled() == ["client is ill"], what="the cancellation")

        # t: today's task (the hot lead's follow-up) done from home, as d does on the tasks screen.
        await pilot.press("t")
        await until(pilot, lambda: rows(screen, "#tasks") == 0, what="the task done")
        with committed_db.session() as s:
            assert [t.done_at is not None for t in list_tasks(s, SYSTEM, org.id, include_done=True)] == [True]

        # h on Akinyi: her appointment and its timeline; n writes a note on her.
        contacts.focus()
        contacts.move_cursor(row=contacts.get_row_index(str(akinyi.id)))
        await pilot.pause()
        await pilot.press("h")
        await until(pilot, lambda: isinstance(pilot.app.screen, ClientHistoryScreen)
                    and rows(pilot.app.screen, "#history") == 1 and rows(pilot.app.screen, "#timeline") >= 1,
                    what="Akinyi's history")
        history = pilot.app.screen
        assert "visit booked" in str(history.query_one("#timeline", DataTable).get_row_at(0)[1])
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, DialogAskText), what="the notes box")
        assert "Akinyi Otieno" in pilot.app.screen.dialog_title
        pilot.app.screen.query_one(Input).value = "Allergic to [bold]latex[/]"
        await pilot.press("enter")
        await until(pilot, lambda: "Allergic to [bold]latex[/]" in str(
            history.query_one("#client-notes", Static).content), what="the note shown as written")
        with committed_db.session() as s:
            assert get_contact(s, SYSTEM, org.id, akinyi.id).notes == "Allergic to [bold]latex[/]"


async def test_leads_pipeline_and_figures(committed_db, salon):
    org, _ = salon

    def lead_names():
        with committed_db.session() as s:
            return s.scalars(select(SalonLead.name)).all()

    async with OfisiApp(committed_db, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        await home(pilot)
        # The leads pipeline: log a call, then lose the lead with a reason.
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, LeadsScreen) and rows(pilot.app.screen, "#leads") == 1)
        leads = pilot.app.screen
        assert "hot" in str(leads.query_one("#leads", DataTable).get_row_at(0)[2])

        def lead_status():
            with committed_db.session() as s:
                return s.scalar(select(SalonLead.status))
        await pilot.press("c")
        await until(pilot, lambda: lead_status() == "contacted", what="the call logged")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText))
        pilot.app.screen.query_one("#ask-text", Input).value = "too far"
        await pilot.press("enter")
        await until(pilot, lambda: lead_status() == "lost", what="the lead lost")
        await until(pilot, lambda: "lost: too far" in str(leads.query_one("#leads", DataTable).get_row_at(0)[3]))
        await until(pilot, lambda: "lost" in str(leads.query_one("#lead-activity", Static).content)
                    and "called" in str(leads.query_one("#lead-activity", Static).content), what="the lead's log")

        # e: what the lead said, corrected; a: a lead taken by hand.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, LeadDialog), what="the lead's details")
        assert pilot.app.screen.query_one("#lead-name", Input).value == "Hot Lead"
        pilot.app.screen.query_one("#lead-name", Input).value = "Njeri Kamau"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: lead_names() == ["Njeri Kamau"], what="the lead corrected")
        await until(pilot, lambda: pilot.app.screen is leads)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, LeadDialog), what="the new lead")
        pilot.app.screen.query_one("#lead-phone", Input).value = "0733 222 111"
        pilot.app.screen.query_one("#lead-name", Input).value = "Caller"
        pilot.app.screen.query_one("#lead-service_wanted", Input).value = "Braids"
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: sorted(lead_names()) == ["Caller", "Njeri Kamau"], what="the lead added")

        # t: every open task; a gives one to Wanjiku for tomorrow, f shows the upcoming, s gives it to anyone, d done.
        await until(pilot, lambda: pilot.app.screen is leads)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TasksScreen)
                    and rows(pilot.app.screen, "#all-tasks") == 1,
                    what="the tasks (the lost lead's is closed)")
        tasks = pilot.app.screen
        tomorrow = datetime.now(org.tz).date() + timedelta(days=1)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, TaskDialog), what="the task dialog")
        dialog = pilot.app.screen
        dialog.query_one("#task-title", Input).value = "Order braiding hair"
        dialog.query_one("#task-due", Input).value = f"{tomorrow} 10:00"
        dialog.query_one("#task-for", Select).value = dialog.staff[0][0]
        dialog.action_confirm()
        await until(pilot, lambda: rows(tasks, "#all-tasks") == 2, what="the task added")

        def order():
            with committed_db.session() as s:
                return next(t for t in list_tasks(s, SYSTEM, org.id, include_done=True)
                            if t.title == "Order braiding hair")
        assert order().assignee_name == "Wanjiku"
        assert order().due_at.astimezone(org.tz).replace(tzinfo=None) == datetime.combine(tomorrow, time(10))
        await pilot.press("f", "f", "f")
        await until(pilot, lambda: tasks.shown == "upcoming" and any(
            "Order braiding hair" in str(tasks.table.get_row_at(r)[2]) for r in range(rows(tasks, "#all-tasks"))),
            what="the upcoming tasks")
        tasks.table.move_cursor(row=tasks.table.get_row_index(str(order().id)))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, TaskDialog), what="the give-to dialog")
        pilot.app.screen.query_one("#task-for", Select).value = 0
        pilot.app.screen.action_confirm()
        await until(pilot, lambda: order().assignee_id is None, what="the task for anyone")
        await pilot.press("d")
        await until(pilot, lambda: order().done_at is not None, what="the task done")
        await pilot.press("escape")

        # b on the caller: a client, and booked for Braids with Wanjiku tomorrow at 11:00, in one step.
        await until(pilot, lambda: pilot.app.screen is leads)
        table = leads.query_one("#leads", DataTable)
        table.move_cursor(row=next(r for r in range(table.row_count) if table.get_row_at(r)[0] == "Caller"))
        await pilot.press("b")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConvertBookDialog), what="the first booking")
        dialog = pilot.app.screen
        assert "Caller" in dialog.dialog_title
        assert dialog.query_one("#first-service", Select).value == dialog.services[0][0]  # what the caller wants
        dialog.query_one("#first-at", Input).value = f"{tomorrow} 11:00"
        dialog.action_confirm()

        def caller():
            with committed_db.session() as s:
                return s.execute(select(SalonLead.status, SalonAppointment.starts_at).join(
                    SalonAppointment, SalonAppointment.contact_id == SalonLead.contact_id).where(
                    SalonLead.name == "Caller")).one_or_none()
        await until(pilot, lambda: caller() is not None, what="the caller converted and booked")
        assert caller().status == "converted"
        assert caller().starts_at.astimezone(org.tz).replace(tzinfo=None) == datetime.combine(tomorrow, time(11))

        # The figures.
        await pilot.press("escape", "y")
        await until(pilot, lambda: isinstance(pilot.app.screen, AnalyticsScreen)
                    and "No-show rate" in str(pilot.app.screen.query_one("#figures", Static).content))
        figures = pilot.app.screen
        assert len(figures.query_one("#bookings-chart", BarChart).bars) == 12
        assert "console: 2 leads" in str(figures.query_one("#figures", Static).content)


async def test_inbox_shows_the_thread_and_sends_a_reply(committed_db, salon):
    org, _ = salon
    with committed_db.session() as s:
        record_inbound(s, org.id, "0722000333", "Do you do dreadlocks?")
        s.commit()
    async with OfisiApp(committed_db, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        await home(pilot)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(pilot.app.screen, InboxScreen) and rows(pilot.app.screen, "#thread") == 1)
        inbox = pilot.app.screen
        await pilot.press("enter")  # open the highlighted thread; the cursor goes to the reply box
        await until(pilot, lambda: inbox.query_one("#reply", Input).has_focus)
        inbox.query_one("#reply", Input).value = "Yes, Tuesday at 10?"
        await pilot.press("enter")
        await until(pilot, lambda: rows(inbox, "#thread") == 2, what="the reply in the thread")
        assert [str(c) for c in inbox.query_one("#thread", DataTable).get_row_at(1)[:3]] == [
            "→", "Yes, Tuesday at 10?", "queued"]
