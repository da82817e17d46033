"""A chama loan (or payout) paid out by M-Pesa B2C through the fake Daraja and the running gateway:
the request is written before it leaves, the ledger shows the money only when Daraja reports that it
left, a failure or a timeout leaves the loan approved with the reason, and a lost result is settled by
the Transaction Status query that `ofisi jobs run-due` asks."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from commands.main import app
from config import load_settings
from core.chama import ledger, loans, members, payouts
from core.errors import Conflict
from db.models_payments import Disbursement, PaymentCallback
from db.types import utcnow
from tests.chama_support import ACTOR, approved_loan
from tests.fakes.daraja import B2C_PATH, STATUS_PATH, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.payments_support import ledger_rows, paybill_chama

TOKEN = "cb-token"
LOAN = 300_000  # KES 3,000 to M010


@pytest.fixture
def world(committed_db, make_org, fake_daraja, monkeypatch):
    """The chama with an approved loan for M010, the gateway, and the CLI's settings pointing at both."""
    from config.settings import get_settings

    with committed_db.session() as s:
        chama = paybill_chama(s, make_org)
        loan = approved_loan(s, chama, chama.members[1], LOAN)
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        env = {"OFISI_DATABASE_URL": committed_db.url, **fake_daraja.env(public_url=base, callback_token=TOKEN)}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield chama, loan
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def disburse(chama, loan_id: int):
    return run("mpesa", "disburse", "loan", str(loan_id), "--org", chama.org.slug)


def state(db, chama, loan_id: int) -> tuple:
    """(loan status, disbursement statuses, the chama's loan disbursements, pool, M010's loan owed)."""
    with db.session() as s:
        loan = loans.get_loan(s, ACTOR, chama.id, loan_id)
        rows = s.scalars(select(Disbursement.status).where(Disbursement.subject_id == loan_id)
                         .order_by(Disbursement.id)).all()
        entries = [r for r in ledger_rows(s, chama.id) if r[0] == "loan_disbursement" and r[1] == "M010"]
        owed = ledger.member_balances(s, ACTOR, chama.id, chama.members[1].id).loan_outstanding_minor
        return loan.status, list(rows), entries, ledger.sums(s, chama.id).pool, owed


def only_b2c(fake) -> str:
    [originator] = fake.b2c
    return originator


def test_success_credits_once_and_nothing_shows_before_the_money_left(committed_db, world, fake_daraja):
    chama, loan = world
    _, _, _, pool, _ = state(committed_db, chama, loan.id)
    sent = disburse(chama, loan.id)
    assert sent.exit_code == 0, sent.output
    assert "is awaiting; the books show it when M-Pesa reports that it left" in sent.output
    body = fake_daraja.received(B2C_PATH)[0].body
    assert (body["PartyB"], body["Amount"], body["InitiatorName"], body["CommandID"]) == (
        "254710000010", 3000, "ofisi-api", "BusinessPayment")
    assert body["ResultURL"].endswith(f"/mpesa/b2c/result?token={TOKEN}")
    # Sent, not yet reported: the books show nothing, and the loan cannot be sent twice.
    assert state(committed_db, chama, loan.id) == ("approved", ["awaiting"], [], pool, 0)
    again = disburse(chama, loan.id)
    assert isinstance(again.exception, Conflict) and "already awaiting" in str(again.exception)
    originator = only_b2c(fake_daraja)
    assert fake_daraja.settle_b2c(originator, 0).json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    httpx.post(fake_daraja.b2c[originator].body["ResultURL"], json=fake_daraja.b2c_result_for(originator))  # replay
    receipt = fake_daraja.b2c[originator].receipt
    assert state(committed_db, chama, loan.id) == (
        "disbursed", ["succeeded"], [("loan_disbursement", "M010", LOAN, receipt)], pool - LOAN, LOAN)
    with committed_db.session() as s:
        verdicts = s.scalars(select(PaymentCallback.verdict).where(PaymentCallback.source == "b2c")
                             .order_by(PaymentCallback.id)).all()
        assert verdicts == ["applied", "duplicate"]
    listed = json.loads(run("mpesa", "disbursements", "--org", chama.org.slug, "--json").stdout)
    assert [(d["status"], d["receipt_number"]) for d in listed] == [("succeeded", receipt)]


