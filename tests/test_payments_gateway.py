"""M-Pesa through the running gateway: Daraja's callbacks over real HTTP in Safaricom's
format, and the sender thread that pushes a request as soon as it is committed."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from config import load_settings
from core import payments
from db.models_payments import PaymentCallback, PaymentRequest
from tests.fakes import wait_until
from tests.fakes.daraja import PUSH_PATH, fake_daraja  # noqa: F401  (fixture)
from tests.live_gateway import running_gateway
from tests.payments_support import COMMITTING, CREDIT, ask, awaiting, credits, failure, status, success, verdicts

TOKEN = "cb-token"
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama").id


@pytest.fixture
def gateway(committed_db):
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        yield base


def deliver(base: str, payload, token: str | None = TOKEN) -> httpx.Response:
    url = f"{base}/mpesa/stk/callback" + (f"?token={token}" if token is not None else "")
    return httpx.post(url, json=payload, timeout=10)


def test_callbacks_over_http(committed_db, org_id, gateway):
    with committed_db.session() as s:
        paid, cancelled = awaiting(s, org_id, "ws_CO_1"), awaiting(s, org_id, "ws_CO_2")
    answers = [
        deliver(gateway, success()),
        deliver(gateway, success()),  # a replay
        deliver(gateway, failure(1032, "ws_CO_2")),
        deliver(gateway, success("ws_CO_nobody", receipt="SKNOBODY01")),
        deliver(gateway, success(receipt="SKFORGED01"), token="wrong"),
        deliver(gateway, success(receipt="SKFORGED02"), token=None),
        httpx.post(f"{gateway}/mpesa/stk/callback?token={TOKEN}", content=b"\x00 not json", timeout=10),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(200, ACCEPTED)] * len(answers)
    with committed_db.session() as s:
        assert (status(s, paid), credits(s, paid)) == ("succeeded", 1)
        assert (status(s, cancelled), credits(s, cancelled)) == ("cancelled", 0)
        # The two without the token are counted, not kept.
        assert verdicts(s) == [("applied", None), ("duplicate", None), ("applied", None),
                               ("review", "unknown_request"), ("review", "malformed")]
    assert httpx.get(f"{gateway}/health").json()["refused_callbacks"] == 2


def test_an_amount_that_differs_credits_nothing_over_http(committed_db, org_id, gateway):
    with committed_db.session() as s:
        request_id = awaiting(s, org_id)
    assert deliver(gateway, success(amount=1.00)).json() == ACCEPTED
    with committed_db.session() as s:
        assert (status(s, request_id), credits(s, request_id)) == ("review", 0)


@pytest.mark.parametrize("purpose", [CREDIT, COMMITTING])
def test_ten_concurrent_deliveries_credit_once(committed_db, org_id, gateway, purpose):
    with committed_db.session() as s:
        request_id = awaiting(s, org_id, purpose=purpose)
    start = threading.Barrier(10, timeout=10)
    answers: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(timeout=20) as client:
            client.get(f"{gateway}/health")  # connect first, so the posts leave together
            start.wait()
            answers.append(client.post(f"{gateway}/mpesa/stk/callback?token={TOKEN}", json=success()))

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200] * 10
    with committed_db.session() as s:
        assert credits(s, request_id) == 1
        assert sorted(verdicts(s)) == [("applied", None)] + [("duplicate", None)] * 9
        assert s.scalar(select(func.count()).select_from(PaymentCallback)) == 10


def test_the_push_leaves_within_two_seconds_and_the_callback_credits(committed_db, org_id, fake_daraja):
    settings = load_settings(fake_daraja.env(public_url="https://ofisi.example", callback_token=TOKEN))
    with running_gateway(committed_db, settings) as base:
        with committed_db.session() as s:
            request_id = ask(s, org_id)
            s.commit()
        confirmed = time.monotonic()
        payments.wake_payment_sender()
        wait_until(lambda: fake_daraja.received(PUSH_PATH), timeout=2, what="the push to leave within 2 s")
        push = fake_daraja.received(PUSH_PATH)[0]
        assert push.at - confirmed < 2
        assert push.body["CallBackURL"] == f"https://ofisi.example/mpesa/stk/callback?token={TOKEN}"
        checkout = wait_until(lambda: awaiting_checkout(committed_db, request_id), timeout=5, what="awaiting")
        # Safaricom calls back: the fake posts to the gateway the way Daraja posts to the public URL.
        answer = fake_daraja.complete(checkout, 0, url=f"{base}/mpesa/stk/callback?token={TOKEN}")
        assert answer.json() == ACCEPTED
    with committed_db.session() as s:
        assert (status(s, request_id), credits(s, request_id)) == ("succeeded", 1)


def awaiting_checkout(db, request_id: int) -> str | None:
    """The CheckoutRequestID once the request is awaiting its result."""
    with db.session() as s:
        row = s.get(PaymentRequest, request_id)
        return row.checkout_request_id if row.status == "awaiting" else None


def test_the_sender_stops_with_the_gateway(committed_db):
    before = {t.name for t in threading.enumerate()}
    with running_gateway(committed_db):
        assert "ofisi-payment-sender" in {t.name for t in threading.enumerate()}
    wait_until(lambda: "ofisi-payment-sender" not in {t.name for t in threading.enumerate()} - before,
               timeout=5, what="the sender thread to stop")
