"""Loans and payouts: the limit, maker–checker approvals, the pool, schedules, repayment order, reversal."""

from __future__ import annotations

from datetime import date

import pytest

from core.actors import Actor
from core.chama import fines, ledger, loans, members, payouts
from core.chama.ledger import Balances
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.users import add_user
from db.models import Org
from db.models_chama import ChamaLoan
from tests.chama_support import ACTOR, approved_loan, disbursed_loan, make_chama, paid_payout, recount


@pytest.fixture
def chama(session, make_org):
    c = make_chama(session, make_org, interest_kind="flat", interest_rate_bp=150)
    for m in c.everyone:
        ledger.record_contribution(session, ACTOR, c.id, m.id, 1_000_000)  # KES 10,000 each, pool 50,000
    return c


def test_a_loan_is_limited_to_a_multiple_of_savings_unless_guarantors_pledge(session, chama):
    fatuma, achieng = chama.members
    limit = loans.loan_limit(session, ACTOR, chama.id, fatuma.id)
    assert (limit.limit_minor, limit.available_minor) == (3_000_000, 3_000_000)
    with pytest.raises(Conflict, match=r"can borrow up to KES 30,000 \(3 × free savings of KES 10,000.*"
                                       r"KES 35,000 needs guarantors for KES 5,000 more"):
        loans.request_loan(session, ACTOR, chama.id, fatuma.id, 3_500_000, months=6)
    with pytest.raises(InvalidInput, match="own loan"):
        loans.request_loan(session, ACTOR, chama.id, fatuma.id, 3_500_000, months=6,
                           guarantors=[(fatuma.id, 500_000)])
    with pytest.raises(Conflict, match="can pledge up to KES 10,000"):
        loans.request_loan(session, ACTOR, chama.id, fatuma.id, 3_500_000, months=6,
                           guarantors=[(achieng.id, 1_100_000)])
    loan = loans.request_loan(session, ACTOR, chama.id, fatuma.id, 3_500_000, months=6,
                              guarantors=[(achieng.id, 500_000)])
    assert [(g.name, g.amount_minor) for g in loan.guarantors] == [("Mercy Chebet", 500_000)]
    # Achieng's pledged savings no longer count towards her own limit.
    assert loans.loan_limit(session, ACTOR, chama.id, achieng.id).limit_minor == 3 * 500_000
    # And what Wanjiku has asked for counts against hers.
    assert loans.loan_limit(session, ACTOR, chama.id, fatuma.id).available_minor == 0
    with pytest.raises(InvalidInput, match="1 to 60 months"):
        loans.request_loan(session, ACTOR, chama.id, achieng.id, 1_000, months=0)


def test_approvals_need_two_different_officials_never_the_applicant(session, chama):
    chair, treasurer, secretary = chama.officials
    loan = loans.request_loan(session, ACTOR, chama.id, treasurer.id, 2_000_000, months=4, purpose="stock")
    with pytest.raises(Conflict, match=r"Achieng's loan needs 2 approvals; it has none yet\."):
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)
    with pytest.raises(PermissionDenied, match="the money would go to them"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=treasurer.id)
    loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chair.id)
    with pytest.raises(Conflict, match="already decided"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chair.id)
    with pytest.raises(Conflict, match=r"Achieng's loan needs 2 approvals; it has 1 \(from the chair\)\."):
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)
    with pytest.raises(PermissionDenied, match="only an active chair, treasurer or secretary"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chama.members[0].id)
    with pytest.raises(InvalidInput, match="which official"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id)
    approved = loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=secretary.id)
    assert approved.status == "approved"
    assert [(a.name, a.role) for a in approved.approvals] == [("Wanjiku Kamau", "chair"),
                                                              ("Njeri Mwangi", "secretary")]
    with pytest.raises(Conflict, match="already approved"):
        loans.reject_loan(session, ACTOR, chama.id, loan.id, reason="no", by_member_id=secretary.id)


