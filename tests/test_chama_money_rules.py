"""The chama's money rules over whole cycles: each case a treasurer found, reproduced and now right.

References compare without case or spaces; a manual twin warns. A repayment
beyond what is owed is split and told. A leaver is paid her savings once,
through the approvals, and takes no part afterwards. Arrears and late fines
count only the current cycle; opening balances never pay an invoice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import payments
from core.chama import exits, fines, ledger, loans, payouts, settings, shareout, statements
from core.chama.dues import arrears_by_member, unpaid_for
from core.chama.fines import late_fine_amount
from core.chama.mpesa import REPAYMENT, ask_to_pay
from core.chama.ledger import Balances
from core.errors import Conflict
from db.models import Message
from db.models_chama import ChamaInvoice, ChamaLedgerEntry, ChamaSettings
from db.models_payments import PaymentRequest
from db.types import utcnow
from tests.chama_support import ACTOR, sms_to, approve_by_checkers, disbursed_loan, make_chama, recount
from tests.fakes.daraja import callback_payload


@pytest.fixture
def chama(session, make_org):
    return make_chama(session, make_org)


def test_references_are_one_receipt_whatever_the_case_and_spaces(session, chama):
    wanjiku, other = chama.members
    first = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 50_000, source="mpesa",
                                       reference="QAB1234XYZ")
    again = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 50_000, source="mpesa",
                                       reference="qab 1234xyz")
    assert again.id == first.id and again.replayed
    with pytest.raises(Conflict, match="different payment"):
        ledger.record_contribution(session, ACTOR, chama.id, other.id, 50_000, source="mpesa",
                                   reference=" qab1234XYZ ")
    assert ledger.sums(session, chama.id).savings == 50_000


def test_a_manual_entry_without_a_reference_warns_of_a_same_day_twin(session, chama):
    wanjiku = chama.members[0]
    first = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_000)
    assert first.warning is None
    twin = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_000)
    assert twin.warning and f"already entry {first.id}" in twin.warning and f"reverse entry {twin.id}" in twin.warning
    other_amount = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_100)
    yesterday = ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 20_000,
                                           occurred_at=utcnow() - timedelta(days=2))
    assert other_amount.warning is None and yesterday.warning is None


def test_5000_paid_on_3900_owed_is_split_and_the_member_told(session, chama):
    fatuma = chama.members[0]
    ledger.record_contribution(session, ACTOR, chama.id, fatuma.id, 1_000_000)
    loan = disbursed_loan(session, chama, fatuma, 390_000, months=1)  # reducing: no interest charged yet
    assert ledger.sums(session, chama.id, loan_id=loan.id).loan == 390_000
    savings = ledger.sums(session, chama.id, member_id=fatuma.id).savings
    entry = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 500_000, source="mpesa",
                                   reference="QKP5000", idempotency_key="mpesa:ws_CO_1")
    assert entry.amount_minor == 390_000 and entry.kind == "loan_repayment"
    assert ledger.sums(session, chama.id, loan_id=loan.id).loan == 0
    assert ledger.sums(session, chama.id, member_id=fatuma.id).savings == savings + 110_000
    parts = session.scalars(select(ChamaLedgerEntry).where(ChamaLedgerEntry.reference == "QKP5000")
                            .order_by(ChamaLedgerEntry.part)).all()
    assert [(p.kind, p.amount_minor, p.part) for p in parts] == [("loan_repayment", 390_000, 0),
                                                                ("contribution", 110_000, 1)]
    told = sms_to(session, fatuma)[-1]
    assert "received KES 5,000: KES 3,900 for loan" in told and "KES 1,100 more than you owed is added to your savings" in told
    # The callback again is the same payment: nothing new.
    again = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 500_000, source="mpesa",
                                   reference="QKP5000", idempotency_key="mpesa:ws_CO_1")
    assert again.replayed and again.id == entry.id
    assert ledger.sums(session, chama.id) == recount(session, chama.id)


def test_an_overpayment_is_refunded_through_the_approvals_when_the_chama_says_so(session, chama):
    settings.update_settings(session, ACTOR, chama.id, overpayment="refund")
    fatuma = chama.members[0]
    ledger.record_contribution(session, ACTOR, chama.id, fatuma.id, 200_000)
    loan = disbursed_loan(session, chama, fatuma, 101_000, months=1)
    loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 150_000, reference="R9")
    assert ledger.sums(session, chama.id, loan_id=loan.id).loan == 0
    [refund] = [p for p in payouts.list_payouts(session, ACTOR, chama.id) if p.kind == "refund"]
    assert refund.amount_minor == 49_000 and refund.status == "requested"
    assert "will be refunded to you" in sms_to(session, fatuma)[-1]
    approve_by_checkers(session, chama, refund, fatuma.id)
    payouts.pay_payout(session, ACTOR, chama.id, refund.id)
    assert ledger.sums(session, chama.id, member_id=fatuma.id).savings == 200_000
    assert ledger.sums(session, chama.id) == recount(session, chama.id)


def test_the_leaver_is_paid_once_and_takes_no_part_afterwards(session, make_org):
    chama = make_chama(session, make_org, extra_members=1)
    for m in chama.everyone:
        ledger.record_contribution(session, ACTOR, chama.id, m.id, 1_000_000)
    leaver = chama.members[0]
    request = exits.request_exit(session, ACTOR, chama.id, leaver.id, reason="moved to Mombasa",
                                 by_member_id=chama.secretary.id)
    assert request.kind == "exit" and request.amount_minor == 1_000_000
    with pytest.raises(Conflict, match="waiting for approval|needs 2 approvals"):
        payouts.pay_payout(session, ACTOR, chama.id, request.id)
    approve_by_checkers(session, chama, request, leaver.id)
    payouts.pay_payout(session, ACTOR, chama.id, request.id)
    gone = ledger.sums(session, chama.id, member_id=leaver.id)
    assert (gone.savings, gone.loan, gone.fines) == (0, 0, 0)
    with pytest.raises(Conflict, match="left the chama"):
        fines.charge_fine(session, ACTOR, chama.id, leaver.id, 5_000, reason="absent")
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    assert [(ln.member_id, ln.payout_minor) for ln in plan.lines] == [(o.id, 1_000_000) for o in chama.officials]
    shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
    paid_to_leaver = sum(-e.pool_minor for e in session.scalars(select(ChamaLedgerEntry).where(
        ChamaLedgerEntry.member_id == leaver.id, ChamaLedgerEntry.pool_minor < 0)))
    assert paid_to_leaver == 1_000_000
    st = statements.statement(session, ACTOR, chama.id, member_id=leaver.id)
    assert f"Left on {date.today()}"[:8] in st.title and "moved to Mombasa" in st.title
    assert any("Exit settlement" in ln.description for ln in st.lines)
    assert ledger.sums(session, chama.id) == recount(session, chama.id)


def test_a_leaver_settles_her_loan_and_fines_first_and_a_guarantor_stays(session, chama):
    fatuma, mercy = chama.members
    ledger.record_contribution(session, ACTOR, chama.id, fatuma.id, 1_000_000)
    ledger.record_contribution(session, ACTOR, chama.id, mercy.id, 200_000)
    disbursed_loan(session, chama, fatuma, 200_000, months=2)  # reducing: no interest yet
    fines.charge_fine(session, ACTOR, chama.id, fatuma.id, 10_000, reason="late")
    settle = exits.exit_settlement(session, ACTOR, chama.id, fatuma.id)
    assert (settle.savings_minor, settle.owed_minor, settle.paid_minor) == (1_000_000, 210_000, 790_000)
    request = exits.request_exit(session, ACTOR, chama.id, fatuma.id, reason="asked to leave",
                                 by_member_id=chama.secretary.id)
    approve_by_checkers(session, chama, request, fatuma.id)
    payouts.pay_payout(session, ACTOR, chama.id, request.id)
    left = ledger.sums(session, chama.id, member_id=fatuma.id)
    assert (left.savings, left.loan, left.fines, left.earnings) == (0, 0, 0, 10_000)
    assert "settled KES 2,100 you owed and paid you KES 7,900" in sms_to(session, fatuma)[-1]
    # Mercy guarantees an open loan: she cannot leave until it is repaid.
    ledger.record_contribution(session, ACTOR, chama.id, chama.chair.id, 100_000)
    loans.request_loan(session, ACTOR, chama.id, chama.chair.id, 400_000, months=1,
                       guarantors=[(mercy.id, 150_000)])
    with pytest.raises(Conflict, match="guarantees loan"):
        exits.request_exit(session, ACTOR, chama.id, mercy.id, reason="moving")
    assert ledger.sums(session, chama.id) == recount(session, chama.id)


def test_the_20000_saver_is_in_arrears_in_cycle_two(session, make_org):
    chama = make_chama(session, make_org, contribution_minor=1_000_000, fine_kind="flat", fine_flat_minor=50_000)
    saver, newcomer = chama.members
    cycle_one = utcnow() - timedelta(days=60)
    ledger.record_contribution(session, ACTOR, chama.id, saver.id, 2_000_000, occurred_at=cycle_one)
    for o in chama.officials:
        ledger.record_contribution(session, ACTOR, chama.id, o.id, 1_000_000, occurred_at=cycle_one)
    ledger.record_opening_balance(session, ACTOR, chama.id, newcomer.id, 2_000_000)
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    shareout.commit_shareout(session, ACTOR, chama.id, code=plan.code)
    cycle = ledger.member_balances(session, ACTOR, chama.id, saver.id).cycle
    assert cycle.number == 2
    # The newcomer's opening balance came after the share-out: it stays hers but pays no invoice.
    due = cycle.started_on + timedelta(days=5)
    for m in (saver, newcomer):
        session.add(ChamaInvoice(org_id=chama.id, member_id=m.id, period="next", due_on=due, amount_minor=1_000_000))
    old = ChamaInvoice(org_id=chama.id, member_id=saver.id, period="old", due_on=cycle.started_on - timedelta(days=70),
                       amount_minor=1_000_000)
    session.add(old)
    session.flush()
    arrears = arrears_by_member(session, chama.id, through=due)
    assert arrears == {saver.id: 1_000_000, newcomer.id: 1_000_000}
    invoice = session.scalars(select(ChamaInvoice).where(ChamaInvoice.member_id == saver.id,
                                                         ChamaInvoice.period == "next")).one()
    row = session.scalars(select(ChamaSettings).where(ChamaSettings.org_id == chama.id)).one()
    assert late_fine_amount(row, unpaid_for(session, invoice)) == 50_000
    assert unpaid_for(session, old) == 0  # the closed cycle's invoice is not chased
    ledger.record_contribution(session, ACTOR, chama.id, saver.id, 1_000_000)
    assert saver.id not in arrears_by_member(session, chama.id, through=due)
    st = statements.statement(session, ACTOR, chama.id, member_id=saver.id)
    assert "now in cycle 2 since" in st.title


def _pushed(session, chama, member, amount: int, checkout: str) -> int:
    """A repayment asked of the member's phone, whose push Daraja accepted with ``checkout``."""
    request_id = ask_to_pay(session, ACTOR, chama.id, member.id, amount, purpose=REPAYMENT)
    row = session.get(PaymentRequest, request_id)
    row.status, row.checkout_request_id, row.merchant_request_id = "awaiting", checkout, f"m-{checkout}"
    session.commit()
    return request_id


