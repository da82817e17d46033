"""The console driven as a person would: sign in, switch org, watch changes arrive.

Every test runs the real app over a committed database (``committed_db``),
on SQLite and, when ``OFISI_TEST_DATABASE_URL`` is set, on PostgreSQL. The
app opens its own sessions; the tests seed and change data through the core
services, from other threads, as another process would.
"""

from __future__ import annotations

import asyncio

import logging

import pytest
from sqlalchemy import delete
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, OptionList, Static

from console.app import OfisiApp
from console.home.contact_form import AddContactScreen
from console.home import ChamaHome, HomeScreen, SalonHome
from console.shell.notices import NoticesPanel
from console.shell.org_switcher import OrgSwitcherScreen
from console.shell.remembered import last_email
from console.shell.sign_in import SignInScreen
from core.contacts import add_contact
from core.outbox import send_due, send_message
from core.providers.log import LogProvider
from core.users import add_user, remove_membership
from db.models import Membership
from tests.console_support import until  # noqa: F401  (other console tests import it from here)

PASSWORD = "correct horse 42"
SIZE = (140, 40)


# ---------------------------------------------------------------- helpers

@pytest.fixture
def salon(committed_db, make_org, cli_actor):
    """One salon with one owner who can sign in."""
    with committed_db.session() as session:
        org = make_org(session, "salon", slug="mama-njeri", name="Mama Njeri Salon")
        add_user(session, cli_actor, "wanjiku@example.com", org_id=org.id, role="owner",
                 name="Wanjiku", password=PASSWORD)
        add_contact(session, cli_actor, org.id, name="Akinyi Otieno", phone="0712 345 678")
    return org


async def type_into(pilot, selector: str, text: str) -> None:
    """Click into an input and type ``text`` (set at once: Pilot spends ~60 ms a key)."""
    await pilot.click(selector)
    widget = pilot.app.screen.query_one(selector, Input)
    assert widget.has_focus
    widget.value = text
    await pilot.pause()


async def sign_in(pilot, email: str, password: str = PASSWORD) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen), what="the sign-in screen")
    await type_into(pilot, "#email", email)
    await type_into(pilot, "#password", password)
    await pilot.click("#sign-in")


async def home(pilot) -> HomeScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen) and pilot.app.screen.loaded,
                timeout=10, what="a loaded home screen")
    return pilot.app.screen


def contact_names(screen: HomeScreen) -> list[str]:
    table = screen.query_one("#contacts", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


# ---------------------------------------------------------------- signing in

async def test_the_right_password_opens_the_org_home(committed_db, salon):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "Wanjiku@Example.com")
        screen = await home(pilot)
        assert isinstance(screen, SalonHome)
        assert screen.title == "Mama Njeri Salon"
        assert "Mama Njeri Salon" in static_text(screen, "#org-summary")
        assert "owner" in screen.sub_title
        assert contact_names(screen) == ["Akinyi Otieno"]
        assert static_text(screen, "#contact-count") == "Clients: 1"
        assert static_text(screen, "#message-counts") == "Messages: none yet"
    assert app._watcher_stopped.is_set(), "the change watcher outlived the app"


async def test_a_wrong_password_is_refused_on_the_sign_in_screen(committed_db, salon):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com", "not the password")
        screen = pilot.app.screen
        await until(pilot, lambda: static_text(screen, "#sign-in-error") != "", what="the refusal")
        assert isinstance(pilot.app.screen, SignInScreen)
        assert static_text(screen, "#sign-in-error") == "The email or password is wrong."
        assert screen.query_one("#password", Input).value == ""
        assert app.user is None


async def test_five_wrong_passwords_lock_the_account(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await sign_in(pilot, "wanjiku@example.com", "still wrong")
        for attempt in range(5):
            await until(pilot, lambda: not screen.query_one("#sign-in").disabled, what="the answer")
            # A refusal empties the password box and leaves the cursor in it.
            password = screen.query_one("#password", Input)
            assert password.has_focus and password.value == ""
            if attempt < 4:
                assert static_text(screen, "#sign-in-error") == "The email or password is wrong."
                password.value = "still wrong"
            else:
                assert "locked for 15 minutes" in static_text(screen, "#sign-in-error")
                password.value = PASSWORD  # even the right one waits out the lock
            await pilot.press("enter")
        await until(pilot, lambda: "more minute" in static_text(screen, "#sign-in-error"), what="the lockout")
        assert isinstance(pilot.app.screen, SignInScreen)


async def test_the_last_email_is_remembered_across_runs(committed_db, salon):
    assert last_email() == ""
    async with OfisiApp(committed_db, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "  WANJIKU@example.com ")
        await home(pilot)
    assert last_email() == "wanjiku@example.com"

    async with OfisiApp(committed_db, live_updates=False).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen))
        screen = pilot.app.screen
        assert screen.query_one("#email", Input).value == "wanjiku@example.com"
        assert screen.focused is screen.query_one("#password", Input)
        await pilot.press(*PASSWORD, "enter")
        await home(pilot)