def test_a_failure_returns_the_loan_to_approved_with_the_reason(committed_db, world, fake_daraja):
    chama, loan = world
    _, _, _, pool, _ = state(committed_db, chama, loan.id)
    assert disburse(chama, loan.id).exit_code == 0
    fake_daraja.settle_b2c(only_b2c(fake_daraja), 1)  # the balance is insufficient
    assert state(committed_db, chama, loan.id) == ("approved", ["failed"], [], pool, 0)
    listed = json.loads(run("mpesa", "disbursements", "--org", chama.org.slug, "--json").stdout)
    assert [(d["status"], d["last_error"]) for d in listed] == [
        ("failed", "The balance is insufficient for the transaction.")]
    # Approved again: it can be sent anew.
    assert disburse(chama, loan.id).exit_code == 0
    assert len(fake_daraja.b2c) == 2


def test_a_refused_request_fails_at_once(committed_db, world, fake_daraja, monkeypatch):
    from config.settings import get_settings

    chama, loan = world
    monkeypatch.setenv("OFISI_MPESA_SECURITY_CREDENTIAL", "not-the-credential")
    get_settings.cache_clear()
    refused = disburse(chama, loan.id)
    assert refused.exit_code == 1 and "still approved" in refused.output and "Invalid Initiator" in refused.output
    assert state(committed_db, chama, loan.id)[:3] == ("approved", ["failed"], [])


def test_without_the_initiator_nothing_is_written(committed_db, world, monkeypatch):
    from config.settings import get_settings

    chama, loan = world
    monkeypatch.delenv("OFISI_MPESA_INITIATOR_NAME")
    get_settings.cache_clear()
    refused = disburse(chama, loan.id)
    assert refused.exit_code == 1 and "ofisi secrets set mpesa_initiator_name" in str(refused.exception)
    assert state(committed_db, chama, loan.id)[:3] == ("approved", [], [])


def ask_and_answer(committed_db, fake_daraja, *, overdue: bool, nth: int = 1) -> None:
    """`ofisi jobs run-due` asks Daraja (Transaction Status); Daraja's answer comes to the gateway."""
    if overdue:  # no result came within the wait
        with committed_db.session() as s:
            s.execute(update(Disbursement).values(next_check_at=utcnow().replace(year=2025)))
            s.commit()
    ran = run("jobs", "run-due")
    assert ran.exit_code == 0, ran.output
    queries = fake_daraja.received(STATUS_PATH)
    assert len(queries) == nth
    query = queries[-1]
    assert query.body["OriginalConversationID"] == only_b2c(fake_daraja)
    assert fake_daraja.answer_status(query).json() == {"ResultCode": 0, "ResultDesc": "Accepted"}


def test_a_timeout_is_settled_by_the_status_query(committed_db, world, fake_daraja):
    chama, loan = world
    _, _, _, pool, _ = state(committed_db, chama, loan.id)
    assert disburse(chama, loan.id).exit_code == 0
    fake_daraja.b2c_timeout(only_b2c(fake_daraja))
    assert state(committed_db, chama, loan.id) == ("approved", ["awaiting"], [], pool, 0)
    ask_and_answer(committed_db, fake_daraja, overdue=False)  # asked at once: Daraja has no such payment...
    # ...but it may still be in Daraja's queue: not yet a "no", so the loan cannot be sent twice.
    assert state(committed_db, chama, loan.id) == ("approved", ["awaiting"], [], pool, 0)
    with committed_db.session() as s:  # ten minutes on, Daraja still has no such payment: it never left
        s.execute(update(Disbursement).values(sent_at=utcnow() - timedelta(minutes=11)))
        s.commit()
    ask_and_answer(committed_db, fake_daraja, overdue=True, nth=2)
    assert state(committed_db, chama, loan.id) == ("approved", ["failed"], [], pool, 0)
    with committed_db.session() as s:
        row = s.scalar(select(Disbursement))
        assert "no completed payment" in row.last_error


