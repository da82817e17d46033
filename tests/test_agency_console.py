"""The agency home driven as agency staff would: filters, the check workflow, SMS on the
row under the cursor, adding people, packages sold and unlocks, and no full number shown."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import Select, TabbedContent

from console.agency import AgencyConsoleHome, PackagesScreen
from console.agency.forms import ChooseDialog, FormDialog
from console.app import OfisiApp
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import OfisiTable
from core.agency import placements
from core.users import add_user
from db.models import Message
from db.models_agency import AgencyEmployer, AgencyPurchase, AgencyUnlock, AgencyWorker
from tests.agency_support import ACTOR, employer, worker
from tests.console_support import screen_text, settle
from tests.fakes import phone
from tests.test_console import PASSWORD, SIZE, home, sign_in, static_text, type_into, until

# Eight workers; by name, the sixth is Peter Kiptoo (issue 12's worker).
NAMES = ["Agnes Achieng", "Brenda Bosibori", "Carol Chebet", "Diana Dzombo", "Esther Ekai", "Peter Kiptoo",
         "Ruth Rotich", "Susan Sang"]
PETER = "+254712345912"
CODE = "730914"


@pytest.fixture
def agency(committed_db, make_org, cli_actor):
    with committed_db.session() as s:
        org = make_org(s, "agency", slug="nyumbani", name="Nyumbani Agency")
        add_user(s, cli_actor, "agent@nyumbani.example", org_id=org.id, role="agent", name="Beatrice",
                 password=PASSWORD)
        add_user(s, cli_actor, "admin@nyumbani.example", org_id=org.id, role="admin", name="Grace",
                 password=PASSWORD)
        w1 = worker(s, org.id, 1, location="Nakuru", skills=["childcare"])
        worker(s, org.id, 2, location="Nairobi")
        e = employer(s, org.id)
        placements.add_placement(s, ACTOR, org.id, worker_id=w1.id, employer_id=e.id, fee_minor=500_000,
                                 commission_minor=100_000, status="placed")
        worker(s, org.id, 3, location="Nakuru", skills=["cooking"])
    return org


@pytest.fixture
def eight(committed_db, make_org, cli_actor):
    """An agency with eight workers (Peter Kiptoo sixth by name), an employer and a sign-in code in its outbox."""
    from core import outbox

    with committed_db.session() as s:
        org = make_org(s, "agency", slug="kazi", name="Kazi Agency")
        add_user(s, cli_actor, "agent@kazi.example", org_id=org.id, role="agent", name="Beatrice", password=PASSWORD)
        add_user(s, cli_actor, "admin@kazi.example", org_id=org.id, role="admin", name="Grace", password=PASSWORD)
        for i, name in enumerate(NAMES):
            worker(s, org.id, 10 + i, name=name, phone=PETER if name == "Peter Kiptoo" else phone(610 + i))
        employer(s, org.id)
        outbox.enqueue(s, org.id, to=PETER, body=f"Your Ofisi sign-in code is {CODE}", purpose="transactional",
                       secret=True)
        s.commit()
        numbers = set(s.scalars(select(AgencyWorker.contact_id)))
    return org


def cells(screen, name: str) -> list[list[str]]:
    table = screen.query_one(f"#agency-{name}", OfisiTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_home(pilot, email: str) -> AgencyConsoleHome:
    await sign_in(pilot, email)
    screen = await home(pilot)
    assert isinstance(screen, AgencyConsoleHome)
    await until(pilot, lambda: screen.agency is not None, what="the agency data")
    return screen


def queued_to(db, body: str) -> str | None:
    with db.session() as s:
        return s.scalar(select(Message.to_address).where(Message.body == body))


async def test_the_agency_home_filters_checks_and_sends_sms(committed_db, agency):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_home(pilot, "agent@nyumbani.example")
        # Placed workers are not offered; phones are masked.
        shown = cells(screen, "workers")
        assert sorted(r[0] for r in shown) == ["Worker 2", "Worker 3"]
        assert all("•" in r[1] and phone(502) not in r[1] for r in shown)
        assert "1 placed" in static_text(screen, "#placement-board")
        assert static_text(screen, "#fees-owed") == "Fees and commission owed: KES 6,000"

        await type_into(pilot, "#filter-location", "nakuru")
        await pilot.press("enter")
        await until(pilot, lambda: [r[0] for r in cells(screen, "workers")] == ["Worker 3"],
                    what="the filtered workers")

        screen.query_one("#agency-workers", OfisiTable).focus()
        await pilot.press("v")
        await until(pilot, lambda: cells(screen, "workers")[0][8] == "verified", what="verification")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the notes prompt")
        assert "Worker 3" in pilot.app.screen.dialog_title
        await type_into(pilot, "#ask-text", "Reference did not answer")
        await pilot.press("enter")
        await until(pilot, lambda: cells(screen, "workers") and cells(screen, "workers")[0][9] == "flagged",
                    what="the flagged check")

        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the SMS prompt")
        await type_into(pilot, "#ask-text", "Interview on Monday at 10")
        await pilot.press("enter")
        await until(pilot, lambda: queued_to(committed_db, "Interview on Monday at 10") == phone(503),
                    what="the queued SMS")
    with committed_db.session() as s:
        w3 = s.scalar(select(AgencyWorker).where(AgencyWorker.name == "Worker 3"))
        assert (w3.verification_status, w3.background_check, w3.background_notes) == \
            ("verified", "flagged", "Reference did not answer")


async def test_verify_and_sms_act_on_the_sixth_row_and_the_cursor_stays(committed_db, eight):
    """Issue 12: after v on row 6 the cursor jumped to row 0 and the next SMS went to row 0's worker."""
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_home(pilot, "agent@kazi.example")
        table = screen.query_one("#agency-workers", OfisiTable)
        await until(pilot, lambda: table.row_count == 8, what="eight workers")
        await pilot.click("#agency-workers", offset=(2, 0))  # the Name header: sort by name
        await until(pilot, lambda: [r[0] for r in cells(screen, "workers")] == NAMES, what="sorted by name")
        table.focus()
        table.move_cursor(row=0)
        for _ in range(5):
            await pilot.press("down")
        assert table.cursor_row == 5 and table.selected_row.data.name == "Peter Kiptoo"
        assert static_text(screen, "#worker-count") == "8 shown of 8"

        await pilot.press("v")
        await until(pilot, lambda: cells(screen, "workers")[5][8] == "verified", what="Peter verified")
        assert table.cursor_row == 5 and table.selected_row.data.name == "Peter Kiptoo"

        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the SMS dialog")
        assert pilot.app.screen.dialog_title == "SMS to Peter Kiptoo, +2547•••••912"
        await type_into(pilot, "#ask-text", "Interview on Monday")
        await pilot.press("enter")
        await until(pilot, lambda: queued_to(committed_db, "Interview on Monday") == PETER, what="the SMS to Peter")
        await settle(pilot)
        assert table.cursor_row == 5 and table.selected_row.data.name == "Peter Kiptoo"
    with committed_db.session() as s:
        verified = list(s.scalars(select(AgencyWorker.name).where(AgencyWorker.verification_status == "verified")))
    assert verified == ["Peter Kiptoo"]


