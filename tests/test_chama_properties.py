"""Property tests: random sequences of contributions, fines, loans, interest, repayments,
payouts and reversals keep the ledger's promises.

After every step: each balance equals the sum of its ledger entries (read in
the test from each entry's kind and amount, not from the stored effects),
no balance and never the pool goes below zero, ``pool = savings + earnings -
principal``, and no entry already written has changed. A refused step
writes nothing. A repayment pays fines, then interest, then principal.
Undoing the step just taken restores every balance exactly.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sqlalchemy import select

from config.errors import OfisiError
from core.chama import fines, ledger, loans, payouts
from core.chama.ledger import Balances
from db.models import Org
from db.models_chama import ChamaLedgerEntry, ChamaLoan
from tests.chama_support import ACTOR, entries, make_chama, read_effect

member = st.integers(0, 4)
amount = st.integers(1, 30_000)
loan = st.tuples(st.just("loan"), member, st.integers(1, 60_000), st.integers(1, 6))
repay = st.tuples(st.just("repay"), member, st.integers(1, 10_000))
step = st.one_of(  # loans and repayments twice over: they need each other
    loan, repay, loan, repay,
    st.tuples(st.just("contribute"), member, amount),
    st.tuples(st.just("fine"), member, st.integers(1, 5_000)),
    st.tuples(st.just("pay_fine"), member, st.integers(1, 5_000)),
    st.tuples(st.just("interest"), st.integers(0, 5)),
    st.tuples(st.just("payout"), st.integers(1, 40_000)),
    st.tuples(st.just("reverse"), st.integers(0, 60)),
    st.tuples(st.just("undo")),
)


def row(entry: ChamaLedgerEntry) -> tuple:
    return tuple(getattr(entry, c.key) for c in ChamaLedgerEntry.__table__.columns)


class Books:
    """The test's own reading of the ledger, kept up to date one step at a time."""

    def __init__(self, session, chama) -> None:
        self.session, self.chama = session, chama
        self.entries: dict[int, ChamaLedgerEntry] = {}
        self.seen: dict[int, tuple] = {}  # every column of every entry, as first read
        self.counted: dict = {}  # balances: None for the chama, member ids, ("loan", id)

    def new_entries(self) -> list[ChamaLedgerEntry]:
        last = max(self.entries, default=0)
        return list(self.session.scalars(select(ChamaLedgerEntry).where(
            ChamaLedgerEntry.org_id == self.chama.id, ChamaLedgerEntry.id > last).order_by(ChamaLedgerEntry.id)))

    def take(self, new: list[ChamaLedgerEntry]) -> None:
        for e in new:
            self.entries[e.id], self.seen[e.id] = e, row(e)
            change = read_effect(e, self.entries)
            for key in {None, e.member_id, ("loan", e.loan_id)}:
                self.counted[key] = self.counted.get(key, Balances()) + change

    def balance(self, key) -> Balances:
        return self.counted.get(key, Balances())

    def balances(self) -> dict:
        return {key: self.balance(key) for key in [None, *(m.id for m in self.chama.everyone)]}

    def check(self) -> None:
        """The services' balances equal the test's sums, and none is below zero."""
        total = ledger.sums(self.session, self.chama.id)
        assert total == self.balance(None)
        assert total.pool >= 0
        assert total.pool == total.savings + total.earnings - total.principal
        for m in self.chama.everyone:
            mine = ledger.sums(self.session, self.chama.id, member_id=m.id)
            assert mine == self.balance(m.id)
            assert min(mine.savings, mine.principal, mine.interest, mine.fines) >= 0
        for key, owed in self.counted.items():
            if isinstance(key, tuple) and key[1] is not None:
                assert owed.principal >= 0 and owed.interest >= 0

    def unchanged(self) -> None:
        """Nothing once written has changed since it was first read."""
        assert [row(e) for e in entries(self.session, self.chama.id)] == list(self.seen.values())


