"""M-Pesa payments with several gateway processes on one PostgreSQL database.

`ofisi serve --workers 2` runs two processes, each with its own payment sender
thread; both claim from ``payment_requests`` with ``FOR UPDATE SKIP LOCKED``.
Daraja's callbacks reach whichever process the socket hands them to, at once
and again (Safaricom retries), while the sender that pushed is still
recording the CheckoutRequestID. The fake Daraja is the witness of every push.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from core.chama.mpesa import ask_to_pay
from core.payments.results import hold_checkout, locked_request, record_stk_callback
from db.models_chama import ChamaLedgerEntry
from db.models_payments import PaymentCallback, PaymentRequest
from tests.chama_support import ACTOR, make_chama
from tests.fakes import wait_until
from tests.fakes.daraja import PUSH_PATH, Script, fake_daraja  # noqa: F401  (fixture)
from tests.payments_support import ask, credits, status, success

TOKEN = "processes-token"
REQUESTS = 40


@pytest.fixture(autouse=True)
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("several gateway processes need PostgreSQL (SQLite takes one writer at a time)")


@pytest.fixture
def gateway(committed_db, fake_daraja, tmp_path):
    """Start `ofisi serve --workers 2` on a free port; yields its base URL and a way to stop it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFISI_")}
    env.update(fake_daraja.env(public_url=base, callback_token=TOKEN), OFISI_DATABASE_URL=committed_db.url,
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"))
    log = open(tmp_path / "gateway.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", "from commands.main import run; run()", "serve",
                             "--workers", "2", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)

    def healthy() -> bool:
        assert proc.poll() is None, (tmp_path / "gateway.log").read_text()
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop() -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(30)

    try:
        wait_until(healthy, timeout=60, interval=0.1, what="the gateway to answer")
        yield base, stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_two_gateway_processes_push_each_payment_once_and_credit_it_once(committed_db, make_org, fake_daraja,
                                                                         gateway):
    base, stop = gateway
    callback_url = f"{base}/mpesa/stk/callback?token={TOKEN}"
    fake_daraja.next_calls(PUSH_PATH, *[Script(delay=0.05)] * REQUESTS)  # Daraja takes a moment: both senders work
    answered: list[int] = []
    done = threading.Event()

    def pay(checkout: str) -> None:
        payload = fake_daraja.callback_for(checkout)
        fake_daraja.complete(checkout, post=False)
        for _ in range(2):  # at once, as the sender records the CheckoutRequestID; then Safaricom's retry
            answered.append(httpx.post(callback_url, json=payload, timeout=30).status_code)

    def daraja_calls_back() -> None:
        seen: set[str] = set()
        with ThreadPoolExecutor(max_workers=6) as pool:
            while not done.is_set():
                for checkout in list(fake_daraja.pushes):
                    if checkout not in seen:
                        seen.add(checkout)
                        pool.submit(pay, checkout)
                time.sleep(0.001)

    caller = threading.Thread(target=daraja_calls_back, daemon=True)
    caller.start()
    with committed_db.session() as s:
        group = make_chama(s, make_org, extra_members=5)
        amounts = {}
        for i in range(REQUESTS):
            member = group.everyone[i % len(group.everyone)]
            amounts[ask_to_pay(s, ACTOR, group.id, member.id, 10_000 + 100 * i, idempotency_key=f"p{i}")] = \
                10_000 + 100 * i
        s.commit()

    def settled() -> bool:
        with committed_db.session() as s:
            return s.scalar(select(func.count()).where(PaymentRequest.status == "succeeded")) == REQUESTS

    try:
        wait_until(settled, timeout=90, interval=0.2, what="every payment to be credited")
    finally:
        done.set()
        caller.join(30)
    assert stop() == 0

    assert answered == [200] * 2 * REQUESTS
    pushed = fake_daraja.received(PUSH_PATH)
    with committed_db.session() as s:
        rows = s.execute(select(PaymentRequest.id, PaymentRequest.checkout_request_id,
                                PaymentRequest.claimed_by)).all()
        ledger = Counter(s.scalars(select(ChamaLedgerEntry.idempotency_key)
                                   .where(ChamaLedgerEntry.idempotency_key.like("mpesa:%"))))
        amount_of = dict(s.execute(select(ChamaLedgerEntry.idempotency_key, ChamaLedgerEntry.amount_minor)
                                   .where(ChamaLedgerEntry.idempotency_key.like("mpesa:%"))).all())
        verdicts = Counter(s.execute(select(PaymentCallback.verdict, PaymentCallback.problem)).all())
    # Each request pushed once, by one of the two processes, and both took a share.
    assert len(pushed) == REQUESTS and {r.checkout_request_id for r in rows} == set(fake_daraja.pushes)
    assert len({claimer.rsplit(":", 1)[0] for _, _, claimer in rows}) == 2
    # Each credited once, with its amount; every callback applied once, its replay a duplicate, none left over.
    assert ledger == {f"mpesa:{checkout}": 1 for _, checkout, _ in rows}
    assert {amount_of[f"mpesa:{checkout}"] for _, checkout, _ in rows} == set(amounts.values())
    assert verdicts == {("applied", None): REQUESTS, ("duplicate", None): REQUESTS}


def test_a_callback_that_arrives_while_its_push_is_being_recorded_waits_and_is_applied(committed_db, make_org):
    """The interleaving the test above can only hope to hit, made certain: the sender has written the
    CheckoutRequestID but not committed it when the callback comes. The callback waits for the commit
    instead of missing the request (and the sender's look for early callbacks missing the callback)."""
    with committed_db.session() as s:
        request_id = ask(s, make_org(s, "chama").id)
        s.commit()
    sender = committed_db.session()
    hold_checkout(sender, "ws_CO_race")
    row = locked_request(sender, request_id=request_id)
    row.status, row.checkout_request_id, row.merchant_request_id = "awaiting", "ws_CO_race", "m-ws_CO_race"
    sender.flush()
    outcome = []

    def callback() -> None:
        with committed_db.session() as s:
            outcome.append(record_stk_callback(s, success("ws_CO_race"), token_ok=True))

    arriving = threading.Thread(target=callback)
    arriving.start()
    arriving.join(0.5)
    assert arriving.is_alive(), "the callback went ahead of the uncommitted CheckoutRequestID"
    sender.commit()
    sender.close()
    arriving.join(10)
    assert [(o.verdict, o.problem) for o in outcome] == [("applied", None)]
    with committed_db.session() as s:
        assert status(s, request_id) == "succeeded" and credits(s, request_id) == 1