async def test_staff_add_people_sell_a_package_and_unlock_a_number(committed_db, eight):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_home(pilot, "admin@kazi.example")
        # A package, from the packages screen.
        await pilot.press("k")
        await until(pilot, lambda: isinstance(pilot.app.screen, PackagesScreen), what="the packages")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the package form")
        await type_into(pilot, "#field-name", "Three contacts")
        await type_into(pilot, "#field-price", "1500")
        await type_into(pilot, "#field-contacts", "3")
        await pilot.press("enter")
        packages = pilot.app.screen.query_one("#agency-packages", OfisiTable)
        await until(pilot, lambda: packages.row_count == 1, what="the package listed")
        assert [str(c) for c in packages.get_row_at(0)][:4] == ["Three contacts", "KES 1,500", "3", "on sale"]
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the price form")
        await type_into(pilot, "#field-price", "1800")
        await pilot.press("enter")
        await until(pilot, lambda: str(packages.get_row_at(0)[1]) == "KES 1,800", what="the new price")
        await pilot.press("escape")

        # An employer, added on the Employers tab, then sold the package.
        screen.query_one(TabbedContent).active = "tab-employers"
        await pilot.pause()
        screen.query_one("#agency-employers", OfisiTable).focus()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the employer form")
        await type_into(pilot, "#field-name", "Wanjiru Kamau")
        await type_into(pilot, "#field-phone", "0722000111")
        await pilot.press("enter")
        employers = screen.query_one("#agency-employers", OfisiTable)
        await until(pilot, lambda: employers.row_count == 2, what="the new employer")
        employers.move_to(next(r.id for r in employers.records if r.data.name == "Wanjiru Kamau"))
        await pilot.press("b")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the sale form")
        assert pilot.app.screen.dialog_title.startswith("Sell a package to Wanjiru Kamau")
        await type_into(pilot, "#field-reference", "QK12AB34CD")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the sale's confirmation")
        assert pilot.app.screen.dialog_title == "Sell Three contacts to Wanjiru Kamau for KES 1,800, paid?"
        await pilot.press("y")

        def credits() -> int:
            with committed_db.session() as s:
                return sum(s.scalars(select(AgencyPurchase.credits_left)))
        await until(pilot, lambda: credits() == 3, what="three credits")
        await until(pilot, lambda: employers.selected_row.data.credits_left == 3, what="credits shown")
        assert employers.selected_row.data.name == "Wanjiru Kamau"

        # Unlock Peter for her: one credit.
        screen.query_one(TabbedContent).active = "tab-workers"
        await pilot.pause()
        workers = screen.query_one("#agency-workers", OfisiTable)
        workers.focus()
        workers.move_to(next(r.id for r in workers.records if r.data.name == "Peter Kiptoo"))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, ChooseDialog), what="the employer choice")
        assert pilot.app.screen.dialog_title == "Unlock Peter Kiptoo, +2547•••••912"
        pilot.app.screen.query_one(Select).value = str(next(
            r.id for r in employers.records if r.data.name == "Wanjiru Kamau"))
        await pilot.press("enter")
        await until(pilot, lambda: credits() == 2, what="one credit used")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm) and
                    PETER in screen_text(pilot.app).replace(" ", ""),
                    what="the unlocked number")
        await pilot.press("n")

        # A worker added from the Workers tab.
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the worker form")
        await type_into(pilot, "#field-name", "Zawadi Njeri")
        await type_into(pilot, "#field-phone", "0733000222")
        await type_into(pilot, "#field-salary", "12000")
        await pilot.press("enter")
        await until(pilot, lambda: any(r.data.name == "Zawadi Njeri" for r in workers.records), what="the new worker")
        assert "+254733000222" not in screen_text(pilot.app)

        # Edited: Enter on her row opens her form; she is available in two weeks now.
        workers.move_to(next(r.id for r in workers.records if r.data.name == "Zawadi Njeri"))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the edit form")
        assert pilot.app.screen.dialog_title == "Edit Zawadi Njeri, +2547•••••222"
        pilot.app.screen.query_one("#field-availability", Select).value = "two_weeks"
        await type_into(pilot, "#field-location", "Thika")
        await pilot.press("enter")
        await until(pilot, lambda: workers.selected_row.data.location == "Thika", what="the edited worker")
        assert workers.selected_row.data.availability == "two_weeks"
    with committed_db.session() as s:
        unlock = s.scalar(select(AgencyUnlock))
        wanjiru = s.scalar(select(AgencyEmployer).where(AgencyEmployer.name == "Wanjiru Kamau"))
        zawadi = s.scalar(select(AgencyWorker).where(AgencyWorker.name == "Zawadi Njeri"))
        assert unlock.employer_id == wanjiru.id and unlock.unlocked_by
        assert zawadi.expected_salary_minor == 1_200_000
        assert s.scalar(select(AgencyPurchase.reference)) == "QK12AB34CD"