@pytest.mark.parametrize("told_by", ["callback", "receipt"])
def test_review_settles_with_the_amount_mpesa_reported_split_by_the_rule(session, chama, told_by):
    fatuma = chama.members[0]
    ledger.record_contribution(session, ACTOR, chama.id, fatuma.id, 1_000_000)
    loan = disbursed_loan(session, chama, fatuma, 120_000, months=1)
    savings = ledger.sums(session, chama.id, member_id=fatuma.id).savings
    request_id = _pushed(session, chama, fatuma, 100_000, "ws_CO_over")  # she was asked 1,000
    if told_by == "callback":  # M-Pesa took 1,500: the result is kept and the payment goes to review
        kept = payments.record_stk_callback(session, callback_payload("m-ws_CO_over", "ws_CO_over", 0, amount=1500,
                                                                      receipt="QKR1500", phone=254712345678),
                                            token_ok=True)
        session.commit()
        assert (kept.verdict, kept.problem) == ("review", "amount_mismatch")
        assert payments.staff.reported_amount(session, request_id) == 150_000
        view = payments.settle_payment(session, ACTOR, chama.id, request_id, paid=True, receipt_number="QKR1500")
    else:  # no result came; the official reads 1,500 on the statement's receipt
        session.get(PaymentRequest, request_id).status = "unknown"
        session.commit()
        view = payments.settle_payment(session, ACTOR, chama.id, request_id, paid=True, receipt_number="QKR1500",
                                       amount_minor=150_000)
    assert (view.status, view.amount_minor, view.payload["asked_minor"]) == ("succeeded", 150_000, 100_000)
    parts = session.scalars(select(ChamaLedgerEntry).where(ChamaLedgerEntry.reference == "QKR1500")
                            .order_by(ChamaLedgerEntry.part)).all()
    assert [(p.kind, p.amount_minor) for p in parts] == [("loan_repayment", 120_000), ("contribution", 30_000)]
    assert ledger.sums(session, chama.id, loan_id=loan.id).loan == 0
    assert ledger.sums(session, chama.id, member_id=fatuma.id).savings == savings + 30_000
    assert "received KES 1,500" in sms_to(session, fatuma)[-1]
    assert ledger.sums(session, chama.id) == recount(session, chama.id)


