"""Due work: contribution invoices, late fines and loan instalments through `jobs.run_due`;
a second run on the same day changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import jobs
from core.chama import ledger, loans
from core.chama.dues import period_due_on_or_after, periods_due_between
from core.chama.ledger import Balances
from db.models import Job, Message
from db.models_chama import ChamaInvoice, ChamaLedgerEntry, ChamaSettings
from tests.chama_support import ACTOR, disbursed_loan, make_chama, recount

NAIROBI = ZoneInfo("Africa/Nairobi")


def at(*args) -> datetime:
    """A wall-clock moment in Nairobi."""
    return datetime(*args, tzinfo=NAIROBI).astimezone(timezone.utc)


def counts(db, org_id: int) -> tuple[int, int, int, int]:
    with db.session() as s:
        def n(model, *where) -> int:
            return s.scalar(select(func.count()).select_from(model).where(model.org_id == org_id, *where))
        return (n(ChamaInvoice), n(ChamaLedgerEntry, ChamaLedgerEntry.kind == "fine"), n(Message),
                n(Job, Job.status == "done"))


@pytest.fixture
def chama(committed_db, make_org):
    with committed_db.session() as s:
        return make_chama(s, make_org, contribution_minor=50_000, frequency="monthly", due_day=5, grace_days=3,
                          reminder_days=2, fine_kind="flat", fine_flat_minor=10_000,
                          contributions_start=date(2026, 1, 1), sms_receipts=False)


def test_periods_monthly_clamped_and_weekly(session, make_org):
    row = ChamaSettings(frequency="monthly", due_day=31)
    assert [(p.label, p.due_on) for p in periods_due_between(row, date(2026, 1, 1), date(2026, 3, 31))] == [
        ("2026-01", date(2026, 1, 31)), ("2026-02", date(2026, 2, 28)), ("2026-03", date(2026, 3, 31))]
    weekly = ChamaSettings(frequency="weekly", due_day=2)  # Wednesdays
    assert period_due_on_or_after(weekly, date(2026, 1, 1)).label == "2026-W02"
    assert period_due_on_or_after(weekly, date(2026, 1, 7)).due_on == date(2026, 1, 7)


def test_invoices_then_late_fines_each_once_however_often_cron_runs(committed_db, chama):
    fatuma, mercy = chama.members
    jobs.run_due(committed_db, now=at(2026, 1, 3, 7, 59))
    assert counts(committed_db, chama.id) == (0, 0, 0, 0)  # invoices go out at 08:00, two days ahead
    first = jobs.run_due(committed_db, now=at(2026, 1, 3, 8, 0))
    assert first.ran == 5 and counts(committed_db, chama.id) == (5, 0, 5, 5)
    assert jobs.run_due(committed_db, now=at(2026, 1, 3, 18, 0)).ran == 0
    assert counts(committed_db, chama.id) == (5, 0, 5, 5)
    with committed_db.session() as s:
        [text] = s.scalars(select(Message.body).where(Message.to_address == fatuma.phone))
        assert "your contribution of KES 500 for 2026-01 is due on 05 Jan 2026. Member no. 4." in text
        # Fatuma pays in full, Mercy part, the officials all pay.
        ledger.record_contribution(s, ACTOR, chama.id, fatuma.id, 50_000)
        ledger.record_contribution(s, ACTOR, chama.id, mercy.id, 20_000)
        for official in chama.officials:
            ledger.record_contribution(s, ACTOR, chama.id, official.id, 50_000)
    jobs.run_due(committed_db, now=at(2026, 1, 8, 23, 59))  # still within the grace days
    assert counts(committed_db, chama.id)[1] == 0
    jobs.run_due(committed_db, now=at(2026, 1, 9, 0, 0))
    jobs.run_due(committed_db, now=at(2026, 1, 9, 12, 0))
    with committed_db.session() as s:
        fined = s.execute(select(ChamaLedgerEntry.member_id, ChamaLedgerEntry.amount_minor, ChamaLedgerEntry.period)
                          .where(ChamaLedgerEntry.org_id == chama.id, ChamaLedgerEntry.kind == "fine")).all()
        assert fined == [(mercy.id, 10_000, "2026-01")]
        [notice] = s.scalars(select(Message.body).where(Message.to_address == mercy.phone,
                                                        Message.body.like("%fined%")))
        assert "fined KES 100: contribution for 2026-01 paid late." in notice
        assert ledger.sums(s, chama.id) == recount(s, chama.id)
        assert ledger.sums(s, chama.id, member_id=mercy.id) == Balances(savings=20_000, fines=10_000, pool=20_000)
        # Mercy pays a whole year ahead: February finds her paid up (oldest invoice first).
        ledger.record_contribution(s, ACTOR, chama.id, mercy.id, 530_000)
    jobs.run_due(committed_db, now=at(2026, 2, 9, 0, 0))
    with committed_db.session() as s:
        february = s.scalars(select(ChamaLedgerEntry.member_id).where(
            ChamaLedgerEntry.org_id == chama.id, ChamaLedgerEntry.period == "2026-02")).all()
        assert sorted(february) == sorted([fatuma.id, *[o.id for o in chama.officials]])


def test_percent_fines_are_on_what_is_unpaid(committed_db, chama):
    with committed_db.session() as s:
        from core.chama import settings
        settings.update_settings(s, ACTOR, chama.id, fine_kind="percent", fine_percent_bp=1_000)
        ledger.record_contribution(s, ACTOR, chama.id, chama.members[0].id, 20_000)
    jobs.run_due(committed_db, now=at(2026, 1, 3, 8, 0))
    jobs.run_due(committed_db, now=at(2026, 1, 9, 0, 0))
    with committed_db.session() as s:
        fines = dict(s.execute(select(ChamaLedgerEntry.member_id, ChamaLedgerEntry.amount_minor).where(
            ChamaLedgerEntry.org_id == chama.id, ChamaLedgerEntry.kind == "fine")).all())
    assert fines[chama.members[0].id] == 3_000 and fines[chama.members[1].id] == 5_000


def test_members_who_joined_later_or_left_are_not_invoiced(committed_db, chama):
    from core.chama import members
    with committed_db.session() as s:
        members.update_member(s, ACTOR, chama.id, chama.members[0].id, status="exited")
        members.add_member(s, ACTOR, chama.id, name="New Member", phone="+254711000999",
                           joined_on=date(2026, 1, 20))
    jobs.run_due(committed_db, now=at(2026, 1, 3, 8, 0))
    assert counts(committed_db, chama.id)[0] == 4


def test_reducing_loan_instalments_charge_interest_once_and_remind(committed_db, make_org):
    with committed_db.session() as s:
        chama = make_chama(s, make_org, interest_kind="reducing", interest_rate_bp=100, sms_receipts=False)
        member = chama.members[0]
        ledger.record_contribution(s, ACTOR, chama.id, member.id, 1_000_000)
        loan = disbursed_loan(s, chama, member, 600_000, months=3)
    due = loan.first_due_on
    jobs.run_due(committed_db, now=at(due.year, due.month, due.day, 7, 0))
    with committed_db.session() as s:
        assert loans.get_loan(s, ACTOR, chama.id, loan.id).interest_owed_minor == 0
    for hour in (8, 9):
        jobs.run_due(committed_db, now=at(due.year, due.month, due.day, hour, 0))
    with committed_db.session() as s:
        assert loans.get_loan(s, ACTOR, chama.id, loan.id).interest_owed_minor == 6_000
        [reminder] = s.scalars(select(Message.body).where(Message.body.like("%instalment 1 of 3%")))
        assert "KES 2,060 is due today. Loan balance KES 6,060." in reminder
    # Nothing paid: the next reminder quotes what is actually due, the missed instalment with it.
    second = loans.schedule_of(loan, due)[1].due_on
    jobs.run_due(committed_db, now=at(second.year, second.month, second.day, 8, 0))
    with committed_db.session() as s:
        [reminder] = s.scalars(select(Message.body).where(Message.body.like("%instalment 2 of 3%")))
        assert "KES 4,120 is due today (missed instalments included). Loan balance KES 6,120." in reminder
        [overdue] = s.scalars(select(Message.body).where(Message.body.like("%instalment 1 is overdue%")))
        assert "KES 2,060 is due now" in overdue