def test_signed_in_officials_decide_as_themselves_and_the_maker_is_not_the_checker(session, chama):
    chair, treasurer, secretary = chama.officials
    staff = {}
    for m in chama.officials:
        user = add_user(session, ACTOR, f"{m.role}@chama.example", org_id=chama.id, role=m.role, phone=m.phone,
                        password="long-enough-1")
        members.link_login(session, ACTOR, chama.id, m.id, email=user.email)
        staff[m.role] = Actor.staff(user.id, user.email)
    fatuma = chama.members[0]
    loan = loans.request_loan(session, staff["treasurer"], chama.id, fatuma.id, 100_000, months=1)
    with pytest.raises(PermissionDenied, match="Achieng Otieno asked for Fatuma's loan"):
        loans.approve_loan(session, staff["treasurer"], chama.id, loan.id)
    with pytest.raises(PermissionDenied, match="decide as yourself"):
        loans.approve_loan(session, staff["chair"], chama.id, loan.id, by_member_id=secretary.id)
    loans.approve_loan(session, staff["chair"], chama.id, loan.id)
    # The chair named from the command line is the same official as the chair signed in.
    with pytest.raises(Conflict, match="already decided"):
        loans.approve_loan(session, ACTOR, chama.id, loan.id, by_member_id=chair.id)
    assert loans.approve_loan(session, staff["secretary"], chama.id, loan.id).status == "approved"
    # The secretary may approve but not move money.
    with pytest.raises(PermissionDenied, match="chama.money"):
        loans.disburse_loan(session, staff["secretary"], chama.id, loan.id)
    own = loans.request_loan(session, ACTOR, chama.id, secretary.id, 100_000, months=1)
    with pytest.raises(PermissionDenied, match="the money would go to them"):
        loans.approve_loan(session, staff["secretary"], chama.id, own.id)


def test_a_rejection_needs_a_reason_and_tells_the_member(session, chama):
    loan = loans.request_loan(session, ACTOR, chama.id, chama.members[0].id, 100_000, months=1)
    with pytest.raises(InvalidInput, match="reason"):
        loans.reject_loan(session, ACTOR, chama.id, loan.id, reason="", by_member_id=chama.chair.id)
    rejected = loans.reject_loan(session, ACTOR, chama.id, loan.id, reason="arrears", by_member_id=chama.chair.id)
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "arrears")
    with pytest.raises(Conflict, match="is rejected; only an approved request is paid out"):
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)
    assert loans.list_loans(session, ACTOR, chama.id, status="requested") == []


def test_disbursement_needs_the_pool_and_charges_flat_interest(session, chama):
    fatuma = chama.members[0]
    big = approved_loan(session, chama, chama.chair, 3_000_000, months=3)
    loans.disburse_loan(session, ACTOR, chama.id, big.id)
    other = approved_loan(session, chama, chama.treasurer, 2_500_000, months=3)
    with pytest.raises(Conflict, match=r"The pool holds KES 20,000 not already on its way out; Achieng's loan "
                                       r"of KES 25,000 needs KES 5,000 more\."):
        loans.disburse_loan(session, ACTOR, chama.id, other.id)
    loan = disbursed_loan(session, chama, fatuma, 1_000_000, months=4)
    assert (loan.status, loan.principal_outstanding_minor, loan.interest_owed_minor) == ("disbursed", 1_000_000,
                                                                                         60_000)
    plan = loans.loan_schedule(session, ACTOR, chama.id, loan.id)
    assert [(i.principal_minor, i.interest_minor) for i in plan] == [(250_000, 15_000)] * 4
    assert plan[-1].balance_after_minor == 0 and plan[0].due_on == loan.first_due_on
    assert ledger.sums(session, chama.id) == recount(session, chama.id)
    assert ledger.sums(session, chama.id).pool == 5_000_000 - 3_000_000 - 1_000_000
    with pytest.raises(Conflict, match="is disbursed"):
        loans.disburse_loan(session, ACTOR, chama.id, loan.id)


def test_repayments_pay_fines_then_interest_then_principal(session, chama):
    fatuma = chama.members[0]
    loan = disbursed_loan(session, chama, fatuma, 1_000_000, months=2)  # flat interest 30,000
    fines.charge_fine(session, ACTOR, chama.id, fatuma.id, 5_000, reason="absent")
    first = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 20_000, reference="QR1", source="mpesa")
    assert first.change == Balances(fines=-5_000, interest=-15_000, pool=20_000, earnings=20_000)
    second = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 115_000, reference="QR2")
    assert second.change == Balances(interest=-15_000, principal=-100_000, pool=115_000, earnings=15_000)
    # One cent beyond what is owed is split off to savings (the chama's default), not refused.
    savings_before = ledger.sums(session, chama.id, member_id=fatuma.id).savings
    last = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 900_001)
    assert last.amount_minor == 900_000
    assert loans.get_loan(session, ACTOR, chama.id, loan.id).status == "repaid"
    assert ledger.sums(session, chama.id, member_id=fatuma.id).savings == savings_before + 1
    with pytest.raises(Conflict, match="no loan to repay"):
        loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 100)
    # A late replay of a repayment is still just the first one.
    assert loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 20_000, reference="QR1",
                                  source="mpesa").id == first.id
    assert ledger.sums(session, chama.id, member_id=fatuma.id) == recount(session, chama.id, member_id=fatuma.id)


