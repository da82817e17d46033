"""The community manager's work in the console, driven as a person would: the member
directory (find, verify, suspend, merge with a code) and an event's life (fewer
places, admitting from the waitlist at the door, the attendance export, cancelling)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from textual.widgets import Input

from console.app import OfisiApp
from console.community import CheckInScreen, CommunityHomeScreen, DirectoryScreen, EditEventDialog
from console.community.reports import ReportsScreen
from console.widgets.chart import BarChart
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import OfisiTable
from core.community import events, members
from core.users import add_user
from db.types import utcnow
from tests.community_support import ACTOR, make_event, make_members, messages_to
from tests.test_console import PASSWORD, SIZE, home, sign_in, until


@pytest.fixture
def hub(request, backend, make_org):
    if backend != "sqlite":
        pytest.skip("the screens call the same services, which are tested on both backends; one shows the console")
    committed_db = request.getfixturevalue("committed_db")
    with committed_db.session() as s:
        org = make_org(s, "community", slug="hub", name="Hub Nairobi", country="KE")
        add_user(s, ACTOR, "manager@hub.example", org_id=org.id, role="admin", name="Manager", password=PASSWORD)
        people = make_members(s, org.id, 4)
        night = make_event(s, org.id, capacity=3, title="Pitch night", now=utcnow())
        for p in people:
            events.register(s, ACTOR, org.id, night.id, p.id)
        demo = make_event(s, org.id, capacity=10, title="Demo day", now=utcnow(), starts_in=timedelta(days=5))
        for p in people[:2]:
            events.register(s, ACTOR, org.id, demo.id, p.id)
    return committed_db, org, people, night, demo


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def answer(pilot, text: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the question")
    pilot.app.screen.query_one("#ask-text", Input).value = text
    await pilot.press("enter")


async def test_a_manager_finds_verifies_suspends_and_merges_members(hub):
    committed_db, org, people, _night, _demo = hub
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "manager@hub.example")
        screen = await home(pilot)
        assert isinstance(screen, CommunityHomeScreen)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, DirectoryScreen), what="the directory")
        directory = app.screen
        table = directory.query_one("#directory", OfisiTable)
        await until(pilot, lambda: table.row_count == 4, what="four members")
        table.focus()
        await pilot.press("slash")
        await until(pilot, lambda: app.screen.query("#table-filter"), what="the search line")
        app.screen.query_one("#table-filter", Input).value = "member 2"
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 1, what="one match")
        assert table.selected_id == people[2].id
        await pilot.press("v")
        await until(pilot, lambda: table.selected_row.cells[5] == "yes", what="verified")
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        assert "Member 2" in app.screen.dialog_title
        await answer(pilot, "Spamming members")
        await until(pilot, lambda: table.selected_row.cells[4] == "suspended", what="suspended")
        with committed_db.session() as s:
            page = members.member_page(s, ACTOR, org.id, people[2].id)
            assert page.status == "suspended" and page.account.primary.verified

        # Merge Member 1's account into Member 0's, proven by the code sent to Member 1's phone.
        await pilot.press("slash")
        await until(pilot, lambda: app.screen.query("#table-filter"), what="the search line")
        app.screen.query_one("#table-filter", Input).value = "member 0"
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 1 and table.selected_id == people[0].id, what="Member 0")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the address")
        assert "Member 0" in app.screen.dialog_title
        await answer(pilot, people[1].phone)
        await until(pilot, lambda: isinstance(app.screen, AskText) and "code" in str(
            app.screen.query_one("#ask-question").content), what="the code question")
        with committed_db.session() as s:
            code = re.search(r"\b\d{6}\b", messages_to(s, people[1].phone)[-1]).group(0)
        await answer(pilot, code)
        await until(pilot, lambda: any("merged into Member 0" in n for n in notices(app)), what="the merge")
        with committed_db.session() as s:
            assert members.count_members(s, ACTOR, org.id) == 3
            merged = members.member_page(s, ACTOR, org.id, people[0].id)
            assert sorted(p.display_name for p in merged.account.profiles) == ["Member 0", "Member 1"]


async def test_a_manager_shrinks_an_event_admits_at_the_door_exports_and_cancels(hub, tmp_path):
    committed_db, org, people, night, demo = hub
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "manager@hub.example")
        screen = await home(pilot)
        table = screen.query_one("#events", OfisiTable)
        await until(pilot, lambda: table.row_count == 2, what="the events")
        table.focus()
        assert table.move_to(night.id)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditEventDialog), what="the edit form")
        assert "Pitch night" in app.screen.dialog_title
        app.screen.query_one("#event-capacity", Input).value = "2"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: any("1 moved to the waitlist" in n for n in notices(app)), what="the change")
        with committed_db.session() as s:
            event = events.get_event(s, ACTOR, org.id, night.id)
            assert (event.capacity, event.registered, event.waitlisted) == (2, 2, 2)
        await until(pilot, lambda: table.selected_row.cells[2].shown == "2/2", what="the new count")

        # The door: a waitlisted person is admitted after a yes.
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CheckInScreen), what="the door")
        door = app.screen
        rows = door.query_one("#checkin-table", OfisiTable)
        await until(pilot, lambda: rows.row_count == 4, what="everyone")
        waiting = next(r for r in rows.shown_rows if r.cells[2] == "waitlisted")
        rows.focus()
        rows.move_to(waiting.id)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the admit question")
        assert waiting.data.name in app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: rows.selected_row.cells[2] == "attended", what="admitted")
        assert rows.selected_id == waiting.id
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="home again")

        # The attendance, to a file the manager names.
        target = tmp_path / "night.csv"
        table.focus()
        table.move_to(night.id)
        await pilot.press("t")
        await answer(pilot, str(target))
        await until(pilot, lambda: target.exists() and any("written to" in n for n in notices(app)), what="the file")
        text = target.read_text()
        assert waiting.data.name in text and "attended" in text

        # Cancelling asks first, naming how many are told.
        table.move_to(demo.id)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the cancel question")
        said = " ".join(str(s.content) for s in app.screen.query(".confirm-detail"))
        assert "Demo day" in app.screen.dialog_title and "2 people" in said
        await pilot.press("n")
        await pilot.pause(0.3)
        with committed_db.session() as s:
            assert events.get_event(s, ACTOR, org.id, demo.id).status == "scheduled"
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the cancel question")
        await pilot.press("y")
        await answer(pilot, "The venue flooded")
        await until(pilot, lambda: any("Demo day is cancelled; 2 people told" in n for n in notices(app)),
                    what="the cancellation")
        with committed_db.session() as s:
            assert events.get_event(s, ACTOR, org.id, demo.id).status == "cancelled"


async def test_moderation_suspends_from_the_queue_restores_and_the_inbox_replies(hub):
    from console.community import InboxScreen, ThreadDialog
    from console.community.people import RestoreDialog
    from core import inbound
    from core.community import inbox, social
    from core.orgs import set_sms_number

    committed_db, org, people, _night, _demo = hub
    with committed_db.session() as s:
        post = social.create_post(s, ACTOR, org.id, people[3].primary.id, body="Buy followers [cheap]")
        social.report_content(s, ACTOR, org.id, "post", post.id, "spam")
        set_sms_number(s, ACTOR, org.id, "22335")
        inbound.receive(s, provider="africastalking", provider_message_id="ATX-hub-1", from_phone=people[1].phone,
                        to="22335", text="Is there parking at the venue?")
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "manager@hub.example")
        screen = await home(pilot)
        reports = screen.query_one("#reports", OfisiTable)
        await until(pilot, lambda: reports.row_count == 1, what="the report")
        reports.focus()
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        assert "Member 3" in app.screen.dialog_title and "[cheap]" in app.screen.dialog_title
        await answer(pilot, "Spam")
        await until(pilot, lambda: reports.row_count == 0, what="the queue emptied")
        with committed_db.session() as s:
            assert members.member_page(s, ACTOR, org.id, people[3].id).status == "suspended"

        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, DirectoryScreen), what="the directory")
        table = app.screen.query_one("#directory", OfisiTable)
        await until(pilot, lambda: table.row_count == 4, what="the members")
        table.focus()
        table.move_to(people[3].id)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, RestoreDialog), what="the hidden posts")
        await pilot.press("enter")
        await until(pilot, lambda: any("shown again" in n for n in notices(app)), what="restored")
        with committed_db.session() as s:
            page = members.member_page(s, ACTOR, org.id, people[3].id)
            assert [p.hidden for p in page.posts if p.id == post.id] == [False]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="home")

        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), what="the inbox")
        threads = app.screen.query_one("#threads", OfisiTable)
        await until(pilot, lambda: threads.row_count == 1, what="the thread")
        threads.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadDialog), what="the thread")
        await until(pilot, lambda: "parking" in str(app.screen.query_one("#thread-messages").content),
                    what="the member's message")
        app.screen.query_one("#thread-reply", Input).value = "Yes, behind the hall."
        await pilot.press("enter")
        await until(pilot, lambda: any("Reply sent" in n for n in notices(app)), what="the reply")
        with committed_db.session() as s:
            [thread] = inbox.list_threads(s, ACTOR, org.id, status=None)
            _t, said = inbox.read_thread(s, ACTOR, org.id, thread.id)
        assert [m.direction for m in said][-1] == "out" and said[-1].body == "Yes, behind the hall."


async def test_the_reports_chart_growth_attendance_and_the_most_active(hub):
    committed_db, org, people, night, _demo = hub
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "manager@hub.example", PASSWORD)
        await home(pilot)
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen) and app.screen.title.startswith("Member"),
                    what="the growth report")
        screen = app.screen
        rows = screen.query_one("#report-rows", OfisiTable).records
        assert len(rows) == 12 and rows[-1].data[1:] == [len(people), len(people)]  # all four joined this month
        chart = screen.query_one("#report-chart", BarChart)
        assert chart.title == "Members who joined" and chart.bars[-1][1] == len(people)
        assert "Members who joined (members)" in chart.render().plain
        await pilot.press("3")
        await until(pilot, lambda: app.screen.title.startswith("Most active"), what="the most active members")
        active = app.screen.query_one("#report-rows", OfisiTable).records
        assert {r.data[1] for r in active} == {f"Member {i}" for i in range(len(people))}
        await pilot.press("2")
        await until(pilot, lambda: app.screen.title.startswith("Event attendance"), what="the attendance report")
        assert app.screen.query_one("#report-chart", BarChart).title == "No-show rate per event"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CommunityHomeScreen), what="home again")
