"""Agency staff's day in the console, start to end, as a person at the keyboard: add and edit a worker
and an employer, match, propose, place, record the fee, refund half after a dispute, see the board, the
report and the export agree, create a package, sell it (marked paid with a reference) and unlock a
contact. Every frame the console draws is read while this happens: no worker's number is on screen
before the unlock (except in the field where staff type it when adding her).

The journey takes about 60 s of CPU when every write reads every list again; each write now reads only
the lists it changed, and frames are read as they are drawn rather than on a timer."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import select
from textual.widgets import Input, Select

from console.agency import AgencyConsoleHome, PackagesScreen
from console.agency.disputes import DisputesScreen
from console.agency.forms import FormDialog
from console.agency.matching import MatchScreen
from console.agency.report import ReportScreen
from console.app import OfisiApp
from console.shell.audit import AuditScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import OfisiTable
from core.users import add_user
from db.models import Message
from tests.console_support import screen_text
from tests.fakes.daraja import fake_daraja  # noqa: F401  (fixture)
from tests.test_console import PASSWORD, home, sign_in, static_text, until

ACHIENG, NJERI = "+254712000101", "+254712000102"


def written(number: str) -> list[str]:
    """The ways a number can be shown (the screen's spaces taken out first)."""
    return [number, number[1:], "0" + number[4:], number[4:]]


@pytest.fixture
def pilot_agency(committed_db, make_org, cli_actor):
    with committed_db.session() as s:
        org = make_org(s, "agency", slug="pilot", name="Pilot Agency")
        add_user(s, cli_actor, "grace@pilot.example", org_id=org.id, role="admin", name="Grace", password=PASSWORD)
    return org


class Frames:
    """Every frame the console draws while the journey runs (each one it would send to the terminal),
    read as a person would see it, and every notice then showing."""

    def __init__(self, app) -> None:
        self.app, self.seen, self.drawn = app, set(), 0

    def _typing_a_number(self) -> bool:
        # The one place a number may show before an unlock: the add form, while staff type it in.
        screen = self.app.screen
        return isinstance(screen, FormDialog) and any(
            w.id == "field-phone" and w.value for w in screen.query(Input))

    def start(self) -> None:
        display = self.app._display

        def drawn(screen, update) -> None:
            display(screen, update)
            if update is not None and screen is self.app.screen and not self._typing_a_number():
                self.drawn += 1
                self.seen.add(screen_text(self.app).replace(" ", ""))
                self.seen.update(str(n.message).replace(" ", "") for n in self.app._notifications)
        self.app._display = drawn

    async def stop(self) -> set[str]:
        del self.app._display
        return self.seen


async def fill(pilot, values: dict[str, str]) -> None:
    """Type into the open form's fields (each scrolled into view and focused, as a person tabs to it)."""
    for key, text in values.items():
        field = pilot.app.screen.query_one(f"#field-{key}")
        field.focus()
        field.value = text
    await pilot.pause()


async def dialog(pilot, kind, what: str):
    await until(pilot, lambda: isinstance(pilot.app.screen, kind), what=what)
    return pilot.app.screen


async def test_a_day_at_the_agency_in_the_console(committed_db, pilot_agency, tmp_path):
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:  # the smallest terminal the console is made for
        await sign_in(pilot, "grace@pilot.example")
        screen = await home(pilot)
        assert isinstance(screen, AgencyConsoleHome)
        await until(pilot, lambda: screen.agency is not None, what="the agency data")
        frames = Frames(app)
        frames.start()
        workers, employers = screen.table("workers"), screen.table("employers")
        placements = screen.table("placements")

        # Two workers added, one edited and both verified.
        for name, number in (("Achieng Otieno", "0712000101"), ("Njeri Wanjiku", "0712000102")):
            workers.focus()
            await pilot.press("a")
            await dialog(pilot, FormDialog, "the worker form")
            await fill(pilot, {"name": name, "phone": number, "location": "Nairobi", "skills": "cooking",
                               "salary": "9000"})
            await pilot.press("enter")
            await until(pilot, lambda n=name: any(r.data.name == n for r in workers.records), what=name)
        workers.move_to(next(r.id for r in workers.records if r.data.name == "Achieng Otieno"))
        await pilot.press("w")
        form = await dialog(pilot, FormDialog, "the edit form")
        assert form.dialog_title == "Edit Achieng Otieno, +2547•••••101"
        await fill(pilot, {"skills": "cooking, childcare", "salary": "10,000"})
        await pilot.press("enter")
        await until(pilot, lambda: workers.selected_row.data.expected_salary_minor == 1_000_000, what="the edit")
        assert sorted(workers.selected_row.data.skills) == ["childcare", "cooking"]
        for name in ("Achieng Otieno", "Njeri Wanjiku"):
            workers.move_to(next(r.id for r in workers.records if r.data.name == name))
            await pilot.press("v")
            await until(pilot, lambda: workers.selected_row.data.verification_status == "verified", what="verified")

        # An employer added and edited.
        await pilot.press("2")
        await pilot.press("a")
        await dialog(pilot, FormDialog, "the employer form")
        await fill(pilot, {"name": "Joy Kamau", "phone": "0722000201", "household_name": "Kamau household"})
        await pilot.press("enter")
        await until(pilot, lambda: employers.row_count == 1, what="the employer")
        await pilot.press("w")
        await dialog(pilot, FormDialog, "the employer's edit form")
        await fill(pilot, {"location": "Nairobi", "requirements": "Childcare, live-in"})
        await pilot.press("enter")
        await until(pilot, lambda: employers.selected_row.data.location == "Nairobi", what="the employer's town")

        # Matched: Achieng has childcare; Enter on her proposes her with the fee.
        await pilot.press("t")
        await dialog(pilot, FormDialog, "the needs form")
        await fill(pilot, {"skills": "childcare", "salary_max": "12000"})
        await pilot.press("enter")
        matches = await dialog(pilot, MatchScreen, "the matches")
        table = matches.query_one(OfisiTable)
        await until(pilot, lambda: table.row_count == 2, what="two matches")
        assert table.selected_row.data.name == "Achieng Otieno"
        assert "has childcare" in static_text(matches, "#match-why")
        await pilot.press("enter")
        form = await dialog(pilot, FormDialog, "the fee form")
        assert form.dialog_title == "Propose Achieng Otieno, +2547•••••101 to Joy Kamau"
        await fill(pilot, {"fee": "8000"})
        await pilot.press("enter")
        await until(pilot, lambda: placements.row_count == 1, what="the proposal")

        # Placed (each step asked first), paid, disputed, and half refunded on resolving it.
        await pilot.press("3")
        for stage in ("interview", "placed"):
            await pilot.press("p")
            await dialog(pilot, Confirm, "the move's confirmation")
            await pilot.press("y")
            await until(pilot, lambda s=stage: placements.selected_row.data.status == s, what=stage)
        await pilot.press("f")
        await dialog(pilot, FormDialog, "the payment form")
        await fill(pilot, {"amount": "8000", "reference": "QFEE8000"})
        await pilot.press("enter")
        ask = await dialog(pilot, Confirm, "the payment's confirmation")
        assert ask.dialog_title == "Payment of KES 8,000 (fee): Achieng Otieno at Joy Kamau?"
        await pilot.press("y")
        await until(pilot, lambda: placements.selected_row.data.received_minor == 800_000, what="the payment")
        await pilot.press("i")
        await dialog(pilot, AskText, "the dispute")
        pilot.app.screen.query_one("#ask-text", Input).value = "Left after four days"
        await pilot.press("enter")
        await until(pilot, lambda: placements.selected_row.data.status == "disputed", what="disputed")
        # The disputes list has it open; n there resolves it.
        await pilot.press("z")
        disputes = (await dialog(pilot, DisputesScreen, "the disputes")).query_one(OfisiTable)
        await until(pilot, lambda: disputes.row_count == 1, what="the open dispute")
        assert [str(c) for c in disputes.get_row_at(0)][:4] == ["open", str(placements.selected_row.id),
                                                               "Achieng Otieno", "Joy Kamau"]
        await pilot.press("n")
        await dialog(pilot, FormDialog, "the resolution form")
        await fill(pilot, {"resolution": "Refunded half the fee", "refund": "4000", "reference": "QREF4000"})
        await pilot.press("enter")
        ask = await dialog(pilot, Confirm, "the resolution's confirmation")
        assert ask.dialog_title == ("Resolve the dispute of Achieng Otieno at Joy Kamau, refunding KES 4,000 "
                                    "to Joy Kamau?")
        await pilot.press("y")
        await until(pilot, lambda: str(disputes.get_row_at(0)[0]) == "resolved", what="the dispute resolved")
        assert [str(c) for c in disputes.get_row_at(0)][4:6] == ["KES 4,000", "KES 4,000"]  # refunded, waived
        await pilot.press("escape")
        await until(pilot, lambda: placements.selected_row.data.status == "placed", what="the placement goes on")

        # The board, the report and the export agree.
        x = placements.selected_row.data
        assert (x.received_minor, x.refunded_minor, x.waived_minor, x.owed_minor) == (800_000, 400_000, 400_000, 0)
        assert "1 placed" in static_text(screen, "#placement-board")
        assert static_text(screen, "#fees-owed") == "Fees and commission owed: KES 0"
        await pilot.press("y")
        report = await dialog(pilot, ReportScreen, "the report")
        await until(pilot, lambda: static_text(report, "#report-total").startswith("Total: 1 placed"),
                    what="the report's total")
        # The half given back is also waived from the fee: nothing more is owed for it.
        assert static_text(report, "#report-total") == ("Total: 1 placed, charged KES 8,000, received KES 8,000, "
                                                        "refunded KES 4,000, waived KES 4,000, owed KES 0.")
        await pilot.press("x")
        await dialog(pilot, AskText, "the export's file")
        target = tmp_path / "placements.csv"
        pilot.app.screen.query_one("#ask-text", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists, what="the export")
        await until(pilot, lambda: any("1 placement written" in str(n.message) for n in app._notifications),
                    what="the export's notice")
        [row] = list(csv.DictReader(target.open(encoding="utf-8")))
        assert (row["worker_name"], row["received"], row["refunded"], row["waived"], row["owed"]) == \
            ("Achieng Otieno", "8000.00", "4000.00", "4000.00", "0.00")
        await pilot.press("escape")

        # A package created, sold to Joy marked paid with its reference.
        await pilot.press("k")
        packages = await dialog(pilot, PackagesScreen, "the packages")
        await pilot.press("a")
        await dialog(pilot, FormDialog, "the package form")
        await fill(pilot, {"name": "Three contacts", "price": "1500", "contacts": "3"})
        await pilot.press("enter")
        await until(pilot, lambda: packages.query_one(OfisiTable).row_count == 1, what="the package")
        await pilot.press("escape")
        await pilot.press("2")
        await pilot.press("b")
        await dialog(pilot, FormDialog, "the sale")
        await fill(pilot, {"reference": "QPKG1500"})
        await pilot.press("enter")
        ask = await dialog(pilot, Confirm, "the sale's confirmation")
        assert ask.dialog_title == "Sell Three contacts to Joy Kamau for KES 1,500, paid?"
        await pilot.press("y")
        await until(pilot, lambda: employers.selected_row.data.credits_left == 3, what="three credits")

        # Njeri's number unlocked for Joy: shown now, and texted to her.
        await pilot.press("1")
        workers.move_to(next(r.id for r in workers.records if r.data.name == "Njeri Wanjiku"))
        await pilot.press("l")
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ChooseDialog", what="whose credit")
        assert pilot.app.screen.dialog_title == "Unlock Njeri Wanjiku, +2547•••••102"
        before = await frames.stop()
        await pilot.press("enter")
        shown = await dialog(pilot, Confirm, "the unlocked number")
        await until(pilot, lambda: NJERI in screen_text(app).replace(" ", ""), what="the number shown")
        assert shown.dialog_title == "Njeri Wanjiku's number, unlocked for Joy Kamau"
        assert "One credit used; Joy Kamau has 2 left." in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: queued_to(committed_db, NJERI[4:]) == "+254722000201", what="the SMS to Joy")

        # u is the audit log here as on every home: the unlock and the reveal are in it.
        await pilot.press("u")
        await dialog(pilot, AuditScreen, "the audit log")
        await until(pilot, lambda: "agency.reveal" in screen_text(app) and "agency.unlock" in screen_text(app),
                    what="the unlock and the reveal audited")

    assert frames.drawn > 100 and len(before) > 50, "the frames were not watched"
    for frame in before:
        for number in (ACHIENG, NJERI):
            assert not any(w in frame for w in written(number)), f"{number} shown before the unlock:\n{frame}"
    assert any("+2547•••••102" in frame for frame in before)


