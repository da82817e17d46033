"""Sending STK pushes through the real Daraja client to the fake, and asking Daraja about stale ones.

The discipline under test: the request is committed before anything leaves,
``sending`` is committed before Daraja is called, and a push whose fate is
unknown is never pushed again by itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import jobs, payments
from core.providers import ProviderUnavailable
from db.models import Job
from db.models_payments import PaymentRequest
from db.types import utcnow
from tests.fakes import Clock, wait_until
from tests.fakes.daraja import PUSH_PATH, QUERY_PATH, Script, fake_daraja  # noqa: F401  (fixture)
from tests.payments_support import COMMITTING, CREDIT, ask, credits, status, verdicts


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama").id


def asked(db, org_id: int, **kw) -> int:
    with db.session() as s:
        request_id = ask(s, org_id, **kw)
        s.commit()
    return request_id


def row(db, request_id: int) -> PaymentRequest:
    with db.session() as s:
        return s.get(PaymentRequest, request_id)


class Witness:
    """A client that, as Daraja is called, looks from another session at what is committed."""

    def __init__(self, db, client, request_id: int) -> None:
        self.db, self.client, self.request_id, self.seen = db, client, request_id, []

    def stk_push(self, **kw):
        self.seen.append(row(self.db, self.request_id).status)
        return self.client.stk_push(**kw)


def test_a_push_leaves_only_after_sending_is_committed(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    client = fake_daraja.client()
    witness = Witness(committed_db, client, request_id)
    summary = payments.send_pending_payments(committed_db, witness)
    client.close()
    assert witness.seen == ["sending"] and summary.sent == 1
    sent = row(committed_db, request_id)
    push = fake_daraja.received(PUSH_PATH)[0].body
    assert (sent.status, sent.attempts) == ("awaiting", 1)
    assert sent.checkout_request_id in fake_daraja.pushes and sent.next_check_at > sent.sent_at
    assert (push["Amount"], push["PhoneNumber"], push["AccountReference"]) == (1500, "254712345678", "M0042")
    assert payments.send_pending_payments(committed_db, fake_daraja.client()).sent == 0  # nothing twice


def test_transient_errors_are_retried_with_backoff_then_given_up(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    clock = Clock()
    client = fake_daraja.client()
    fake_daraja.next_calls(PUSH_PATH, *[Script(http_status=503)] * 4)
    assert payments.send_pending_payments(committed_db, client, clock=clock).retried == 1
    first = row(committed_db, request_id)
    assert (first.status, first.attempts) == ("pending", 1) and first.next_attempt_at > clock.now
    assert payments.send_pending_payments(committed_db, client, clock=clock).retried == 0  # not due yet
    for attempt in (2, 3, 4):
        clock.advance(seconds=30)
        payments.send_pending_payments(committed_db, client, clock=clock)
    client.close()
    last = row(committed_db, request_id)
    assert (last.status, last.attempts) == ("failed", 4) and "gave up after 4 attempts" in last.last_error
    assert len(fake_daraja.received(PUSH_PATH)) == 4


def test_a_refused_push_fails_and_an_ambiguous_one_is_never_pushed_again(committed_db, org_id, fake_daraja):
    refused, ambiguous = asked(committed_db, org_id), asked(committed_db, org_id)
    client = fake_daraja.client()
    fake_daraja.next_calls(PUSH_PATH, Script(http_status=400, error_code="400.002.02"), Script(drop=True))
    summary = payments.send_pending_payments(committed_db, client)
    assert (summary.failed, summary.unknown) == (1, 1)
    assert row(committed_db, refused).status == "failed" and "400.002.02" in row(committed_db, refused).last_error
    assert row(committed_db, ambiguous).status == "unknown"
    payments.send_pending_payments(committed_db, client, clock=Clock().advance(hours=1))
    client.close()
    assert len(fake_daraja.received(PUSH_PATH)) == 2


def test_a_sender_that_dies_mid_call_leaves_unknown_never_resent(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    fake_daraja.next_calls(PUSH_PATH, Script(hang=True))
    client = fake_daraja.client()
    stuck = threading.Thread(target=payments.send_pending_payments, args=(committed_db, client), daemon=True)
    stuck.start()
    wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=10, what="the push to reach Daraja")
    assert row(committed_db, request_id).status == "sending"
    # Another sender, later than the stale limit: the stuck one is taken for dead.
    later = Clock().advance(seconds=payments.STALE_AFTER.total_seconds() + 1)
    other = fake_daraja.client()
    summary = payments.send_pending_payments(committed_db, other, clock=later)
    other.close()
    assert (summary.stale_unknown, summary.sent) == (1, 0)
    assert row(committed_db, request_id).status == "unknown"
    assert len(fake_daraja.received(PUSH_PATH)) == 1
    # It was only slow: Daraja's late acceptance is kept, so the callback can find the request.
    fake_daraja.release()
    stuck.join(10)
    client.close()
    assert not stuck.is_alive()
    late = row(committed_db, request_id)
    assert late.status == "awaiting" and late.checkout_request_id in fake_daraja.pushes
    assert len(fake_daraja.received(PUSH_PATH)) == 1


def _push_in_a_child(database_url: str, daraja_url: str) -> None:
    """A child process: one sending run against the shared database and the fake Daraja."""
    from core import payments
    from core.providers.mpesa import DarajaClient
    from db.engine import open_database

    client = DarajaClient(base_url=daraja_url, consumer_key="fake-consumer-key",
                          consumer_secret="fake-consumer-secret", shortcode="174379", passkey="fake-passkey",
                          callback_url="http://127.0.0.1:9/mpesa/stk/callback")
    payments.send_pending_payments(open_database(database_url), client)


def test_a_sender_process_killed_mid_call_leaves_unknown_never_resent(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    fake_daraja.next_calls(PUSH_PATH, Script(hang=True))
    child = multiprocessing.get_context("spawn").Process(
        target=_push_in_a_child, args=(committed_db.url, fake_daraja.url), daemon=True)
    child.start()
    try:
        wait_until(lambda: fake_daraja.received(PUSH_PATH) or not child.is_alive(), timeout=60,
                   what="the child's push to reach Daraja")
        assert row(committed_db, request_id).status == "sending"
    finally:
        child.kill()
        child.join(10)
    assert child.exitcode == -signal.SIGKILL
    later = Clock().advance(seconds=payments.STALE_AFTER.total_seconds() + 1)
    client = fake_daraja.client()
    summary = payments.send_pending_payments(committed_db, client, clock=later)
    client.close()
    assert (summary.stale_unknown, summary.sent) == (1, 0)
    assert row(committed_db, request_id).status == "unknown"
    assert len(fake_daraja.received(PUSH_PATH)) == 1


class Exploding:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def stk_push(self, **kw):
        raise self.exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("client bug")])
def test_an_interrupted_push_is_unknown(committed_db, org_id, exc):
    request_id = asked(committed_db, org_id)
    with pytest.raises(type(exc)):
        payments.send_pending_payments(committed_db, Exploding(exc))
    assert row(committed_db, request_id).status == "unknown"
    assert type(exc).__name__ in row(committed_db, request_id).last_error


def test_a_setting_to_fix_leaves_the_request_as_it_was(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    client = fake_daraja.client(consumer_key="wrong")
    summary = payments.send_pending_payments(committed_db, client)
    client.close()
    assert "consumer key" in summary.stopped
    waiting = row(committed_db, request_id)
    assert (waiting.status, waiting.attempts, waiting.claimed_by) == ("pending", 0, None)


def test_a_request_not_sent_in_time_expires(committed_db, org_id):
    request_id = asked(committed_db, org_id)
    summary = payments.send_pending_payments(committed_db, Exploding(AssertionError("must not be called")),
                                             clock=Clock().advance(minutes=6))
    assert summary.expired == 1 and row(committed_db, request_id).status == "expired"


def test_a_callback_that_outruns_the_checkout_id_is_applied(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    client = fake_daraja.client()

    class Quick:
        """Daraja's callback lands before the sender has recorded the CheckoutRequestID."""

        def stk_push(self, **kw):
            accepted = client.stk_push(**kw)
            fake_daraja.complete(accepted.checkout_request_id, post=False)
            with committed_db.session() as s:
                early = payments.record_stk_callback(s, fake_daraja.callback_for(accepted.checkout_request_id),
                                                     token_ok=True)
            assert early.problem == "unknown_request"
            return accepted

    payments.send_pending_payments(committed_db, Quick())
    client.close()
    with committed_db.session() as s:
        assert status(s, request_id) == "succeeded" and credits(s, request_id) == 1
        assert verdicts(s) == [("applied", None)]


