"""The officials' tasks in the chama console, driven as the chair would: each acts on
the member or loan under the cursor, names them in its dialog, asks before money
leaves the pool, and calls the same core service as the CLI; and the audit log."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from console.app import OfisiApp
from console.chama import MemberForm, MembersScreen, MoneyForm, ShareoutModal
from console.shell.audit import AUDIT_PAGE, AuditScreen, FilterDialog
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import OfisiTable
from core import audit
from core.chama import fines, ledger, loans, payouts, statements
from core.chama import members as members_mod
from core.chama.members import list_members
from tests.chama_support import ACTOR, approved_loan, chama_with_chair_login
from tests.test_console import PASSWORD, SIZE, until
from tests.test_console_chama import open_office


@pytest.fixture(autouse=True)
def one_backend(backend):
    if backend != "sqlite":
        pytest.skip("the screens call the same core services on either backend; the core's tests cover both")


@pytest.fixture
def chama(committed_db, make_org):
    """Eight members, each with KES 1,000 saved; the chair signs in."""
    with committed_db.session() as session:
        group = chama_with_chair_login(session, make_org, extra_members=5, password=PASSWORD)
    return group


async def open_members(pilot, count: int = 8) -> OfisiTable:
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, MembersScreen), what="the members screen")
    table = pilot.app.screen.query_one("#members", OfisiTable)
    await until(pilot, lambda: table.row_count == count, what="the members")
    return table


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_fine_on_the_sixth_row_fines_the_sixth_member_and_the_cursor_stays(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        table = await open_members(pilot)
        sixth = table.shown_rows[5].data[0]
        table.focus()
        for _ in range(5):
            await pilot.press("down")
        assert table.cursor_row == 5
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, MoneyForm), what="the fine form")
        assert sixth.name in app.screen.dialog_title and sixth.member_number in app.screen.dialog_title
        app.screen.query_one("#money-amount", Input).value = "150"
        app.screen.query_one("#money-text", Input).value = "late to the meeting"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: any("fined KES 150" in n for n in notices(app)), what="the fine notice")
        await until(pilot, lambda: table.shown_rows[5].cells[8].shown == "KES 150", what="the fines cell")
        assert table.cursor_row == 5 and table.selected_id == sixth.id
        with committed_db.session() as session:
            owed = {m.id: ledger.member_balances(session, ACTOR, chama.id, m.id).fines_owed_minor
                    for m in chama.everyone}
        assert owed == {m.id: 15_000 if m.id == sixth.id else 0 for m in chama.everyone}


async def test_a_member_is_added_edited_and_exits_after_a_yes(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        table = await open_members(pilot)
        table.focus()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), what="the add form")
        for key, value in (("name", "Zawadi Otieno"), ("phone", "0712 345 999"), ("number", "42")):
            app.screen.query_one(f"#member-{key}", Input).value = value
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: table.row_count == 9, what="the new member")
        table.move_to(chama.members[1].id)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), what="the edit form")
        assert chama.members[1].name in app.screen.dialog_title
        app.screen.query_one("#member-role", Input).value = "secretary"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: table.selected_row.cells[3] == "secretary", what="the new role")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the exit question")
        assert chama.members[1].name in app.screen.dialog_title
        said = " ".join(str(s.content) for s in app.screen.query(".confirm-detail"))
        assert "Savings KES 1,000" in said and "paid to her KES 1,000" in said
        await pilot.press("n")
        await pilot.pause(0.3)
        with committed_db.session() as session:
            found = {m.name: m for m in list_members(session, ACTOR, chama.id)}
            assert payouts.list_payouts(session, ACTOR, chama.id) == []
        assert found["Zawadi Otieno"].member_number == "42"
        assert found[chama.members[1].name].role == "secretary" and found[chama.members[1].name].status == "active"
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the exit question")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        app.screen.query_one("#ask-text", Input).value = "moved to Mombasa"
        await pilot.press("enter")
        await until(pilot, lambda: any("exit settlement of KES 1,000" in n for n in notices(app)), what="the request")
        assert table.selected_id == chama.members[1].id
        with committed_db.session() as session:
            [payout] = payouts.list_payouts(session, ACTOR, chama.id)
        assert (payout.kind, payout.amount_minor, payout.member_id) == ("exit", 100_000, chama.members[1].id)


async def test_a_loan_is_rejected_with_a_reason_another_disbursed_after_a_yes_and_a_repayment_recorded(committed_db, chama):
    member = chama.members[0]
    with committed_db.session() as session:
        loan = approved_loan(session, chama, member, 50_000, months=2)
        asked = loans.request_loan(session, ACTOR, chama.id, chama.members[1].id, 90_000, months=3, purpose="party")
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        office = await open_office(pilot)
        queue = office.query_one("#loan-queue", OfisiTable)
        await until(pilot, lambda: queue.row_count == 2, what="the loans waiting")
        queue.focus()
        queue.move_to(asked.id)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        assert "KES 900" in app.screen.dialog_title and chama.members[1].name in app.screen.dialog_title
        app.screen.query_one("#ask-text", Input).value = "not what loans are for"
        await pilot.press("enter")
        await until(pilot, lambda: queue.row_count == 1, what="the rejected loan leaving the queue")
        with committed_db.session() as session:
            rejected = loans.get_loan(session, ACTOR, chama.id, asked.id)
        assert (rejected.status, rejected.rejection_reason) == ("rejected", "not what loans are for")
        queue.move_to(loan.id)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the disbursement question")
        assert "KES 500" in app.screen.dialog_title and member.name in app.screen.dialog_title
        await pilot.press("n")
        await pilot.pause(0.3)
        with committed_db.session() as session:
            assert loans.get_loan(session, ACTOR, chama.id, loan.id).status == "approved"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the disbursement question")
        await pilot.press("y")
        await until(pilot, lambda: queue.row_count == 0, what="the loan leaving the queue")
        with committed_db.session() as session:
            assert loans.get_loan(session, ACTOR, chama.id, loan.id).status == "disbursed"

        table = await open_members(pilot)
        table.move_to(member.id)
        table.focus()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, MoneyForm), what="the repayment form")
        assert member.name in app.screen.dialog_title
        app.screen.query_one("#money-amount", Input).value = "200"
        app.screen.query_one("#money-text", Input).value = "SLIP-9"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: any("Repayment of KES 200" in n for n in notices(app)), what="the repayment")
        with committed_db.session() as session:
            assert ledger.member_balances(session, ACTOR, chama.id, member.id).loan_outstanding_minor < 50_000


async def test_the_shareout_is_committed_only_after_a_yes_naming_the_total_and_count(committed_db, chama):
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ShareoutModal), what="the preview")
        modal = app.screen
        await until(pilot, lambda: modal.query_one("#shareout-lines", OfisiTable).row_count == 8, what="8 lines")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the commit question")
        said = " ".join(str(s.content) for s in app.screen.query(".confirm-detail"))
        assert "KES 8,000" in said and "8 member(s)" in said
        await pilot.press("n")
        await until(pilot, lambda: app.screen is modal, what="the preview again")
        with committed_db.session() as session:
            assert statements.chama_position(session, ACTOR, chama.id).pool_minor == 800_000
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the commit question")
        await pilot.press("y")
        await until(pilot, lambda: any("committed" in n for n in notices(app)), what="the commit notice")
        with committed_db.session() as session:
            assert statements.chama_position(session, ACTOR, chama.id).pool_minor == 0
            balances = ledger.balances_of_members(session, ACTOR, chama.id, [m.id for m in chama.everyone])
        assert {b.savings_minor for b in balances.values()} == {0}


async def test_the_audit_log_pages_through_the_core_and_filters(committed_db, chama):
    with committed_db.session() as session:
        for i in range(AUDIT_PAGE + 5):
            ledger.record_contribution(session, ACTOR, chama.id, chama.members[0].id, 1_000, source="cash",
                                       reference=f"A-{i}")
        total = len(audit.list_entries(session, ACTOR, chama.id, limit=500))
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, AuditScreen), what="the audit log")
        table = app.screen.query_one("#audit", OfisiTable)
        await until(pilot, lambda: table.row_count == AUDIT_PAGE, what="the first page")
        table.focus()
        table.move_cursor(row=AUDIT_PAGE - 1)
        await until(pilot, lambda: table.row_count == min(total, 2 * AUDIT_PAGE), what="the second page")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FilterDialog), what="the filter")
        app.screen.query_one("#audit-what", Input).value = "chama.member.add"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: table.row_count == 8, what="the member additions only")
        assert {row.cells[2] for row in table.shown_rows} == {"chama.member.add"}


async def test_a_payout_is_requested_approved_and_paid_and_an_entry_opened_and_reversed(committed_db, chama):
    from console.chama import LedgerScreen, PayoutsScreen
    from console.chama.ledger import EntryDialog
    from console.chama.payouts import PayoutForm

    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        office = await open_office(pilot)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, PayoutsScreen), what="the payouts")
        screen = app.screen
        table = screen.query_one("#payouts", OfisiTable)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PayoutForm), what="the payout form")
        for key, value in (("to", "Mama Mboga"), ("amount", "300"), ("purpose", "welfare")):
            app.screen.query_one(f"#payout-{key}", Input).value = value
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: table.row_count == 1, what="the request")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the approval question")
        assert "KES 300" in app.screen.dialog_title and "Mama Mboga" in app.screen.dialog_title
        await pilot.press("y")  # the chair asked for it, so the other officials check it: refused, with the reason
        await until(pilot, lambda: any("other officials must check it" in n for n in notices(app)), what="refusal")
        with committed_db.session() as session:
            [payout] = payouts.list_payouts(session, ACTOR, chama.id)
            assert payout.approvals == []
            for official in (chama.treasurer, chama.secretary)[: payout.approvals_required]:
                payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=official.id)
        screen.load()
        await until(pilot, lambda: table.selected_row.cells[4] == "approved", what="approved")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the pay question")
        await pilot.press("y")
        await until(pilot, lambda: table.selected_row.cells[4] == "paid", what="paid")
        with committed_db.session() as session:  # the treasurer asks for two more; the chair decides here
            welfare, party = (payouts.request_payout(session, ACTOR, chama.id, 10_000, purpose=purpose,
                                                     payee="[b]Mama[/b] Njeri", by_member_id=chama.treasurer.id)
                              for purpose in ("welfare", "party"))
        screen.load()
        await until(pilot, lambda: table.row_count == 3, what="the new requests")
        table.move_to(welfare.id)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the approval question")
        await pilot.press("y")
        await until(pilot, lambda: any(f"Payout {welfare.id} to [b]Mama[/b] Njeri: requested" in n
                                       for n in notices(app)), what="the approval")
        table.move_to(party.id)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        app.screen.query_one("#ask-text", Input).value = "not a chama cost"
        await pilot.press("enter")
        await until(pilot, lambda: table.selected_row.cells[4] == "rejected", what="rejected")
        with committed_db.session() as session:
            approved = payouts.get_payout(session, ACTOR, chama.id, welfare.id)
            rejected = payouts.get_payout(session, ACTOR, chama.id, party.id)
        assert [a.name for a in approved.approvals] == [chama.chair.name]
        assert (rejected.status, rejected.rejection_reason) == ("rejected", "not a chama cost")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is office, what="home")
        with committed_db.session() as session:
            assert statements.chama_position(session, ACTOR, chama.id).pool_minor == 800_000 - 30_000

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LedgerScreen), what="the ledger")
        entries = app.screen.query_one("#entries", OfisiTable)
        await until(pilot, lambda: entries.row_count >= 9, what="the entries")
        first = min(entries.records, key=lambda r: r.id)  # a member's contribution
        await pilot.press("g")  # by the Ref on her SMS receipt
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the entry number")
        app.screen.query_one("#ask-text", Input).value = f"#{first.id}"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EntryDialog), what="the entry")
        shown = {r.cells[0]: r.cells[1] for r in app.screen.query_one("#entry-lines", OfisiTable).records}
        assert f"Entry {first.id}" in app.screen.dialog_title
        assert (shown["amount"], shown["savings"], shown["the pool"], shown["reference"]) == (
            "KES 1,000", "+KES 1,000", "+KES 1,000", "R-0")
        assert chama.chair.name in shown["member"]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LedgerScreen), what="the ledger again")
        assert entries.selected_id == first.id
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the reason")
        assert f"entry {first.id}" in app.screen.dialog_title.lower()
        app.screen.query_one("#ask-text", Input).value = "recorded twice"
        await pilot.press("enter")
        await until(pilot, lambda: entries.selected_row and entries.selected_row.id == first.id
                    and entries.selected_row.cells[6].startswith("by"), what="reversed")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is office, what="home")

async def test_mpesa_payments_kept_for_review_are_settled_from_the_console(committed_db, chama):
    from console.chama import MpesaReviewScreen
    from core.payments.staff import get_payment
    from db.models_payments import PaymentRequest
    from tests.payments_support import awaiting, credits

    with committed_db.session() as session:
        first = awaiting(session, chama.id, checkout="ws_CO_r1")
        second = awaiting(session, chama.id, checkout="ws_CO_r2")
        for payment_id in (first, second):
            session.get(PaymentRequest, payment_id).status = "review"
        session.commit()
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, MpesaReviewScreen), what="the review list")
        table = app.screen.query_one("#review", OfisiTable)
        await until(pilot, lambda: table.row_count == 2, what="two payments")
        table.focus()
        table.move_to(first)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the receipt")
        assert f"payment {first}: KES 1,500" in app.screen.dialog_title
        app.screen.query_one("#ask-text", Input).value = "skl1abc2de"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AskText) and "Amount paid" in str(
            app.screen.query_one("#ask-question").content), what="the amount")
        assert app.screen.query_one("#ask-text", Input).value == "KES 1,500"
        app.screen.query_one("#ask-text", Input).value = "1,600"
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 1, what="one settled")
        table.move_to(second)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the not-paid question")
        await pilot.press("n")
        await pilot.pause(0.3)
        with committed_db.session() as session:
            assert get_payment(session, ACTOR, chama.id, second).status == "review"
            assert get_payment(session, ACTOR, chama.id, first).amount_minor == 160_000
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the not-paid question")
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 0, what="both settled")
        with committed_db.session() as session:
            assert get_payment(session, ACTOR, chama.id, first).receipt_number == "SKL1ABC2DE"
            assert credits(session, first) == 1
            assert get_payment(session, ACTOR, chama.id, second).status == "failed"


async def test_the_agm_reports_are_listed_shown_and_exported(committed_db, chama, tmp_path):
    from console.chama.reports import AgmReportsScreen
    from core.chama.agm import REPORTS

    with committed_db.session() as session:
        for m in chama.everyone:
            ledger.record_contribution(session, ACTOR, chama.id, m.id, 100_000, source="cash")
        saved = ledger.sums(session, chama.id).savings
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AgmReportsScreen), what="the AGM reports")
        screen = app.screen
        listed = screen.query_one("#agm-list", OfisiTable)
        assert [r.data for r in listed.records] == list(REPORTS)
        await until(pilot, lambda: screen.report is not None and screen.report.name == "contributions",
                    what="the contribution register")
        listed.focus()
        listed.move_to("fines")
        await until(pilot, lambda: screen.report.name == "fines", what="the fines register")
        listed.move_to("shareout")
        await until(pilot, lambda: screen.report.name == "shareout"
                    and screen.query_one("#agm-report", OfisiTable).row_count == len(chama.everyone) + 1,
                    what="the share-out statement, a row each and the totals")
        shown = [r.data for r in screen.query_one("#agm-report", OfisiTable).records]
        assert shown[-1] == screen.report.totals and saved in shown[-1]
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, AskText), what="the path")
        out = tmp_path / "shareout.csv"
        app.screen.query_one("#ask-text", Input).value = str(out)
        await pilot.press("enter")
        await until(pilot, lambda: out.is_file() and any("written to" in n for n in notices(app)), what="the file")
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(chama.everyone) + 2 and f"{saved // 100}" in lines[-1].replace(",", "")


async def test_rules_of_several_values_are_changed_from_the_console_and_wrong_ones_refused_with_the_reason(committed_db, chama):
    from console.chama import SettingsScreen
    from console.chama.settings import RuleForm
    from core.chama import settings
    from core.chama.settings import RULES

    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        office = await open_office(pilot)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the rules")
        rules = app.screen.query_one("#settings", OfisiTable)
        await until(pilot, lambda: rules.row_count == len(RULES), what="every rule")
        rules.focus()

        async def change(label: str, **answers: str) -> None:
            rules.move_to(label)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, RuleForm), what=f"the {label} form")
            assert label in app.screen.dialog_title and chama.org.name in app.screen.dialog_title
            for key, value in answers.items():
                app.screen.query_one(f"#rule-{key}", Input).value = value
            await pilot.click("#dialog-confirm-button")
            await until(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the rules again")

        await change("contribution", contribution="500", frequency="weekly", due_day="friday")
        await until(pilot, lambda: rules.selected_row.cells[1] == "KES 500 weekly, due every Friday",
                    what="the new contribution")
        await change("late fine", late_fine="5%", grace_days="3")
        await until(pilot, lambda: "5% of what is unpaid after 3 grace days" in rules.selected_row.cells[1],
                    what="the new fine")
        await change("late loan", loan_penalty="2.5", loan_grace_days="5", default_after_missed="4")
        await change("reminder", reminder_days="5")
        await until(pilot, lambda: rules.selected_row.cells[1] == "5 days before the due date", what="reminder")
        await change("approvals", approvals_required="3")  # three officials: a loan to one leaves two to approve
        await until(pilot, lambda: any("at most 2 approval(s), not 3" in n for n in notices(app)), what="refusal")
        await change("late fine", grace_days="soon")
        await until(pilot, lambda: any("'soon' is not a whole number" in n for n in notices(app)), what="refusal")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is office, what="home")
    with committed_db.session() as session:
        now = settings.get_settings(session, ACTOR, chama.id)
    assert (now.contribution_minor, now.frequency, now.due_day) == (50_000, "weekly", 4)
    assert (now.fine_kind, now.fine_percent_bp, now.grace_days) == ("percent", 500, 3)
    assert (now.loan_penalty_bp, now.loan_grace_days, now.default_after_missed) == (250, 5, 4)
    assert (now.reminder_days, now.approvals_required) == (5, 2)
    with committed_db.session() as session:
        changed = [e for e in audit.list_entries(session, ACTOR, chama.id, limit=50) if e.action == "chama.settings"]
    assert len(changed) == 4


async def test_a_fine_paid_an_opening_balance_brought_in_and_a_default_recovered_from_the_guarantors(
        committed_db, chama):
    from db.models_chama import ChamaLoan

    borrower, mercy, grace = chama.members[:3]
    with committed_db.session() as session:
        newcomer = members_mod.add_member(session, ACTOR, chama.id, name="Zawadi Otieno", phone="0712345999")
        ledger.record_contribution(session, ACTOR, chama.id, mercy.id, 200_000, reference="TOP-UP")
        fines.charge_fine(session, ACTOR, chama.id, grace.id, 20_000, reason="late")
        loan = loans.request_loan(session, ACTOR, chama.id, borrower.id, 300_000, months=3,
                                  guarantors=[(mercy.id, 200_000), (grace.id, 100_000)])
        for g in (mercy, grace):
            loans.answer_guarantee(session, ACTOR, chama.id, loan.id, g.id, accept=True)
        for official in chama.checkers(borrower.id):
            loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=official.id)
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)
        session.get(ChamaLoan, loan.id).status = "defaulted"  # the missed instalments (tested with the jobs)
        session.commit()
    app = OfisiApp(committed_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_office(pilot)
        table = await open_members(pilot, 9)
        table.focus()

        table.move_to(grace.id)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, MoneyForm), what="the fine payment")
        assert grace.name in app.screen.dialog_title and "owes KES 200" in app.screen.dialog_title
        app.screen.query_one("#money-amount", Input).value = "200"
        app.screen.query_one("#money-text", Input).value = "SLIP-F1"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: any("Fine payment of KES 200" in n for n in notices(app)), what="the payment")
        await until(pilot, lambda: table.selected_row.cells[8].shown == "KES 0", what="no fines owed")

        table.move_to(newcomer.id)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, MoneyForm), what="the opening balance")
        app.screen.query_one("#money-amount", Input).value = "2,500"
        app.screen.query_one("#money-text", Input).value = "old book p. 12"
        await pilot.click("#dialog-confirm-button")
        await until(pilot, lambda: table.selected_row.cells[6].shown == "KES 2,500", what="her savings")

        table.move_to(borrower.id)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, Confirm), what="the recovery question")
        said = " ".join(str(s.content) for s in app.screen.query(".confirm-detail"))
        assert "Still owed KES 3,000" in said and f"{mercy.name} (pledged KES 2,000)" in said
        await pilot.press("y")
        await until(pilot, lambda: any(f"Loan {loan.id} is" in n for n in notices(app)), what="the recovery")
    with committed_db.session() as session:
        assert ledger.sums(session, chama.id, loan_id=loan.id).loan == 0
        assert ledger.sums(session, chama.id, member_id=mercy.id).savings == 300_000 - 200_000
        assert ledger.sums(session, chama.id, member_id=grace.id).savings == 100_000 - 100_000
        assert ledger.sums(session, chama.id, member_id=grace.id).fines == 0
        opening = ledger.list_entries(session, ACTOR, chama.id, member_id=newcomer.id)
        assert [(e.kind, e.amount_minor, e.memo) for e in opening] == [("opening_balance", 250_000, "old book p. 12")]