async def test_staff_without_an_org_are_told_so_plainly(committed_db, salon):
    with committed_db.session() as session:
        session.execute(delete(Membership))
        session.commit()
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = pilot.app.screen
        await until(pilot, lambda: static_text(screen, "#sign-in-error") != "", what="the explanation")
        assert "not on the staff of any organisation" in static_text(screen, "#sign-in-error")
        assert isinstance(pilot.app.screen, SignInScreen) and app.user is None


# ---------------------------------------------------------------- switching org

async def test_staff_with_two_orgs_choose_one_and_switch_back(committed_db, make_org, cli_actor):
    with committed_db.session() as session:
        salon = make_org(session, "salon", slug="amani", name="Amani Salon")
        chama = make_org(session, "chama", slug="umoja", name="Umoja Chama")
        add_user(session, cli_actor, "njeri@example.com", org_id=salon.id, role="receptionist", password=PASSWORD)
        add_user(session, cli_actor, "njeri@example.com", org_id=chama.id, role="treasurer")
        add_contact(session, cli_actor, chama.id, name="Baraka Mwangi", phone="0722 000 111")

    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "njeri@example.com")
        await until(pilot, lambda: isinstance(pilot.app.screen, OrgSwitcherScreen), what="the org switcher")
        options = pilot.app.screen.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert lines[0].startswith("Amani Salon") and "receptionist" in lines[0]
        assert lines[1].startswith("Umoja Chama") and "treasurer" in lines[1] and "chama" in lines[1]
        await pilot.press("escape")  # no way back to a half-signed-in sign-in screen
        assert isinstance(pilot.app.screen, OrgSwitcherScreen)

        await pilot.press("down", "enter")
        screen = await home(pilot)
        assert isinstance(screen, ChamaHome)
        assert screen.title == "Umoja Chama"
        assert contact_names(screen) == ["Baraka Mwangi"]
        assert static_text(screen, "#contact-count") == "Members: 1"

        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, OrgSwitcherScreen), what="the switcher again")
        assert pilot.app.screen.query_one(OptionList).highlighted == 1  # the open org
        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, SalonHome) and pilot.app.screen.loaded)
        screen = pilot.app.screen
        assert screen.title == "Amani Salon"
        assert contact_names(screen) == []  # the chama's member is not the salon's client
        assert app.membership.org.id == salon.id


async def test_one_membership_has_no_switch_and_sign_out_returns_to_sign_in(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        await home(pilot)
        await pilot.press("ctrl+o")
        assert isinstance(pilot.app.screen, SalonHome)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen), what="the sign-in screen")
        assert app.user is None and app.membership is None
        assert pilot.app.screen.query_one("#email", Input).value == "wanjiku@example.com"


# ---------------------------------------------------------------- live updates

async def test_a_contact_added_elsewhere_appears_without_a_key_press(committed_db, salon, cli_actor):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        await pilot.pause(0.3)  # let the sign-in's own commit settle

        def elsewhere() -> None:
            with committed_db.session() as session:
                add_contact(session, cli_actor, salon.id, name="Chebet Kiprop", phone="+254 733 444 555")

        await asyncio.to_thread(elsewhere)
        # The promise is 2 s; the deadline leaves room for a loaded CI host.
        await until(pilot, lambda: "Chebet Kiprop" in contact_names(screen), timeout=3.5,
                    what="the new contact on screen")
        assert static_text(screen, "#contact-count") == "Clients: 2"


async def test_a_message_status_change_elsewhere_updates_the_counts(committed_db, salon, cli_actor):
    with committed_db.session() as session:
        send_message(session, cli_actor, salon.id, to="0712 345 678", body="Your appointment is at 10:00.")

    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        assert static_text(screen, "#message-counts") == "Messages: 1 queued"
        assert screen.query_one("#messages", DataTable).get_row_at(0)[2] == "queued"

        summary = await asyncio.to_thread(send_due, committed_db, {"sms": LogProvider()})
        assert summary.sent == 1
        await until(pilot, lambda: static_text(screen, "#message-counts") == "Messages: 1 sent", timeout=3.5,
                    what="the sent count")
        assert screen.query_one("#messages", DataTable).get_row_at(0)[2] == "sent"


async def test_changes_to_another_org_leave_the_open_one_alone(committed_db, salon, make_org, cli_actor, backend):
    with committed_db.session() as session:
        other = make_org(session, "chama", slug="other-chama", name="Other Chama")
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)

        def elsewhere() -> None:
            with committed_db.session() as session:
                add_contact(session, cli_actor, other.id, name="Not Here", phone="0711 222 333")

        await asyncio.to_thread(elsewhere)
        await pilot.pause(1.0)
        assert "Not Here" not in contact_names(screen)