def test_a_lost_result_is_settled_by_the_status_query(committed_db, world, fake_daraja):
    chama, loan = world
    _, _, _, pool, _ = state(committed_db, chama, loan.id)
    assert disburse(chama, loan.id).exit_code == 0
    originator = only_b2c(fake_daraja)
    fake_daraja.settle_b2c(originator, 0, post=False)  # paid, but the result never reached us
    assert run("jobs", "run-due").exit_code == 0
    assert fake_daraja.received(STATUS_PATH) == []  # not overdue yet
    ask_and_answer(committed_db, fake_daraja, overdue=True)
    receipt = fake_daraja.b2c[originator].receipt
    entries = [("loan_disbursement", "M010", LOAN, receipt)]
    assert state(committed_db, chama, loan.id) == ("disbursed", ["succeeded"], entries, pool - LOAN, LOAN)
    # The original result, late, changes nothing.
    httpx.post(fake_daraja.b2c[originator].body["ResultURL"], json=fake_daraja.b2c_result_for(originator))
    assert state(committed_db, chama, loan.id) == ("disbursed", ["succeeded"], entries, pool - LOAN, LOAN)


def test_the_pool_must_hold_what_is_already_on_its_way_out(committed_db, world, fake_daraja):
    chama, loan = world
    member = chama.members[0]
    with committed_db.session() as s:
        pool = ledger.sums(s, chama.id).pool
        big = payouts.request_payout(s, ACTOR, chama.id, pool - LOAN + 100, purpose="welfare", member_id=member.id)
        for official in chama.checkers(member.id):
            payouts.approve_payout(s, ACTOR, chama.id, big.id, by_member_id=official.id)
    assert disburse(chama, loan.id).exit_code == 0
    refused = run("mpesa", "disburse", "payout", str(big.id), "--org", chama.org.slug)
    assert isinstance(refused.exception, Conflict) and "needs KES 1 more" in str(refused.exception)
    fake_daraja.settle_b2c(only_b2c(fake_daraja), 1)  # the loan's money did not leave: the pool holds it again
    assert run("mpesa", "disburse", "payout", str(big.id), "--org", chama.org.slug).exit_code == 0
    payout = fake_daraja.b2c[[o for o in fake_daraja.b2c if fake_daraja.b2c[o].result_code is None][0]]
    fake_daraja.settle_b2c(payout.body["OriginatorConversationID"], 0)
    with committed_db.session() as s:
        assert payouts.get_payout(s, ACTOR, chama.id, big.id).status == "paid"
        assert ledger.sums(s, chama.id).pool == LOAN - 100


def test_an_official_settles_one_from_the_portal(committed_db, world, fake_daraja):
    chama, loan = world
    _, _, _, pool, _ = state(committed_db, chama, loan.id)
    assert disburse(chama, loan.id).exit_code == 0
    with committed_db.session() as s:
        first = s.scalar(select(Disbursement.id))
    assert run("mpesa", "settle-disbursement", str(first), "--org", chama.org.slug).exit_code == 2
    done = run("mpesa", "settle-disbursement", str(first), "--org", chama.org.slug, "--not-paid")
    assert done.exit_code == 0 and "is now failed" in done.output
    assert state(committed_db, chama, loan.id) == ("approved", ["failed"], [], pool, 0)
    assert disburse(chama, loan.id).exit_code == 0
    with committed_db.session() as s:
        second = s.scalar(select(Disbursement.id).where(Disbursement.status == "awaiting"))
    paid = run("mpesa", "settle-disbursement", str(second), "--org", chama.org.slug, "--paid", "tlk9portal")
    assert paid.exit_code == 0 and "is now succeeded" in paid.output
    entries = [("loan_disbursement", "M010", LOAN, "TLK9PORTAL")]
    assert state(committed_db, chama, loan.id) == ("disbursed", ["failed", "succeeded"], entries, pool - LOAN, LOAN)
    # Daraja's own result comes late with the same receipt: nothing more is written.
    [originator] = [o for o, p in fake_daraja.b2c.items() if p.body["Occassion"] == f"ofisi {second}"]
    fake_daraja.settle_b2c(originator, 0, receipt="TLK9PORTAL")
    assert state(committed_db, chama, loan.id) == ("disbursed", ["failed", "succeeded"], entries, pool - LOAN, LOAN)