def test_money_m_pesa_is_paying_out_is_not_paid_again_nor_spent_and_expenses_may_exceed_earnings(session, chama):
    """A payout M-Pesa B2C is sending cannot also be paid in cash (it would be paid twice), and what is on its
    way out is not in the pool for anything else. An expense may take earnings below zero, never the pool."""
    from core.payments.b2c import request_disbursement, settle_disbursement
    from core.chama import expenses

    for i, m in enumerate(chama.everyone):
        ledger.record_contribution(session, ACTOR, chama.id, m.id, 100_000, reference=f"C-{i}")  # pool KES 5,000
    wanjiku = chama.members[0]
    payout = payouts.request_payout(session, ACTOR, chama.id, 200_000, purpose="merry-go-round", member_id=wanjiku.id)
    approve_by_checkers(session, chama, payout, wanjiku.id)
    sending = request_disbursement(session, ACTOR, chama.id, "chama.payout", payout.id)
    with pytest.raises(Conflict, match=rf"Payout {payout.id} to {wanjiku.name} is being paid by M-Pesa "
                                       rf"\(disbursement {sending.id}, pending\); paying it by cash too could pay "
                                       rf"it twice.*settle-disbursement {sending.id}"):
        payouts.pay_payout(session, ACTOR, chama.id, payout.id, source="cash")
    with pytest.raises(Conflict, match=r"The pool holds KES 3,000 not already on its way out; an expense "
                                       r"\(bank charges\) of KES 3,500 needs KES 500 more"):
        expenses.record_expense(session, ACTOR, chama.id, 350_000, category="bank charges", receipt="BK-1")
    before = ledger.sums(session, chama.id)
    assert before.earnings == 0
    expenses.record_expense(session, ACTOR, chama.id, 1_500, category="bank charges", receipt="BK-2")
    assert ledger.sums(session, chama.id).earnings == -1_500  # no interest yet: the shortfall is the members'
    settle_disbursement(session, ACTOR, chama.id, sending.id, paid=False)  # the portal shows it never left
    paid = payouts.pay_payout(session, ACTOR, chama.id, payout.id, source="cash", reference="CASH-9")
    assert paid.status == "paid"
    after = ledger.sums(session, chama.id)
    assert after.pool == 500_000 - 1_500 - 200_000 and after == recount(session, chama.id)
    plan = shareout.preview_shareout(session, ACTOR, chama.id)
    assert plan.blockers == [] and sum(line.payout_minor for line in plan.lines) == after.pool