def test_a_push_daraja_could_never_take_fails_without_a_call(committed_db, org_id, fake_daraja):
    request_id = asked(committed_db, org_id)
    with committed_db.session() as s:
        s.execute(update(PaymentRequest).values(amount_minor=150_050))
        s.commit()
    client = fake_daraja.client()
    assert payments.send_pending_payments(committed_db, client).failed == 1
    client.close()
    assert row(committed_db, request_id).status == "failed" and fake_daraja.requests == []


def test_the_sender_builds_no_client_for_nothing_and_pauses_after_a_setting_problem(committed_db, org_id, caplog):
    calls = []

    def unconfigured():
        calls.append(1)
        raise ProviderUnavailable("M-Pesa is not set up: set OFISI_MPESA_SHORTCODE")

    sender = payments.PaymentSender(committed_db, unconfigured)
    assert sender.run_once() is None and calls == []  # nothing pending: Daraja is not even thought of
    request_id = asked(committed_db, org_id)
    assert sender.run_once() is None and sender.run_once() is None
    assert calls == [1] and "OFISI_MPESA_SHORTCODE" in caplog.text
    assert row(committed_db, request_id).status == "pending"


# ---------------------------------------------------------------- STK query of stale pushes


@pytest.fixture
def daraja_settings(monkeypatch, fake_daraja):
    """This process's settings point at the fake, as `ofisi jobs run-due` would find them."""
    from config.settings import get_settings

    for name, value in fake_daraja.env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def pushed(db, org_id: int, fake_daraja, minutes_ago: float = 10, **kw) -> tuple[int, str]:
    """A request Daraja accepted ``minutes_ago`` and has not called back about."""
    request_id = asked(db, org_id, **kw)
    client = fake_daraja.client()
    payments.send_pending_payments(db, client)
    client.close()
    then = utcnow() - timedelta(minutes=minutes_ago)
    with db.session() as s:
        s.execute(update(PaymentRequest).where(PaymentRequest.id == request_id)
                  .values(sent_at=then, next_check_at=then + payments.CHECK_AFTER))
        s.commit()
    return request_id, row(db, request_id).checkout_request_id


