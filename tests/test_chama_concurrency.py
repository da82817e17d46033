"""Money under concurrency, with real threads each on its own connection.

On PostgreSQL this is what proves the locks and unique keys; on SQLite the
same tests show that the one-writer rule (BEGIN IMMEDIATE) gives the same result.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from config.errors import OfisiError
from core.chama import ledger, loans, shareout
from core.chama.dues import contributed_by_member
from core.chama.importing import import_members
from core.chama.members import list_members
from core.errors import Conflict
from db.models import Message
from db.models_chama import ChamaLedgerEntry
from tests.chama_support import ACTOR, approved_loan, make_chama
from tests.fakes import phone

WORKERS = 10


def race(db, calls: list[Callable], workers: int = WORKERS) -> tuple[list, list[Exception]]:
    """Run each call in its own session on ``workers`` threads released together; (results, domain errors)."""
    go = threading.Event()
    results, refused = [], []
    lock = threading.Lock()

    def run(call: Callable) -> None:
        go.wait(30)
        with db.session() as s:
            try:
                value = call(s)
            except OfisiError as exc:
                with lock:
                    refused.append(exc)
                return
        with lock:
            results.append(value)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, call) for call in calls]
        go.set()
        for future in futures:
            future.result(timeout=120)
    return results, refused


@pytest.fixture
def chama(committed_db, make_org):
    with committed_db.session() as s:
        return make_chama(s, make_org, sms_receipts=True)


def test_200_contributions_at_once_leave_the_pool_equal_to_their_sum(committed_db, chama):
    n, workers = 200, 12
    rows = [(i + 2, {"name": f"Member {i}", "phone": phone(1000 + i)}) for i in range(n)]
    with committed_db.session() as s:
        assert import_members(s, ACTOR, chama.id, rows).created == n
        member_ids = [m.id for m in list_members(s, ACTOR, chama.id, limit=1000)][-n:]
    amounts = [100 * (i + 1) for i in range(n)]
    calls = [lambda s, m=m, a=a: ledger.record_contribution(s, ACTOR, chama.id, m, a, source="mpesa",
                                                            reference=f"QK{m}")
             for m, a in zip(member_ids, amounts)]
    results, refused = race(committed_db, calls, workers=workers)
    assert refused == [] and len(results) == n
    with committed_db.session() as s:
        assert ledger.sums(s, chama.id).pool == sum(amounts)
        assert s.scalar(select(func.count()).select_from(ChamaLedgerEntry)) == n
        assert s.scalar(select(func.count()).select_from(Message)) == n  # one receipt each


def test_ten_deliveries_of_the_same_payment_write_one_entry(committed_db, chama):
    member = chama.members[0].id
    calls = [lambda s: ledger.record_contribution(s, ACTOR, chama.id, member, 50_000, source="mpesa",
                                                  idempotency_key="ws_CO_191220191020363925",
                                                  reference="NLJ7RT61SV")] * 10
    results, refused = race(committed_db, calls)
    assert refused == []
    assert len({r.id for r in results}) == 1
    assert Counter(r.replayed for r in results) == {True: 9, False: 1}
    with committed_db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChamaLedgerEntry)) == 1
        assert ledger.sums(s, chama.id).pool == 50_000
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_disbursements_at_once_never_take_the_pool_below_zero(committed_db, chama):
    with committed_db.session() as s:
        for m in chama.everyone:
            ledger.record_contribution(s, ACTOR, chama.id, m.id, 200_000)  # pool 10,000
        loan_ids = [approved_loan(s, chama, m, 400_000, months=2).id for m in chama.everyone]
    calls = [lambda s, loan_id=loan_id: loans.disburse_loan(s, ACTOR, chama.id, loan_id) for loan_id in loan_ids]
    results, refused = race(committed_db, calls)
    assert len(results) == 2 and len(refused) == 3
    assert all("The pool holds KES 2,000" in str(e) for e in refused)
    with committed_db.session() as s:
        assert ledger.sums(s, chama.id).pool == 200_000


def test_one_reversal_wins_and_two_officials_approving_at_once_both_count(committed_db, chama):
    member = chama.members[0]
    with committed_db.session() as s:
        entry = ledger.record_contribution(s, ACTOR, chama.id, member.id, 300_000)
        loan = loans.request_loan(s, ACTOR, chama.id, member.id, 100_000, months=1)
    results, refused = race(committed_db, [lambda s: ledger.reverse_entry(s, ACTOR, chama.id, entry.id,
                                                                          reason="duplicate")] * 5)
    assert len(results) == 1 and all("already reversed" in str(e) for e in refused) and len(refused) == 4
    calls = [lambda s, o=o: loans.approve_loan(s, ACTOR, chama.id, loan.id, by_member_id=o.id)
             for o in chama.officials[:2]] * 2  # each official twice
    results, refused = race(committed_db, calls, workers=4)
    assert len(results) == 2 and len(refused) == 2
    assert all("already decided" in str(e) or "already approved" in str(e) for e in refused)
    with committed_db.session() as s:
        view = loans.get_loan(s, ACTOR, chama.id, loan.id)
        assert view.status == "approved" and len(view.approvals) == 2
        assert ledger.sums(s, chama.id).pool == 0


def commit_shareout_when_still(db, org_id: int, *, attempts: int = 500,
                               committing: Callable[[], None] = lambda: None):
    """Preview and commit a share-out as a treasurer would, again while the books keep changing under it;
    ``committing`` is called between each preview and its commit."""
    for _ in range(attempts):
        with db.session() as s:
            code = shareout.preview_shareout(s, ACTOR, org_id).code
            committing()
            try:
                return shareout.commit_shareout(s, ACTOR, org_id, code=code)
            except Conflict as exc:
                assert "books changed" in str(exc)
    raise AssertionError("the share-out never found the books still")


def assert_each_contribution_in_one_cycle(db, org_id: int) -> tuple[int, int]:
    """Every contribution is either in the share-out's paid-out savings or in the new cycle's arrears
    count, never neither and never both, and the ledger balances; (shared out, in the new cycle)."""
    with db.session() as s:
        entries = list(s.scalars(select(ChamaLedgerEntry).where(ChamaLedgerEntry.org_id == org_id)
                                 .order_by(ChamaLedgerEntry.id)))
        new_cycle = contributed_by_member(s, org_id)
        balances = ledger.sums_by_member(s, org_id)
        pool = ledger.sums(s, org_id).pool
    shared = [e for e in entries if e.kind == "shareout"]
    assert shared, "the share-out committed"
    first, last = shared[0].id, shared[-1].id
    assert [e.id for e in entries if first <= e.id <= last and e.kind == "contribution"] == []
    before, after = Counter(), Counter()
    for e in entries:
        if e.kind == "contribution":
            (before if e.id < first else after)[e.member_id] += e.amount_minor
    assert {e.member_id: -e.savings_minor for e in shared} == dict(before)  # shared out: exactly those before
    assert new_cycle == dict(after)  # the new cycle counts exactly those after
    assert {m: b.savings for m, b in balances.items() if b.savings} == dict(after)  # nobody holds a lost one
    assert pool == sum(after.values())
    return sum(before.values()), sum(after.values())


def test_a_contribution_being_saved_as_the_shareout_commits_lands_in_one_cycle(committed_db, chama):
    if committed_db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: a contribution half saved holds every other one back")
    member = chama.members[0].id
    with committed_db.session() as s:
        for m in chama.everyone:
            ledger.record_contribution(s, ACTOR, chama.id, m.id, 100_000)
    inserted, release, shared = threading.Event(), threading.Event(), threading.Event()

    def contribute() -> None:
        with committed_db.session() as s:
            def hold(session) -> None:  # once the entry is written, before its transaction commits
                if any(isinstance(row, ChamaLedgerEntry) for row in session.identity_map.values()):
                    inserted.set()
                    release.wait(30)
            event.listen(s, "before_commit", hold)
            ledger.record_contribution(s, ACTOR, chama.id, member, 7_000, source="mpesa", reference="QMID0001")

    def share() -> None:
        inserted.wait(30)
        commit_shareout_when_still(committed_db, chama.id)
        shared.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(contribute), pool.submit(share)]
        try:
            assert inserted.wait(30)
            time.sleep(0.5)
            waited = not shared.is_set()
        finally:
            release.set()
        for future in futures:
            future.result(timeout=60)
    assert assert_each_contribution_in_one_cycle(committed_db, chama.id) == (5 * 100_000 + 7_000, 0)
    assert waited, "the share-out waited for the contribution being saved, then shared it out"


def test_contributions_racing_a_shareout_are_each_in_one_cycle(committed_db, chama):
    with committed_db.session() as s:
        for m in chama.everyone:
            ledger.record_contribution(s, ACTOR, chama.id, m.id, 100_000)
    n, first, committing = 60, threading.Semaphore(0), threading.Event()

    def contribute(s, i: int):
        if i >= n // 3:  # the rest arrive as the treasurer presses commit, over a few milliseconds
            committing.wait(30)
            time.sleep(i % 10 * 0.002)
        entry = ledger.record_contribution(s, ACTOR, chama.id, chama.everyone[i % 5].id, 1_000 + i,
                                           source="mpesa", reference=f"QRACE{i:04d}")
        if i < n // 3:
            first.release()
        return entry

    def share(s):
        for _ in range(n // 3):  # the treasurer previews once the first third is in
            first.acquire(timeout=30)
        return commit_shareout_when_still(committed_db, chama.id, committing=committing.set)

    calls: list[Callable] = [lambda s, i=i: contribute(s, i) for i in range(n)]
    calls.insert(0, share)
    results, refused = race(committed_db, calls, workers=12)
    assert refused == [] and len(results) == n + 1
    before, after = assert_each_contribution_in_one_cycle(committed_db, chama.id)
    assert before + after == 5 * 100_000 + sum(1_000 + i for i in range(n))