async def test_a_placement_is_proposed_placed_paid_and_ended(committed_db, eight):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_home(pilot, "admin@kazi.example")
        workers = screen.query_one("#agency-workers", OfisiTable)
        workers.focus()
        workers.move_to(next(r.id for r in workers.records if r.data.name == "Ruth Rotich"))
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ChooseDialog), what="the employer choice")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the fee form")
        await type_into(pilot, "#field-fee", "5000")
        await pilot.press("enter")
        board = screen.query_one("#agency-placements", OfisiTable)
        await until(pilot, lambda: board.row_count == 1, what="the proposal")
        screen.query_one(TabbedContent).active = "tab-placements"
        await pilot.pause()
        board.focus()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the confirmation")
        await pilot.press("n")
        await pilot.pause(0.2)
        assert board.selected_row.data.status == "proposed"
        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the confirmation")
        assert "proposed → interview" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: board.selected_row.data.status == "interview", what="interview")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: board.selected_row.data.status == "placed", what="placed")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the payment form")
        await type_into(pilot, "#field-amount", "2000")
        await type_into(pilot, "#field-reference", "QK99ZZ")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the payment's confirmation")
        assert pilot.app.screen.dialog_title == "Payment of KES 2,000 (fee): Ruth Rotich at Employer 1?"
        await pilot.press("y")
        await until(pilot, lambda: board.selected_row.data.owed_minor == 300_000, what="KES 3,000 still owed")
        assert static_text(screen, "#fees-owed") == "Fees and commission owed: KES 3,000"
        await pilot.press("g")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the refund form")
        await type_into(pilot, "#field-amount", "1000")
        await type_into(pilot, "#field-reference", "REF-1")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the refund's confirmation")
        await pilot.press("y")
        await until(pilot, lambda: board.selected_row.data.refunded_minor == 100_000, what="the refund")

        # A dispute, resolved with half of what is left of the payment given back.
        await pilot.press("i")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the dispute notes")
        await type_into(pilot, "#ask-text", "Left after a week")
        await pilot.press("enter")
        await until(pilot, lambda: board.selected_row.data.status == "disputed", what="disputed")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the resolution form")
        assert "Left after a week" in screen_text(pilot.app)
        await type_into(pilot, "#field-resolution", "Refunded half")
        await type_into(pilot, "#field-refund", "500")
        await type_into(pilot, "#field-reference", "REF-2")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the resolution's confirmation")
        assert "refunding KES 500 to Employer 1" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: board.selected_row.data.status == "placed" and
                    board.selected_row.data.refunded_minor == 150_000, what="the resolved dispute")


