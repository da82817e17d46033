"""The chama office in the console, driven as the chair would: the pool at a glance,
approvals, recording a payment, members and statements, meetings, the share-out
preview, and an M-Pesa contribution arriving while the screen is open."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Input, SelectionList, Sparkline, Static, TextArea

from console.app import OfisiApp
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.chama import (
    AttendanceModal,
    ChamaOffice,
    MeetingsScreen,
    MembersScreen,
    MinutesModal,
    RecordPaymentModal,
    ShareoutModal,
    StatementModal,
)
from core.chama import ledger, loans, meetings
from tests.chama_support import ACTOR, chama_with_chair_login
from tests.test_console import PASSWORD, SIZE, home, sign_in, static_text, until


@pytest.fixture(autouse=True)
def one_backend(backend):
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on either backend; the core's tests cover both")


@pytest.fixture
def chama(committed_db, make_org):
    """A chama whose chair signs in to the console with a login linked to the chair member."""
    with committed_db.session() as session:
        group = chama_with_chair_login(session, make_org, extra_members=2, password=PASSWORD)
        loans.request_loan(session, ACTOR, group.id, group.members[0].id, 50_000, months=2, purpose="stock")
    return group


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def open_office(pilot) -> ChamaOffice:
    await sign_in(pilot, "chair@example.com")
    screen = await home(pilot)
    assert isinstance(screen, ChamaOffice)
    await until(pilot, lambda: "Pool" in static_text(screen, "#chama-position"), what="the pool panel")
    return screen


async def test_the_pool_chart_and_approval_queue_show_and_the_chair_approves(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_office(pilot)
        position = static_text(screen, "#chama-position")
        assert "Pool (cash at hand): KES 5,000" in position and "5 active members" in position
        assert screen.query_one("#contributions-chart", Sparkline).data[-1] == 500_000
        queue = screen.query_one("#loan-queue", DataTable)
        assert rows(queue) == [[f"{chama.members[0].name} ({chama.members[0].member_number})", "KES 500",
                                "2", "stock", "requested", "0 of 2"]]

        queue.focus()
        await pilot.press("v")  # asks first, naming the member and the amount; n leaves the loan as it was
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the approval question")
        assert "KES 500" in app.screen.dialog_title and chama.members[0].name in app.screen.dialog_title
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="home again")
        with committed_db.session() as session:
            [loan] = loans.list_loans(session, ACTOR, chama.id, status="requested")
            assert loan.approvals == []
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the approval question")
        await pilot.press("y")
        await until(pilot, lambda: queue.row_count and rows(queue)[0][5] == "1 of 2", what="one approval")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason box")
        await pilot.press("enter")  # an empty reason is not an answer: the box stays and says so
        await until(pilot, lambda: any("Escape to cancel" in n.message for n in app._notifications),
                    what="the empty-reason notice")
        assert isinstance(app.screen, AskText)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="home again")
        await pilot.press("v")  # the same official again: refused with the reason, as a notice
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the approval question")
        await pilot.press("y")
        await until(pilot, lambda: any("already" in n.message for n in app._notifications), what="the refusal")
        with committed_db.session() as session:
            [loan] = loans.list_loans(session, ACTOR, chama.id, status="requested")
            assert [a.name for a in loan.approvals] == [chama.chair.name]


async def test_recording_a_payment_updates_the_pool_and_a_missing_reference_is_refused(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_office(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, RecordPaymentModal), what="the payment form")
        form = app.screen
        form.query_one("#payment-member", Input).value = chama.members[1].member_number
        form.query_one("#payment-amount", Input).value = "1,250"
        form.record(chama.members[1].member_number, "1,250", "")
        await until(pilot, lambda: any("receipt or slip" in n.message for n in app._notifications),
                    what="the missing-reference notice")
        assert app.screen is form
        form.query_one("#payment-reference", Input).value = "BANK-77"
        await pilot.click("#save-payment")
        await until(pilot, lambda: app.screen is screen, what="the form closing")
        await until(pilot, lambda: "KES 6,250" in static_text(screen, "#chama-position"), what="the new pool")
        # app.notices keeps every notice of the session (a toast may have timed out on a slow machine).
        await until(pilot, lambda: any("KES 1,250 from" in n.text and "recorded as entry" in n.text
                                       for n in app.notices), what="the recorded notice")
        # The same slip again writes nothing, and the notice says so (not "recorded").
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, RecordPaymentModal), what="the payment form again")
        app.screen.record(chama.members[1].member_number, "1,250", "BANK-77")
        await until(pilot, lambda: any(n.text.startswith("Already recorded as entry") for n in app.notices),
                    what="the already-recorded notice")
        await until(pilot, lambda: app.screen is screen, what="the form closing")
        await pilot.pause(0.3)
        assert "KES 6,250" in static_text(screen, "#chama-position")


async def open_members(pilot) -> DataTable:
    """From the chama office: `b`, and the five members listed."""
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, MembersScreen), what="the members screen")
    members = pilot.app.screen.query_one("#members", DataTable)
    await until(pilot, lambda: members.row_count == 5, what="five members")
    return members


async def test_members_are_searched_and_a_statement_opens(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        members = await open_members(pilot)
        members.focus()
        await pilot.press("slash")
        await until(pilot, lambda: app.screen.query("#table-filter"), what="the search line")
        app.screen.query_one("#table-filter", Input).value = chama.members[1].name.split()[0]
        await pilot.press("enter")
        await until(pilot, lambda: members.row_count == 1, what="one match")
        assert rows(members)[0][1] == chama.members[1].name and rows(members)[0][5:7] == ["on", "KES 1,000"]
        members.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StatementModal), what="the statement")
        lines = app.screen.query_one("#statement-lines", DataTable)
        await until(pilot, lambda: lines.row_count >= 3, what="opening, the contribution, closing")
        assert any("contribution" in " ".join(r).lower() for r in rows(lines))


async def test_an_official_switches_a_members_sms_off_and_their_start_shows(committed_db, chama):
    from core import inbound
    from core.optouts import is_opted_out
    from core.orgs import set_sms_number

    member = chama.members[1]
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        members = await open_members(pilot)
        members.move_cursor(row=members.get_row_index(str(member.id)))
        await pilot.press("s")
        await until(pilot, lambda: members.get_cell(str(member.id), "sms") == "off", what="SMS off")
        with committed_db.session() as session:
            assert is_opted_out(session, chama.id, "sms", member.phone)
            set_sms_number(session, ACTOR, chama.id, "22334")
            inbound.receive(session, provider="africastalking", provider_message_id="ATX-start-1",
                            from_phone=member.phone, to="22334", text="START")
        await pilot.press("escape")
        members = await open_members(pilot)
        assert members.get_cell(str(member.id), "sms") == "on"  # the member's START, in the list


async def test_a_meeting_is_scheduled_and_attendance_taken(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, MeetingsScreen), what="the meetings screen")
        meetings_screen = app.screen
        await pilot.press("n")
        await until(pilot, lambda: app.screen is not meetings_screen, what="the schedule form")
        app.screen.save("2026-01-15 14:00", "Church hall", "Loans review")  # entered after it was held
        await until(pilot, lambda: app.screen is meetings_screen, what="the form closing")
        table = meetings_screen.query_one("#meetings", DataTable)
        await until(pilot, lambda: table.row_count == 1, what="the new meeting")
        assert rows(table)[0][:4] == ["Thu 15 Jan 2026 14:00", "Church hall", "Loans review", "scheduled"]

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AttendanceModal), what="the attendance list")
        ticks = app.screen.query_one("#attendance", SelectionList)
        ticks.select(chama.chair.id)
        ticks.select(chama.members[0].id)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is meetings_screen and rows(table)[0][4] == "2", what="2 present")
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, MinutesModal), what="the minutes")
        app.screen.query_one("#minutes", TextArea).text = "Loans review: two approved."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is meetings_screen and rows(table)[0][5] == "yes", what="minutes")

        await pilot.press("n")  # one still to come, then called off
        await until(pilot, lambda: app.screen is not meetings_screen, what="the schedule form")
        app.screen.save("2099-03-01 10:00", "[b]Chief's[/b] camp", "AGM")
        await until(pilot, lambda: app.screen is meetings_screen and table.row_count == 2, what="the second one")
        table.move_cursor(row=0)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        assert "[b]Chief's[/b] camp" in app.screen.dialog_title
        app.screen.query_one("#ask-text", Input).value = "the hall is taken"
        await pilot.press("enter")
        await until(pilot, lambda: rows(table)[0][3] == "cancelled", what="cancelled")
        with committed_db.session() as session:
            held, called_off = sorted(meetings.list_meetings(session, ACTOR, chama.id), key=lambda m: m.starts_at)
        assert {a.member_id for a in held.attendance if a.status == "present"} == {chama.chair.id, chama.members[0].id}
        assert (held.status, held.minutes, called_off.status) == ("held", "Loans review: two approved.", "cancelled")


async def test_the_shareout_preview_lists_every_member(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ShareoutModal), what="the preview")
        lines = app.screen.query_one("#shareout-lines", DataTable)
        await until(pilot, lambda: lines.row_count == 5, what="a line per member")
        assert "5 member(s) take part" in str(app.screen.query_one("#shareout-summary", Static).content)


async def test_a_contribution_from_mpesa_appears_without_a_key_press(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_office(pilot)
        await pilot.pause(0.3)

        def mpesa() -> None:
            with committed_db.session() as session:
                ledger.record_contribution(session, ACTOR, chama.id, chama.members[0].id, 70_000, source="mpesa",
                                           reference="QKX12345")

        await asyncio.to_thread(mpesa)
        await until(pilot, lambda: "KES 5,700" in static_text(screen, "#chama-position"), timeout=3.5,
                    what="the new pool")