@pytest.mark.parametrize("purpose", [CREDIT, COMMITTING])
def test_run_due_settles_a_stale_push_with_stk_query_once(committed_db, org_id, fake_daraja, daraja_settings,
                                                          purpose):
    request_id, checkout = pushed(committed_db, org_id, fake_daraja, purpose=purpose)
    fresh_id, _ = pushed(committed_db, org_id, fake_daraja, minutes_ago=0)
    fake_daraja.complete(checkout, 0, post=False)
    summary = jobs.run_due(committed_db)
    assert summary.ran == 1 and summary.failed == 0
    with committed_db.session() as s:
        assert status(s, request_id) == "succeeded" and credits(s, request_id) == 1
        assert status(s, fresh_id) == "awaiting"  # not stale yet: not asked about
        assert verdicts(s) == [("applied", None)]
    assert [r.body["CheckoutRequestID"] for r in fake_daraja.received(QUERY_PATH)] == [checkout]
    assert jobs.run_due(committed_db).ran == 0
    # The callback that was only late adds its receipt and credits nothing more.
    with committed_db.session() as s:
        verdict = payments.record_stk_callback(s, fake_daraja.callback_for(checkout, receipt="SKLATE0001"),
                                               token_ok=True)
        assert verdict.verdict == "duplicate"
        assert s.get(PaymentRequest, request_id).receipt_number == "SKLATE0001"
        assert credits(s, request_id) == 1


def test_stk_query_applies_failures_and_waits_while_daraja_has_no_result(committed_db, org_id, fake_daraja,
                                                                         daraja_settings):
    cancelled, cancelled_checkout = pushed(committed_db, org_id, fake_daraja)
    waiting, _ = pushed(committed_db, org_id, fake_daraja)
    fake_daraja.complete(cancelled_checkout, 1032, post=False)
    assert jobs.run_due(committed_db).ran == 2
    still = row(committed_db, waiting)
    assert row(committed_db, cancelled).status == "cancelled"
    assert (still.status, still.checks) == ("awaiting", 1) and "no result yet" in still.last_error
    assert still.next_check_at > utcnow() + timedelta(minutes=2)
    with committed_db.session() as s:
        assert s.scalar(select(Job.status).where(Job.key == f"payments.check:{waiting}:0")) == "done"


def test_check_stale_payments_for_the_operator(committed_db, org_id, fake_daraja):
    request_id, checkout = pushed(committed_db, org_id, fake_daraja)
    client = fake_daraja.client()
    fake_daraja.next_calls(QUERY_PATH, Script(http_status=503))
    first = payments.check_stale_payments(committed_db, client)
    assert (first.checked, first.errors) == (1, 1) and row(committed_db, request_id).status == "awaiting"
    fake_daraja.complete(checkout, 1, post=False)
    second = payments.check_stale_payments(committed_db, client)
    assert (second.checked, second.settled) == (1, 1) and row(committed_db, request_id).status == "failed"
    assert payments.check_stale_payments(committed_db, client).checked == 0
    client.close()