async def _walk(pilot, db, email: str) -> list[str]:
    """Every agency pane and dialog a person can open, as shown."""
    screen = await open_home(pilot, email)
    texts = [screen_text(pilot.app)]
    # Each tab's own keys there; the screens that look the same from every tab (report, audit log,
    # inbox, subscriptions) once, from the last.
    keys = {"tab-workers": ("s", "l", "o", "question_mark"), "tab-employers": ("s", "t", "question_mark"),
            "tab-placements": ("s", "question_mark"), "tab-unlocks": ("y", "u", "h", "j", "question_mark")}
    for tab, tab_keys in keys.items():
        screen.query_one(TabbedContent).active = tab
        await settle(pilot)
        texts.append(screen_text(pilot.app))
        for key in tab_keys:
            await pilot.press(key)
            await settle(pilot)
            texts.append(screen_text(pilot.app))
            for _ in range(3):
                if pilot.app.screen is screen:
                    break
                await pilot.press("escape")
                await pilot.pause(0.05)
    await pilot.press("k")
    await pilot.pause(0.2)
    texts.append(screen_text(pilot.app))
    await pilot.press("escape")
    return texts


@pytest.mark.parametrize("email", ["agent@kazi.example", "admin@kazi.example"])
async def test_no_agency_pane_shows_a_workers_full_number_or_a_code(committed_db, eight, email):
    with committed_db.session() as s:
        from db.models import Contact

        numbers = set(s.scalars(select(Contact.phone).join(AgencyWorker, AgencyWorker.contact_id == Contact.id)))
    assert PETER in numbers and len(numbers) == 8
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(160, 48)) as pilot:
        texts = await _walk(pilot, committed_db, email)
    everything = "\n".join(texts).replace(" ", "")
    assert "Peter" in everything and "+2547•••••912" in everything
    assert CODE not in everything
    for number in numbers:
        for form in (number, number[1:], "0" + number[4:], number[4:]):
            assert form not in everything, f"{email}: a worker's full number {number} is shown"