def test_unanswered_status_queries_end_in_review(committed_db, world, fake_daraja):
    from core.jobs import run_due

    chama, loan = world
    assert disburse(chama, loan.id).exit_code == 0
    for day in range(1, 8):  # Daraja never answers the queries
        run_due(committed_db, now=utcnow() + timedelta(days=day))
    assert len(fake_daraja.received(STATUS_PATH)) == 6
    with committed_db.session() as s:
        row = s.scalar(select(Disbursement))
        assert (row.status, row.checks) == ("review", 6) and "no answer after 6 status queries" in row.last_error
    assert state(committed_db, chama, loan.id)[:3] == ("approved", ["review"], [])
    # Held for review, the loan cannot be sent again until an official settles it.
    assert isinstance(disburse(chama, loan.id).exception, Conflict)


def test_money_that_left_but_the_books_refuse_waits_for_an_official(committed_db, world, fake_daraja):
    chama, loan = world
    assert disburse(chama, loan.id).exit_code == 0
    member, borrower = chama.members
    with committed_db.session() as s:
        pool = ledger.sums(s, chama.id).pool
        cash = payouts.request_payout(s, ACTOR, chama.id, pool - 100, purpose="welfare", member_id=member.id)
        for official in chama.checkers(member.id):
            payouts.approve_payout(s, ACTOR, chama.id, cash.id, by_member_id=official.id)
        with pytest.raises(Conflict, match="not already on its way out"):  # the loan's money is spoken for
            payouts.pay_payout(s, ACTOR, chama.id, cash.id)
        members.update_member(s, ACTOR, chama.id, borrower.id, status="suspended")  # meanwhile
    originator = only_b2c(fake_daraja)
    fake_daraja.settle_b2c(originator, 0)
    receipt = fake_daraja.b2c[originator].receipt
    assert state(committed_db, chama, loan.id)[:3] == ("approved", ["review"], [])
    with committed_db.session() as s:
        row = s.scalar(select(Disbursement))
        assert f"M-Pesa sent the money (receipt {receipt}) but the books refused it" in row.last_error
        members.update_member(s, ACTOR, chama.id, borrower.id, status="active")
    settled = run("mpesa", "settle-disbursement", str(row.id), "--org", chama.org.slug, "--paid", receipt)
    assert settled.exit_code == 0, settled.output
    assert state(committed_db, chama, loan.id)[:3] == (
        "disbursed", ["succeeded"], [("loan_disbursement", "M010", LOAN, receipt)])


def test_an_answer_that_may_hide_a_payment_waits_for_the_status_query(committed_db, world, fake_daraja):
    from tests.fakes.daraja import Script

    chama, loan = world
    fake_daraja.next_calls(B2C_PATH, Script(http_status=500, error_code="500.003.1001"))
    sent = disburse(chama, loan.id)
    assert sent.exit_code == 0 and "is awaiting" in sent.output
    with committed_db.session() as s:
        row = s.scalar(select(Disbursement))
        assert (row.status, row.conversation_id) == ("awaiting", None) and "Daraja HTTP 500" in row.last_error
    assert isinstance(disburse(chama, loan.id).exception, Conflict)  # not sent again while its fate is open
