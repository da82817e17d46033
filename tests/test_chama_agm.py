"""The AGM reports: each one for the demo chama in all four formats, and registers that add up to the ledger."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.chama import agm, expenses, fines, ledger, loans, meetings
from core.chama.agm import REPORTS, bucket_of, build_report, write_report
from core.demo import seed_demo
from core.errors import InvalidInput
from db.models import Org
from db.types import utcnow
from tests.chama_support import ACTOR, disbursed_loan, make_chama, paid_payout


def test_every_report_is_produced_for_the_demo_chama_in_all_four_formats(session, tmp_path):
    seed_demo(session, ACTOR)
    org_id = session.scalar(select(Org.id).where(Org.slug == "umoja-chama"))
    pool = ledger.sums(session, org_id).pool
    assert pool > 0
    for name in REPORTS:
        report = build_report(session, ACTOR, org_id, name)
        assert report.totals is not None and report.title, name
        out = io.StringIO()
        write_report(report, "csv", out)
        lines = list(csv.reader(io.StringIO(out.getvalue())))
        assert lines[0] == report.columns and len(lines) == len(report.rows) + 2
        write_report(report, "xlsx", tmp_path / f"{name}.xlsx")
        sheet = load_workbook(tmp_path / f"{name}.xlsx", read_only=True).active
        cells = list(sheet.iter_rows(values_only=True))
        assert cells[0][0] == report.title and list(cells[1]) == report.columns
        last = cells[len(report.rows) + 2]
        assert all(Decimal(str(last[i])) == report.major(i, report.totals[i]) for i in report.money)
        write_report(report, "pdf", tmp_path / f"{name}.pdf")
        assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
        assert len(report.text_rows()) == len(report.rows) + 1
    saved = build_report(session, ACTOR, org_id, "contributions")
    assert saved.totals[-2] == ledger.sums(session, org_id).savings
    with pytest.raises(InvalidInput, match="needs a file"):
        write_report(saved, "pdf", io.StringIO())


@pytest.fixture
def busy(session, make_org):
    c = make_chama(session, make_org, interest_kind="flat", interest_rate_bp=1000)
    fatuma, mercy = c.members
    for m, amount in ((c.chair, 300_000), (c.treasurer, 200_000), (fatuma, 150_000), (mercy, 100_000)):
        ledger.record_contribution(session, ACTOR, c.id, m.id, amount)
    loan = disbursed_loan(session, c, fatuma, 100_000, months=2)
    loans.record_repayment(session, ACTOR, c.id, fatuma.id, 30_000, loan_id=loan.id)
    fines.charge_fine(session, ACTOR, c.id, mercy.id, 5_000, reason="late")
    fines.charge_fine(session, ACTOR, c.id, fatuma.id, 2_000, reason="phone rang")
    fines.record_fine_payment(session, ACTOR, c.id, mercy.id, 3_000)
    paid_payout(session, c, 4_000, to=c.chair)
    expenses.record_expense(session, ACTOR, c.id, 1_500, category="Bank charges", receipt="BK-77")
    meeting = meetings.schedule_meeting(session, ACTOR, c.id, starts_at=utcnow() - timedelta(days=1),
                                        venue="Hall", agenda="AGM")
    meetings.record_attendance(session, ACTOR, c.id, meeting.id, {c.chair.id: "present", fatuma.id: "late",
                                                                   mercy.id: "absent"})
    return c


def test_the_registers_add_up_to_the_ledger(session, busy):
    total = ledger.sums(session, busy.id)
    register = build_report(session, ACTOR, busy.id, "contributions")
    assert register.totals[-2] == total.savings == 750_000
    book = build_report(session, ACTOR, busy.id, "loans")
    assert len(book.rows) == 1 and book.totals[6] == total.loan
    assert book.rows[0][7] == total.loan  # nothing is due yet: all current
    fined = build_report(session, ACTOR, busy.id, "fines")
    assert fined.totals[2:] == [7_000, 3_000, total.fines] and total.fines == 4_000
    income = build_report(session, ACTOR, busy.id, "income")
    by_item = {row[1]: row[2] for row in income.rows}
    assert by_item["Fines collected"] == 3_000 and by_item["Interest earned"] > 0
    assert by_item["Payout"] == 4_000 and by_item["Expense: bank charges"] == 1_500
    assert income.totals[2] == total.earnings  # no share-out yet: the surplus is all the earnings
    share = build_report(session, ACTOR, busy.id, "shareout")
    assert share.totals[2] == total.savings and share.totals[3] == total.earnings
    assert share.totals[6] == total.savings + total.earnings - total.loan - total.fines
    attended = build_report(session, ACTOR, busy.id, "attendance")
    assert attended.totals[-1] == 2 and attended.totals[2] == 2
    assert [r[2] for r in attended.rows if r[1].startswith("Mercy")] == ["absent"]


def test_a_loan_ages_by_its_oldest_unpaid_instalment():
    assert [bucket_of(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "90+", "90+"]


def test_an_unknown_report_or_a_backwards_period_is_refused(session, busy):
    with pytest.raises(InvalidInput, match="no chama report 'budget'"):
        build_report(session, ACTOR, busy.id, "budget")
    from datetime import date
    with pytest.raises(InvalidInput, match="starts .* after it ends"):
        agm.build_report(session, ACTOR, busy.id, "fines", start=date(2026, 2, 2), end=date(2026, 2, 1))


def test_an_expense_is_recorded_once_per_receipt_and_comes_out_of_earnings(session, busy):
    before = ledger.sums(session, busy.id)
    first = expenses.record_expense(session, ACTOR, busy.id, 700, category="mpesa charges", receipt="QK12AB",
                                    source="mpesa", note="B2C fees")
    again = expenses.record_expense(session, ACTOR, busy.id, 700, category="mpesa charges", receipt="qk12ab")
    assert again.id == first.id and again.replayed
    assert ledger.sums(session, busy.id) == before - ledger.Balances(pool=700, earnings=700)
    share = build_report(session, ACTOR, busy.id, "shareout")
    assert share.totals[3] == before.earnings - 700
    with pytest.raises(InvalidInput, match="not an expense category"):
        expenses.record_expense(session, ACTOR, busy.id, 100, category="food", receipt="R1")
    with pytest.raises(InvalidInput, match="receipt number"):
        expenses.record_expense(session, ACTOR, busy.id, 100, category="other", receipt=" ")
    from core.errors import Conflict
    pool = ledger.sums(session, busy.id).pool
    with pytest.raises(Conflict, match="The pool holds .* not already on its way out"):
        expenses.record_expense(session, ACTOR, busy.id, pool + 1, category="other", receipt="R2")