def _rows_seen(screen, selector: str) -> int:
    table = screen.query_one(selector)
    seen = table.region.intersection(screen.region)
    return min(table.row_count, max(seen.height - 1, 0))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_agency_home_shows_five_workers_and_its_keys_at_each_size(committed_db, eight, size):
    from textual.widgets import Footer

    from console.widgets.help import KeysHelp

    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_home(pilot, "agent@kazi.example")
        await until(pilot, lambda: _rows_seen(screen, "#agency-workers") >= 5, what=f"five workers at {size}")
        footer = screen.query_one(Footer)
        assert footer.region.bottom == size[1]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysHelp), what="the keys")
        keys = {k.does: k.key for k in app.screen.keys}
        assert {"Verify", "SMS", "Unlock", "Edit", "Packages", "Add", "Report", "Audit log"} <= set(keys)
        assert (keys["Unlock"], keys["Audit log"]) == ("l", "u")


async def test_a_proposed_worker_is_invited_and_her_text_is_answered_from_the_inbox(committed_db, agency):
    from console.agency.inbox import InboxScreen
    from core.agency import inbox

    with committed_db.session() as s:
        w2 = s.scalar(select(AgencyWorker).where(AgencyWorker.name == "Worker 2"))
        e = s.scalar(select(AgencyEmployer))
        placements.add_placement(s, ACTOR, agency.id, worker_id=w2.id, employer_id=e.id, fee_minor=500_000)
        inbox.record_inbound(s, agency.id, phone(502), "Can I bring my daughter?", inbound_id=None)
        s.commit()
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_home(pilot, "agent@nyumbani.example")
        await pilot.press("3")
        board = screen.table("placements")
        board.move_to(next(r.id for r in board.records if r.data.status == "proposed"))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the invitation's confirmation")
        assert pilot.app.screen.dialog_title == "Text Worker 2 that Employer 1 is interested?"
        await pilot.press("y")
        await until(pilot, lambda: queued_to_like(committed_db, "is interested in you") == phone(502),
                    what="the invitation")

        await pilot.press("h")
        await until(pilot, lambda: isinstance(pilot.app.screen, InboxScreen), what="the inbox")
        threads = pilot.app.screen.query_one(OfisiTable)
        await until(pilot, lambda: threads.row_count == 1, what="her conversation")
        assert [str(c) for c in threads.get_row_at(0)][:2] == ["worker Worker 2", "+2547•••••502"]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the conversation")
        text = screen_text(pilot.app)
        assert "they: Can I bring my daughter?" in text and "we: Nyumbani Agency: an employer" in text
        assert phone(502) not in text.replace(" ", "")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, AskText), what="the reply")
        pilot.app.screen.query_one("#ask-text").value = "Yes, we will ask the family"
        await pilot.press("enter")
        await until(pilot, lambda: queued_to(committed_db, "Yes, we will ask the family") == phone(502),
                    what="the reply queued")


def queued_to_like(db, words: str) -> str | None:
    with db.session() as s:
        return s.scalar(select(Message.to_address).where(Message.body.contains(words)))