def queued_to(db, digits: str) -> str | None:
    """Who the SMS carrying ``digits`` (a worker's number) is queued to."""
    with db.session() as s:
        for to, body in s.execute(select(Message.to_address, Message.body)):
            if digits in body.replace(" ", ""):
                return to
    return None


async def test_an_employer_pays_for_a_package_by_mpesa_from_the_console(committed_db, pilot_agency, cli_actor,
                                                                         fake_daraja):
    from core import payments
    from core.agency.commerce import add_package
    from core.agency.employers import EmployerInput, add_employer

    with committed_db.session() as s:
        add_employer(s, cli_actor, pilot_agency.id, EmployerInput(name="Joy Kamau", phone="0722000201"))
        add_package(s, cli_actor, pilot_agency.id, name="Three contacts", price_minor=150_000, contacts_included=3)
    app = OfisiApp(committed_db, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "grace@pilot.example")
        screen = await home(pilot)
        await until(pilot, lambda: screen.agency is not None, what="the agency data")
        employers = screen.table("employers")
        await pilot.press("2")
        await until(pilot, lambda: employers.row_count == 1, what="Joy")

        async def sell() -> FormDialog:
            await pilot.press("b")
            return await dialog(pilot, FormDialog, "the sale")

        await sell()
        await fill(pilot, {"paid_by": "mpesa", "reference": ""})
        await pilot.press("enter")
        ask = await dialog(pilot, Confirm, "the prompt's confirmation")
        assert ask.dialog_title == "Ask Joy Kamau, +2547•••••201 to pay KES 1,500 for Three contacts by M-Pesa?"
        await pilot.press("y")
        await until(pilot, lambda: any("awaiting payment" in str(n.message) for n in app._notifications),
                    what="the prompt's notice")
        assert "+254722000201" not in " ".join(str(n.message) for n in app._notifications)

        # Until M-Pesa answers, the purchase awaits payment (offered first when selling to her again).
        form = await sell()
        package = form.query_one("#field-package", Select)
        assert dict((v, str(k)) for k, v in package._options)[package.value] == \
            "Awaiting payment: Three contacts, KES 1,500 (purchase 1)"
        await pilot.press("escape")
        assert employers.selected_row.data.credits_left == 0

        # The payment sender pushes the prompt; the employer pays; Daraja's callback (twice) credits her once.
        client = fake_daraja.client()
        assert payments.send_pending_payments(committed_db, client).sent == 1
        client.close()
        [checkout] = list(fake_daraja.pushes)
        assert fake_daraja.pushes[checkout].body["PhoneNumber"] == "254722000201"
        fake_daraja.complete(checkout, 0, post=False)
        payload = fake_daraja.callback_for(checkout, 0, receipt="SKPKG0001")
        for _ in range(2):
            with committed_db.session() as s:
                payments.record_stk_callback(s, payload, token_ok=True)
                s.commit()
        await pilot.press("r")
        await until(pilot, lambda: employers.selected_row.data.credits_left == 3, what="three credits")