class Runner:
    """Applies one step through the services, as the console or the CLI would."""

    def __init__(self, session, chama) -> None:
        self.session, self.chama = session, chama
        self.org = session.get(Org, chama.id)
        self.instalments: dict[int, int] = {}
        self.books = Books(session, chama)

    def who(self, index: int):
        return self.chama.everyone[index]

    def owing(self, index: int, what: str):
        """The index-th member who owes ``what`` (so steps that pay have something to pay), else anyone."""
        owe = [m for m in self.chama.everyone if getattr(self.books.balance(m.id), what) > 0]
        return owe[index % len(owe)] if owe else self.who(index)

    def contribute(self, m: int, a: int) -> None:
        ledger.record_contribution(self.session, ACTOR, self.chama.id, self.who(m).id, a)

    def fine(self, m: int, a: int) -> None:
        fines.charge_fine(self.session, ACTOR, self.chama.id, self.who(m).id, a, reason="rules")

    def pay_fine(self, m: int, a: int) -> None:
        fines.record_fine_payment(self.session, ACTOR, self.chama.id, self.owing(m, "fines").id, a)

    def loan(self, m: int, a: int, months: int) -> None:
        applicant = self.who(m)
        loan = loans.request_loan(self.session, ACTOR, self.chama.id, applicant.id, a, months=months)
        for official in self.chama.checkers(applicant.id):
            loans.approve_loan(self.session, ACTOR, self.chama.id, loan.id, by_member_id=official.id)
        loans.disburse_loan(self.session, ACTOR, self.chama.id, loan.id)

    def interest(self, i: int) -> None:
        out = [ln for ln in self.session.query(ChamaLoan).filter(ChamaLoan.org_id == self.chama.id,
                                                                 ChamaLoan.status == "disbursed")
               .order_by(ChamaLoan.id)]
        if not out:
            return
        loan = out[i % len(out)]
        disbursement = loans.disbursement_of(self.session, loan)
        number = self.instalments[loan.id] = self.instalments.get(loan.id, 0) + 1
        loans.charge_instalment_interest(self.session, self.org, ACTOR, loan, number, disbursement.id)
        self.session.commit()

    def repay(self, m: int, a: int) -> None:
        member = self.owing(m, "loan")
        fines_owed = self.books.balance(member.id).fines
        entry = loans.record_repayment(self.session, ACTOR, self.chama.id, member.id, a)
        owed = ledger.sums(self.session, self.chama.id, loan_id=entry.loan_id) - entry.change
        # Beyond fines, interest and principal the rest is split off to savings: the entry is what was owed.
        a = min(a, fines_owed + owed.interest + owed.principal)
        assert entry.amount_minor == a
        paid_fines = min(a, fines_owed)
        paid_interest = min(a - paid_fines, owed.interest)
        assert entry.change == Balances(fines=-paid_fines, interest=-paid_interest,
                                        principal=-(a - paid_fines - paid_interest), pool=a,
                                        earnings=paid_fines + paid_interest)

    def payout(self, a: int) -> None:
        payout = payouts.request_payout(self.session, ACTOR, self.chama.id, a, purpose="welfare", payee="Clinic")
        for official in self.chama.officials[:2]:
            payouts.approve_payout(self.session, ACTOR, self.chama.id, payout.id, by_member_id=official.id)
        payouts.pay_payout(self.session, ACTOR, self.chama.id, payout.id)

    def reverse(self, i: int) -> None:
        ids = sorted(self.books.entries)
        ledger.reverse_entry(self.session, ACTOR, self.chama.id, ids[i % len(ids)], reason="mistake")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(interest=st.sampled_from(["flat", "reducing"]), steps=st.lists(step, min_size=4, max_size=15))
def test_random_sequences_keep_the_ledger_sound(session, make_org, interest, steps):
    chama = make_chama(session, make_org, interest_kind=interest, interest_rate_bp=250, sms_receipts=False)
    runner = Runner(session, chama)
    books = runner.books
    for index in range(len(chama.everyone)):
        runner.contribute(index, 20_000)  # something to lend and pay out from the start
    books.take(books.new_entries())
    books.check()
    previous: tuple[dict, list[int]] | None = None  # balances before the last step, and the entries it wrote
    for name, *args in steps:
        before = books.balances()
        try:
            if name == "undo":
                undo(session, chama, previous)
            else:
                getattr(runner, name)(*args)
        except OfisiError as exc:
            event(f"{name} refused")
            assert books.new_entries() == []  # a refusal writes nothing
            # Undoing the step just taken is always possible, unless that step was itself a reversal.
            assert name != "undo" or "cannot be reversed" in str(exc)
            previous = None
            continue
        event(f"{name} done")
        new = books.new_entries()
        books.take(new)
        check_reversals(books, new, before)
        books.check()
        if name == "undo" and previous is not None:
            assert books.balances() == previous[0]  # undoing the last step restores every balance
        previous = (before, [e.id for e in new]) if new and name != "undo" else None
    books.unchanged()


def check_reversals(books: Books, new: list[ChamaLedgerEntry], before: dict) -> None:
    """Each reversal is the exact negative of what it reverses, and balances move by just that."""
    if not new or any(e.kind != "reversal" for e in new):
        return
    moved = Balances()
    for reversal in new:
        original = books.entries[reversal.reverses_id]
        assert ledger.effect_of(reversal) == -ledger.effect_of(original) == -read_effect(original, books.entries)
        moved = moved + ledger.effect_of(reversal)
    assert books.balance(None) == before[None] + moved


def undo(session, chama, previous: tuple[dict, list[int]] | None) -> None:
    """Reverse what the step before wrote (the caller then checks every balance is back)."""
    if previous is None:
        return
    _before, written = previous
    first = session.get(ChamaLedgerEntry, written[0])
    if first.kind == "reversal":
        try:
            ledger.reverse_entry(session, ACTOR, chama.id, first.id, reason="undo")
        except OfisiError as exc:
            assert "cannot be reversed" in str(exc)
            raise
        raise AssertionError("a reversal was reversed")
    # A disbursement takes its interest back with it; an overpaid repayment wrote its rest as a second part.
    for entry_id in reversed(written):
        if session.scalar(select(ChamaLedgerEntry.id).where(ChamaLedgerEntry.reverses_id == entry_id)) is None:
            ledger.reverse_entry(session, ACTOR, chama.id, entry_id, reason="undo")