def test_two_share_outs_on_one_day_and_cash_entered_after_the_second(session, make_org):
    """The cycle's contributions are those recorded after its share-out, whatever time is written on them:
    a second share-out the same day hands back what came between, and cash handed over that morning but
    entered after it pays the new cycle's invoice."""
    chama = make_chama(session, make_org, contribution_minor=100_000)
    wanjiku, other = chama.members
    morning = utcnow() - timedelta(minutes=1)  # before both share-outs, the same day
    for i, m in enumerate(chama.everyone):
        ledger.record_contribution(session, ACTOR, chama.id, m.id, 100_000, reference=f"A-{i}")
    shareout.commit_shareout(session, ACTOR, chama.id, code=shareout.preview_shareout(session, ACTOR, chama.id).code)
    ledger.record_contribution(session, ACTOR, chama.id, wanjiku.id, 40_000, reference="B-1")  # missed the first
    second = shareout.commit_shareout(session, ACTOR, chama.id,
                                      code=shareout.preview_shareout(session, ACTOR, chama.id).code)
    assert [(line.member_id, line.payout_minor) for line in second.lines] == [(wanjiku.id, 40_000)]
    cycle = ledger.member_balances(session, ACTOR, chama.id, wanjiku.id).cycle
    assert cycle.number == 3
    due = cycle.started_on + timedelta(days=7)
    for m in (wanjiku, other):
        session.add(ChamaInvoice(org_id=chama.id, member_id=m.id, period="c3", due_on=due, amount_minor=100_000))
    session.flush()
    assert arrears_by_member(session, chama.id, through=due) == {wanjiku.id: 100_000, other.id: 100_000}
    ledger.record_contribution(session, ACTOR, chama.id, other.id, 100_000, reference="C-1", occurred_at=morning)
    assert arrears_by_member(session, chama.id, through=due) == {wanjiku.id: 100_000}
    assert ledger.sums(session, chama.id, member_id=other.id).savings == 100_000
    assert ledger.sums(session, chama.id) == recount(session, chama.id)
