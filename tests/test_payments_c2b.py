"""Money paid to a chama's paybill, over real HTTP in Daraja's C2B formats against the running gateway:
validation accepts an account that names a member or purpose and refuses the rest with Daraja's codes;
confirmation credits once per TransID through the chama's own services, and keeps the rest for review."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import func, select

from config import load_settings
from db.models import Message
from db.models_payments import PaybillPayment, PaymentCallback
from tests.fakes.daraja import c2b_payload
from tests.live_gateway import running_gateway
from tests.payments_support import PAYBILL, ledger_rows, paybill_chama

TOKEN = "cb-token"
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


@pytest.fixture
def chama(committed_db, make_org):
    with committed_db.session() as s:
        return paybill_chama(s, make_org)


@pytest.fixture
def gateway(committed_db):
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": TOKEN})) as base:
        yield base


def post(base: str, path: str, payload, token: str | None = TOKEN) -> httpx.Response:
    return httpx.post(f"{base}{path}" + (f"?token={token}" if token else ""), json=payload, timeout=20)


def validate(base: str, account: str, **kw) -> dict:
    return post(base, "/mpesa/c2b/validation", c2b_payload("VAL0000001", account, shortcode=PAYBILL, **kw)).json()


def test_validation_accepts_members_and_purposes_and_refuses_the_rest(chama, gateway):
    accepted = {"ResultCode": "0", "ResultDesc": "Accepted"}
    for account in ["M012", "m012", " m 012 ", "0710000012", "+254 710 000 012", "M012-LOAN", "m012-loan",
                    "M012-FINE", "m010"]:
        assert validate(gateway, account) == accepted, account
    # M010 owes nothing: money "for her loan" or "for her fines" would only wait for review.
    for account in ["M099", "", "0799999999", "M012-HOLIDAY", "SOMEONE ELSE", "M010-LOAN", "m010-fine"]:
        assert validate(gateway, account) == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}, account
    assert validate(gateway, "M012", amount="10.50") == {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
    other_paybill = post(gateway, "/mpesa/c2b/validation", c2b_payload("VAL0000002", "M012", shortcode="111111"))
    assert other_paybill.json() == {"ResultCode": "C2B00015", "ResultDesc": "Rejected"}
    forged = post(gateway, "/mpesa/c2b/validation", c2b_payload("VAL0000003", "M012", shortcode=PAYBILL), token="x")
    assert forged.json() == {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}


def test_confirmations_credit_the_member_and_purpose_once(committed_db, chama, gateway):
    payments = [
        c2b_payload("SLB1111111", "M012", 1000, shortcode=PAYBILL),  # member number: a contribution
        c2b_payload("SLB2222222", "0710 000 012", 200, shortcode=PAYBILL),  # the phone: a contribution
        c2b_payload("SLB3333333", "m012-loan", 500, shortcode=PAYBILL),  # lower case: fines first, then the loan
        c2b_payload("SLB4444444", "M012-FINE", 100, shortcode=PAYBILL),
        c2b_payload("SLB5555555", "NOBODY", 700, shortcode=PAYBILL),  # validation off, or a race
    ]
    for payload in payments + payments[:2]:  # two replays
        assert post(gateway, "/mpesa/c2b/confirmation", payload).json() == ACCEPTED
    with committed_db.session() as s:
        rows = ledger_rows(s, chama.id)
        assert [r for r in rows if r[3] and r[3].startswith("SLB")] == [
            ("contribution", "M012", 100_000, "SLB1111111"),
            ("contribution", "M012", 20_000, "SLB2222222"),
            ("loan_repayment", "M012", 50_000, "SLB3333333"),
        ]
        # The KES 500 repayment paid the KES 300 fine first, so the fine payment found nothing owed.
        kept = {p.trans_id: (p.status, p.source, p.purpose) for p in s.scalars(select(PaybillPayment))}
        assert kept == {"SLB1111111": ("credited", "confirmation", "contribution"),
                        "SLB2222222": ("credited", "confirmation", "contribution"),
                        "SLB3333333": ("credited", "confirmation", "loan"),
                        "SLB4444444": ("review", "confirmation", None),
                        "SLB5555555": ("review", "confirmation", None)}
        review = s.scalar(select(PaybillPayment).where(PaybillPayment.trans_id == "SLB5555555"))
        assert "'NOBODY' names no member" in review.reason
        # Every delivery is kept as it came, with its verdict.
        verdicts = [tuple(r) for r in s.execute(select(PaymentCallback.receipt_number, PaymentCallback.verdict)
                                                .where(PaymentCallback.source == "c2b").order_by(PaymentCallback.id))]
        assert verdicts == [("SLB1111111", "applied"), ("SLB2222222", "applied"), ("SLB3333333", "applied"),
                            ("SLB4444444", "review"), ("SLB5555555", "review"), ("SLB1111111", "duplicate"),
                            ("SLB2222222", "duplicate")]
        # The member's SMS receipts, one per credited payment, as transactional messages.
        receipts = s.execute(select(Message.body, Message.purpose).where(Message.org_id == chama.id,
                                                                         Message.body.like("%Ref %"),
                                                                         Message.to_address == "+254710000012")
                             .order_by(Message.id)).all()
        texts = [body for body, _ in receipts]
        assert sum("contribution of KES 1,000" in t for t in texts) == 1
        assert sum("contribution of KES 200" in t for t in texts) == 1
        assert sum("KES 500 for loan" in t for t in texts) == 1
        assert {purpose for _, purpose in receipts} == {"transactional"}


def test_ten_concurrent_replays_of_one_confirmation_make_one_entry(committed_db, chama, gateway):
    payload = c2b_payload("SLC9999999", "M012", 1500, shortcode=PAYBILL)
    start = threading.Barrier(10, timeout=10)
    answers: list[httpx.Response] = []

    def deliver() -> None:
        with httpx.Client(timeout=30) as client:
            client.get(f"{gateway}/health")  # connect first, so the posts leave together
            start.wait()
            answers.append(client.post(f"{gateway}/mpesa/c2b/confirmation?token={TOKEN}", json=payload))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.json() for a in answers] == [ACCEPTED] * 10
    with committed_db.session() as s:
        assert ledger_rows(s, chama.id, reference="SLC9999999") == [("contribution", "M012", 150_000, "SLC9999999")]
        verdicts = s.scalars(select(PaymentCallback.verdict).where(PaymentCallback.receipt_number == "SLC9999999"))
        assert sorted(verdicts) == ["applied"] + ["duplicate"] * 9
        assert s.scalar(select(func.count()).select_from(PaybillPayment)) == 1


def test_a_confirmation_without_the_token_is_not_kept(committed_db, chama, gateway):
    payload = c2b_payload("SLD0000001", "M012", 1000, shortcode=PAYBILL)
    assert post(gateway, "/mpesa/c2b/confirmation", payload, token=None).json() == ACCEPTED
    with committed_db.session() as s:
        assert ledger_rows(s, chama.id, reference="SLD0000001") == []
        assert s.scalar(select(func.count()).select_from(PaymentCallback)) == 0