async def test_a_purchase_awaiting_payment_is_marked_paid_from_the_employers_row(committed_db, agency):
    from core.agency import commerce

    with committed_db.session() as s:
        e = s.scalar(select(AgencyEmployer))
        package = commerce.add_package(s, ACTOR, agency.id, name="Three contacts", price_minor=150_000,
                                       contacts_included=3)
        waiting = commerce.buy_package(s, ACTOR, agency.id, employer_id=e.id, package_id=package.id)
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_home(pilot, "admin@nyumbani.example")
        await pilot.press("2")
        await pilot.press("b")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what="the sale form")
        assert pilot.app.screen.query_one("#field-package", Select).value == f"purchase-{waiting.id}"
        reference = pilot.app.screen.query_one("#field-reference")
        reference.focus()
        reference.value = "QPEND123"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the confirmation")
        assert pilot.app.screen.dialog_title == "Mark Three contacts for Employer 1, KES 1,500, paid?"
        await pilot.press("y")
        employers = screen.table("employers")
        await until(pilot, lambda: employers.selected_row.data.credits_left == 3, what="three credits")
    with committed_db.session() as s:
        assert [(p.status, p.reference) for p in s.scalars(select(AgencyPurchase))] == [("completed", "QPEND123")]


async def test_the_agencys_subscription_and_payments_to_the_platform(committed_db, agency):
    from console.agency.subscriptions import SubscriptionsScreen

    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_home(pilot, "admin@nyumbani.example")
        await pilot.press("j")
        await until(pilot, lambda: isinstance(pilot.app.screen, SubscriptionsScreen), what="the account")
        account = pilot.app.screen
        subscriptions = account.query_one("#agency-subscriptions", OfisiTable)

        async def form(key: str, values: dict[str, str]) -> None:
            await pilot.press(key)
            await until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), what=f"the form of {key}")
            for name, text in values.items():
                field = pilot.app.screen.query_one(f"#field-{name}")
                field.focus()
                field.value = text
            await pilot.press("enter")

        await form("a", {"tier": "Pro", "fee": "3,000", "start": "1 Jan"})
        await until(pilot, lambda: any("“1 Jan” is not a date" in str(n.message) for n in app._notifications),
                    what="the refusal")
        await form("a", {"tier": "Pro", "fee": "3,000", "start": "2026-01-01"})
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the confirmation")
        assert pilot.app.screen.dialog_title == "Add the Pro subscription at KES 3,000 a month?"
        await pilot.press("y")
        await until(pilot, lambda: subscriptions.row_count == 1, what="the subscription")
        await form("p", {"amount": "3000", "reference": "QSUB0001"})
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the payment's confirmation")
        assert pilot.app.screen.dialog_title == "Record a payment of KES 3,000 (subscription) to the platform?"
        await pilot.press("y")
        payments = account.query_one("#agency-platform-payments", OfisiTable)
        await until(pilot, lambda: payments.row_count == 1, what="the payment")
        subscriptions.focus()
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the cancellation")
        await pilot.press("y")
        await until(pilot, lambda: subscriptions.selected_row.data.status == "cancelled", what="cancelled")
        assert [str(c) for c in payments.get_row_at(0)][1:] == ["subscription", "KES 3,000", "completed", "QSUB0001"]


async def test_a_worker_imported_as_unavailable_is_left_out_until_asked_for(committed_db, agency, tmp_path,
                                                                             monkeypatch):
    from tests.cli_support import InProcessCli

    sheet = tmp_path / "workers.csv"
    sheet.write_text("name,phone,location,availability\n"
                     "Wanjiru Kamau,0712000111,Nairobi,immediate\n"
                     "Akinyi Odhiambo,0712000112,Nairobi,unavailable\n", encoding="utf-8")
    done = InProcessCli(committed_db.url, monkeypatch)("import", "workers", str(sheet), "--org", "nyumbani")
    assert done.returncode == 0, done.stderr
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_home(pilot, "agent@nyumbani.example")
        # The default list (and its count of those shown) leaves the unavailable worker out ...
        assert sorted(r[0] for r in cells(screen, "workers")) == ["Wanjiru Kamau", "Worker 2", "Worker 3"]
        # ... until staff ask for the unavailable ones.
        screen.query_one("#filter-availability", Select).value = "unavailable"
        await until(pilot, lambda: [r[0] for r in cells(screen, "workers")] == ["Akinyi Odhiambo"],
                    what="the unavailable worker")
        assert cells(screen, "workers")[0][7] == "unavailable"