def test_reducing_balance_interest_follows_what_is_still_owed(session, make_org):
    chama = make_chama(session, make_org, interest_kind="reducing", interest_rate_bp=200)
    m = chama.members[0]
    ledger.record_contribution(session, ACTOR, chama.id, m.id, 1_000_000)
    loan = disbursed_loan(session, chama, m, 900_000, months=3)
    assert loan.interest_owed_minor == 0
    plan = loans.loan_schedule(session, ACTOR, chama.id, loan.id)
    assert [(i.principal_minor, i.interest_minor) for i in plan] == [(300_000, 18_000), (300_000, 12_000),
                                                                     (300_000, 6_000)]
    row = session.get(ChamaLoan, loan.id)
    org_row = session.get(Org, chama.id)
    disbursement = loans.disbursement_of(session, row)
    loans.record_repayment(session, ACTOR, chama.id, m.id, 400_000)  # early: all principal
    entry = loans.charge_instalment_interest(session, org_row, ACTOR, row, 1, disbursement.id)
    assert entry.amount_minor == 10_000  # 2% of the 500,000 still owed, not of 900,000
    assert loans.charge_instalment_interest(session, org_row, ACTOR, row, 1, disbursement.id) is None  # once


def test_reversing_a_disbursement_needs_repayments_reversed_and_takes_its_interest_back(session, chama):
    fatuma = chama.members[0]
    loan = disbursed_loan(session, chama, fatuma, 1_000_000, months=2)
    before_loan = ledger.sums(session, chama.id)
    repayment = loans.record_repayment(session, ACTOR, chama.id, fatuma.id, 50_000)
    disbursement = ledger.list_entries(session, ACTOR, chama.id, loan_id=loan.id)[-1]
    assert disbursement.kind == "loan_disbursement"
    with pytest.raises(Conflict, match=f"Loan {loan.id} has repayments \\(entries {repayment.id}\\)"):
        ledger.reverse_entry(session, ACTOR, chama.id, disbursement.id, reason="wrong member")
    ledger.reverse_entry(session, ACTOR, chama.id, repayment.id, reason="wrong member")
    ledger.reverse_entry(session, ACTOR, chama.id, disbursement.id, reason="wrong member")
    after = loans.get_loan(session, ACTOR, chama.id, loan.id)
    assert (after.status, after.principal_outstanding_minor, after.interest_owed_minor) == ("approved", 0, 0)
    assert ledger.sums(session, chama.id).pool == before_loan.pool + 1_000_000
    again = loans.disburse_loan(session, ACTOR, chama.id, loan.id)
    assert (again.status, again.interest_owed_minor) == ("disbursed", 30_000)


def test_payouts_follow_the_same_approval_rule_and_can_be_reversed(session, chama):
    fatuma = chama.members[0]
    payout = payouts.request_payout(session, ACTOR, chama.id, 300_000, purpose="hospital bill",
                                    member_id=fatuma.id, by_member_id=chama.treasurer.id)
    with pytest.raises(PermissionDenied, match="asked for Payout"):
        payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=chama.treasurer.id)
    payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=chama.chair.id)
    with pytest.raises(Conflict, match=r"Payout \d+ to Fatuma Hassan needs 2 approvals; it has 1 \(from the chair\)"):
        payouts.pay_payout(session, ACTOR, chama.id, payout.id)
    payouts.approve_payout(session, ACTOR, chama.id, payout.id, by_member_id=chama.secretary.id)
    paid = payouts.pay_payout(session, ACTOR, chama.id, payout.id, source="mpesa", reference="B2C1")
    assert paid.status == "paid"
    assert ledger.sums(session, chama.id) == recount(session, chama.id)
    entry = ledger.list_entries(session, ACTOR, chama.id, limit=1)[0]
    assert (entry.kind, entry.payout_id, entry.change) == ("payout", payout.id,
                                                           Balances(pool=-300_000, earnings=-300_000))
    ledger.reverse_entry(session, ACTOR, chama.id, entry.id, reason="paid twice by mistake")
    assert payouts.get_payout(session, ACTOR, chama.id, payout.id).status == "approved"
    with pytest.raises(InvalidInput, match="member or to a named payee"):
        payouts.request_payout(session, ACTOR, chama.id, 100, purpose="x")
    with pytest.raises(Conflict, match="The pool holds"):
        paid_payout(session, chama, 10_000_000)


def test_schedule_of_a_loan_not_yet_paid_out_starts_a_month_from_today(session, chama):
    loan = loans.request_loan(session, ACTOR, chama.id, chama.members[0].id, 100_001, months=3)
    plan = loans.loan_schedule(session, ACTOR, chama.id, loan.id)
    assert [i.principal_minor for i in plan] == [33_334, 33_334, 33_333]
    assert sum(i.interest_minor for i in plan) == 4_500  # 1.5% × 3 months, flat
    assert plan[0].due_on > date.today()
