"""Property test over random multi-cycle histories: contributions, opening balances, loans with partial,
missed and over-payments, penalties and defaults recovered from guarantors, fines, exits, share-outs and
reversals.

After every step: every balance (the chama's and each member's) equals the sum of its ledger entries read
in the test from each entry's kind and amount; the pool never goes below zero; nobody is paid their
savings twice (a leaver's savings are zero and no share-out pays her afterwards, and what each member got
back never exceeds what she put in plus her share of earnings); and arrears count only the current
cycle's invoices against the current cycle's contributions, worked out here from the entries.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from config.errors import OfisiError
from core.chama import exits, fines, ledger, loans, payouts, shareout
from core.chama.cycles import current_cycle
from core.chama.dues import arrears_by_member
from db.models import Org
from db.models_chama import ChamaInvoice, ChamaLedgerEntry, ChamaLoan, ChamaMember, ChamaShareout
from tests.chama_support import ACTOR, approve_by_checkers, entries, make_chama, recount

MEMBERS = 6
member = st.integers(0, MEMBERS - 1)
loan = st.tuples(st.just("loan"), member, st.integers(1, 40_000), st.integers(1, 3), st.booleans())
step = st.one_of(  # loans twice over: repayments, misses and defaults need them
    loan, loan,
    st.tuples(st.just("contribute"), member, st.integers(1, 30_000)),
    st.tuples(st.just("opening"), member, st.integers(1, 30_000)),
    st.tuples(st.just("repay"), member, st.integers(1, 50_000)),
    st.tuples(st.just("repay"), member, st.integers(1, 50_000)),
    st.tuples(st.just("fine"), member, st.integers(1, 5_000)),
    st.tuples(st.just("pay_fine"), member, st.integers(1, 5_000)),
    st.tuples(st.just("miss"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("recover"), st.integers(0, 5)),
    st.tuples(st.just("exit"), member),
    st.tuples(st.just("shareout"),),
    st.tuples(st.just("reverse"), st.integers(0, 80)),
)


class History:
    def __init__(self, session, chama) -> None:
        self.session, self.chama = session, chama
        self.org = session.get(Org, chama.id)
        self.invoiced: set[int] = set()  # cycles whose invoices are issued

    def who(self, i: int):
        return self.chama.everyone[i]

    def _lent(self, i: int) -> ChamaLoan | None:
        out = list(self.session.scalars(select(ChamaLoan).where(
            ChamaLoan.org_id == self.chama.id, ChamaLoan.status.in_(loans.LENT)).order_by(ChamaLoan.id)))
        return out[i % len(out)] if out else None

    def contribute(self, m: int, a: int) -> None:
        ledger.record_contribution(self.session, ACTOR, self.chama.id, self.who(m).id, a)

    def opening(self, m: int, a: int) -> None:
        ledger.record_opening_balance(self.session, ACTOR, self.chama.id, self.who(m).id, a)

    def loan(self, m: int, a: int, months: int, guaranteed: bool) -> None:
        applicant = self.who(m)
        backer = self.who((m + 1) % MEMBERS)
        free = ledger.sums(self.session, self.chama.id, member_id=backer.id).savings // 2
        pledges = [(backer.id, free)] if guaranteed and free > 0 else []
        loan = loans.request_loan(self.session, ACTOR, self.chama.id, applicant.id, a, months=months,
                                  guarantors=pledges)
        for g, _amount in pledges:
            loans.answer_guarantee(self.session, ACTOR, self.chama.id, loan.id, g, accept=True)
        for official in self.chama.checkers(applicant.id)[:loan.approvals_required]:
            loans.approve_loan(self.session, ACTOR, self.chama.id, loan.id, by_member_id=official.id)
        loans.disburse_loan(self.session, ACTOR, self.chama.id, loan.id)

    def owing(self, i: int, what: str):
        """The i-th member who owes ``what`` (so a payment has something to pay), else anyone."""
        owe = [m for m in self.chama.everyone
               if getattr(ledger.sums(self.session, self.chama.id, member_id=m.id), what) > 0]
        return owe[i % len(owe)] if owe else self.who(i)

    def repay(self, m: int, a: int) -> None:  # partial, exact or more than owed (split off to savings)
        loans.record_repayment(self.session, ACTOR, self.chama.id, self.owing(m, "loan").id, a)

    def fine(self, m: int, a: int) -> None:
        fines.charge_fine(self.session, ACTOR, self.chama.id, self.who(m).id, a, reason="rules")

    def pay_fine(self, m: int, a: int) -> None:
        fines.record_fine_payment(self.session, ACTOR, self.chama.id, self.owing(m, "fines").id, a)

    def miss(self, i: int, number: int) -> None:
        loan = self._lent(i)
        if loan is None or number > loan.months:
            return
        when = loans.schedule_of(loan, loan.first_due_on)[number - 1].due_on + timedelta(days=30)
        loans.mark_overdue(self.session, self.org, ACTOR, loan, number,
                           loans.disbursement_of(self.session, loan).id, when)
        self.session.commit()

    def recover(self, i: int) -> None:
        loan = self._lent(i)
        if loan is not None:
            loans.recover_default(self.session, ACTOR, self.chama.id, loan.id)

    def exit(self, m: int) -> None:
        leaver = self.who(m)
        request = exits.request_exit(self.session, ACTOR, self.chama.id, leaver.id, reason="moving",
                                     by_member_id=self.chama.secretary.id if leaver.id != self.chama.secretary.id
                                     else self.chama.chair.id)
        if request is not None:
            approve_by_checkers(self.session, self.chama, request, leaver.id)
            payouts.pay_payout(self.session, ACTOR, self.chama.id, request.id)

    def shareout(self) -> None:
        """The end of a cycle: what is owed is paid in cash first, as treasurers do before the AGM."""
        for m in self.chama.everyone:
            owed = ledger.sums(self.session, self.chama.id, member_id=m.id)
            if owed.loan > 0:
                loans.record_repayment(self.session, ACTOR, self.chama.id, m.id, owed.loan + owed.fines)
            elif owed.fines > 0:
                fines.record_fine_payment(self.session, ACTOR, self.chama.id, m.id, owed.fines)
        plan = shareout.preview_shareout(self.session, ACTOR, self.chama.id)
        shareout.commit_shareout(self.session, ACTOR, self.chama.id, code=plan.code)

    def reverse(self, i: int) -> None:
        ids = [e.id for e in entries(self.session, self.chama.id)]
        ledger.reverse_entry(self.session, ACTOR, self.chama.id, ids[i % len(ids)], reason="mistake")

    # ------------------------------------------------------------------ what must always hold

    def invoice_cycle(self) -> None:
        """Each cycle, once: an invoice of 10,000 for every active member, due the day after it began."""
        cycle = current_cycle(self.session, self.chama.id)
        if cycle.number in self.invoiced:
            return
        self.invoiced.add(cycle.number)
        due = (cycle.started_on or date(2025, 1, 1)) + timedelta(days=1)
        for m in self.session.scalars(select(ChamaMember).where(ChamaMember.org_id == self.chama.id,
                                                                ChamaMember.status == "active")):
            self.session.add(ChamaInvoice(org_id=self.chama.id, member_id=m.id, period=f"c{cycle.number}",
                                          due_on=due, amount_minor=10_000))
        self.session.commit()

    def check(self) -> None:
        s, org_id = self.session, self.chama.id
        total = ledger.sums(s, org_id)
        assert total == recount(s, org_id)
        assert total.pool >= 0 and total.pool == total.savings + total.earnings - total.principal
        rows = entries(s, org_id)
        reversed_ids = {e.reverses_id for e in rows if e.reverses_id}
        cycle = current_cycle(s, org_id)
        shareouts = {so.id: so.committed_at for so in s.scalars(select(ChamaShareout).where(
            ChamaShareout.org_id == org_id))}
        expected_arrears = {}
        for m in self.chama.everyone:
            mine = ledger.sums(s, org_id, member_id=m.id)
            assert mine == recount(s, org_id, member_id=m.id)
            assert min(mine.savings, mine.principal, mine.interest, mine.fines) >= 0
            row = s.get(ChamaMember, m.id)
            standing = [e for e in rows if e.member_id == m.id and e.id not in reversed_ids and e.kind != "reversal"]
            if row.status == "exited":
                assert mine.savings == 0  # paid once, at her exit
                exit_day = max(e.occurred_at for e in standing if e.kind == "exit_settlement") if any(
                    e.kind == "exit_settlement" for e in standing) else None
                if exit_day is not None:
                    assert not any(e.kind == "shareout" and e.occurred_at > exit_day for e in standing)
            # Savings handed back never exceed savings put in.
            put_in = sum(e.savings_minor for e in standing if e.savings_minor > 0)
            taken = -sum(e.savings_minor for e in standing if e.savings_minor < 0)
            assert taken <= put_in
            # Arrears: the invoices due in this cycle less this cycle's contributions that stand.
            invoiced = sum(i.amount_minor for i in s.scalars(select(ChamaInvoice).where(
                ChamaInvoice.member_id == m.id))
                if cycle.started_on is None or i.due_on > cycle.started_on)
            paid = sum(e.amount_minor for e in standing if e.kind == "contribution"
                       and e.id > cycle.after_entry)
            if invoiced > paid:
                expected_arrears[m.id] = invoiced - paid
        far = (cycle.started_on or date(2025, 1, 1)) + timedelta(days=400)
        assert arrears_by_member(s, org_id, through=far) == expected_arrears
        for so_id in shareouts:  # each share-out paid each member at most once
            paid_to = [e.member_id for e in rows if e.shareout_id == so_id and e.kind == "shareout"]
            assert len(paid_to) == len(set(paid_to))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=6, max_size=12))
# A leaver who left with nothing, whose earlier share-out payment is then reversed: her savings are back,
# so she is a member again rather than a leaver holding savings.
@example(steps=[("reverse", 0), ("shareout",), ("exit", 0), ("exit", 5), ("reverse", 23), ("exit", 5)])
def test_multi_cycle_histories_keep_every_promise(session, make_org, steps):
    chama = make_chama(session, make_org, extra_members=MEMBERS - 3, interest_kind="flat", interest_rate_bp=200,
                       sms_receipts=False, loan_penalty_bp=500, default_after_missed=1)
    history = History(session, chama)
    for index in range(MEMBERS):
        history.contribute(index, 20_000)
    history.invoice_cycle()
    history.check()
    for name, *args in steps:
        before = len(entries(session, chama.id))
        try:
            getattr(history, name)(*args)
        except OfisiError:
            event(f"{name} refused")
            if name != "shareout":  # its cash settling comes first and stands
                assert len(entries(session, chama.id)) == before  # a refusal writes nothing
            continue
        event(f"{name} done")
        history.invoice_cycle()
        history.check()