async def test_losing_the_membership_while_open_is_said_as_a_notice(committed_db, salon, cli_actor):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        await home(pilot)

        def admin_removes_her() -> None:
            with committed_db.session() as session:
                remove_membership(session, cli_actor, "wanjiku@example.com", org_id=salon.id)

        await asyncio.to_thread(admin_removes_her)
        # No key press: the change notice makes the screen read again, and the core refuses.
        await until(pilot, lambda: any(n.text == "That organisation does not exist." for n in app.notices),
                    what="the refusal as a notice")
        assert all(n.severity == "error" for n in app.notices if "organisation" in n.text)


async def test_an_unexpected_error_is_logged_and_shown_briefly(committed_db, salon, monkeypatch, caplog):
    import console.home.screen

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at row 42")

    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        monkeypatch.setattr(console.home.screen, "home_data", broken)
        with caplog.at_level(logging.ERROR, logger="ofisi.console"):
            await pilot.press("r")
            await until(pilot, lambda: any("Something went wrong" in n.text for n in app.notices))
        notice = [n for n in app.notices if "Something went wrong" in n.text][-1]
        assert "disk on fire" not in notice.text and "Traceback" not in notice.text
        assert "disk on fire at row 42" in caplog.text
        assert app.is_running and app.screen is screen


# ---------------------------------------------------------------- palette, form, notices

async def test_the_command_palette_lists_the_screens_actions(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        await home(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app), what="the palette")

        def titles() -> set[str]:
            commands = app.screen.query_one(CommandList)
            return {commands.get_option_at_index(i).hit.text for i in range(commands.option_count)}

        await until(pilot, lambda: "Add contact" in titles(), what="the screen's actions")
        assert {"Add contact", "Refresh", "Notices", "Sign out", "Quit"} <= titles()
        assert "Switch org" not in titles()  # one membership: nothing to switch to

        await pilot.press(*"add contact")
        await until(pilot, lambda: titles() and "Add contact" in titles())
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AddContactScreen), what="the form from the palette")


async def test_the_add_contact_form_saves_and_refuses_a_bad_phone(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)  # the form itself must show the new row
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddContactScreen), what="the form")

        await type_into(pilot, "#contact-name", "Dorcas Wambui")
        await type_into(pilot, "#contact-phone", "12")
        await pilot.click("#save-contact")
        await until(pilot, lambda: any(n.severity == "error" for n in app.notices), what="the refusal")
        error = [n for n in app.notices if n.severity == "error"][-1]
        assert "not a valid phone number for KE" in error.text
        assert isinstance(app.screen, AddContactScreen)
        await until(pilot, lambda: not app.screen.query_one("#save-contact").disabled)

        await type_into(pilot, "#contact-phone", "0798 765 432")
        await type_into(pilot, "#contact-email", "dorcas@example.com")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and "Dorcas Wambui" in contact_names(screen),
                    what="the new contact in the table")
        table = screen.query_one("#contacts", DataTable)
        assert table.get_row_at(table.cursor_row)[0] == "Dorcas Wambui"
        assert table.get_row_at(table.cursor_row)[1] == "+254 798 765432"
        assert static_text(screen, "#contact-count") == "Clients: 2"


async def test_a_duplicate_phone_is_a_notice_and_escape_closes_the_form(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddContactScreen))
        await type_into(pilot, "#contact-name", "Someone Else")
        await type_into(pilot, "#contact-phone", "+254712345678")
        await pilot.click("#save-contact")
        await until(pilot, lambda: any("already has the number" in n.text for n in app.notices))
        await pilot.press("escape")
        assert app.screen is screen
        assert contact_names(screen) == ["Akinyi Otieno"]


async def test_the_notices_panel_lists_this_sessions_notices(committed_db, salon):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        panel = screen.query_one(NoticesPanel)
        assert not panel.display
        await pilot.press("ctrl+n")
        assert panel.display
        await until(pilot, lambda: any("Signed in as wanjiku@example.com" in line for line in panel.lines))
        app.notify("Lead [/] a [b]test[/b] notice", severity="warning")  # people's text, never markup
        await until(pilot, lambda: "warning  Lead [/] a [b]test[/b] notice" in panel.lines[0],
                    what="the newest notice on top")
        await pilot.press("ctrl+n")
        assert not panel.display


async def test_contacts_are_read_a_page_at_a_time(committed_db, salon, cli_actor):
    with committed_db.session() as session:
        for n in range(60):
            add_contact(session, cli_actor, salon.id, name=f"Client {n:02d}", phone=f"+2547{10000000 + n:08d}")
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "wanjiku@example.com")
        screen = await home(pilot)
        table = screen.query_one("#contacts", DataTable)
        assert table.row_count == 50
        assert screen.more_contacts
        assert "50 of 61" in str(screen.query_one("#contacts-title").content)
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 61, what="the second page")
        assert not screen.more_contacts
        assert len(set(contact_names(screen))) == 61
        await pilot.press("r")  # a refresh keeps what was read
        await pilot.pause(0.3)
        assert table.row_count == 61
