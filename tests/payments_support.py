"""What the payments tests share: purposes registered by the tests, and ways to make requests.

``test.credit`` stands in for an area's ledger: its hook adds one outbox
message per credit, in the transaction that records the success, so
counting those messages counts how often a payment was credited.
``test.committing`` credits the same way and commits, as the chama ledger's
services do. ``test.broken`` is an area whose ledger refuses to write.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import outbox, payments
from db.models import Message
from db.models_payments import PaymentCallback, PaymentRequest
from db.types import utcnow
from tests.fakes.daraja import callback_payload

CREDIT = "test.credit"
COMMITTING = "test.committing"
BROKEN = "test.broken"


@payments.on_success(CREDIT)
def _credit(session: Session, payment: payments.PaymentView) -> None:
    outbox.enqueue(session, payment.org_id, purpose="transactional", to=payment.phone,
                   body=f"credited payment {payment.id} receipt {payment.receipt_number}")


@payments.on_success(COMMITTING)
def _credit_and_commit(session: Session, payment: payments.PaymentView) -> None:
    _credit(session, payment)
    session.commit()


@payments.on_success(BROKEN)
def _broken(session: Session, payment: payments.PaymentView) -> None:
    _credit(session, payment)
    raise RuntimeError("the ledger is closed for the audit")


def ask(session: Session, org_id: int, **kw) -> int:
    """A pending request of KES 1,500 from +254712345678, in the caller's unit of work."""
    values = dict(purpose=CREDIT, subject_id=42, phone="0712 345 678", amount_minor=150_000,
                  account_reference="M0042", description="Contribution")
    return payments.request_payment(session, org_id, **{**values, **kw})


def awaiting(session: Session, org_id: int, checkout: str = "ws_CO_1", **kw) -> int:
    """A request whose push Daraja accepted with ``checkout``; committed."""
    request_id = ask(session, org_id, **kw)
    row = session.get(PaymentRequest, request_id)
    row.status, row.checkout_request_id, row.merchant_request_id = "awaiting", checkout, f"m-{checkout}"
    row.attempts, row.sent_at, row.next_check_at = 1, utcnow(), utcnow() + payments.CHECK_AFTER
    session.commit()
    return request_id


def success(checkout: str = "ws_CO_1", amount: float = 1500.00, receipt: str = "SKL1ABC2DE") -> dict:
    """Daraja's callback for a paid push made by :func:`awaiting`."""
    return callback_payload(f"m-{checkout}", checkout, 0, amount=amount, receipt=receipt, phone=254712345678)


def failure(code: int, checkout: str = "ws_CO_1") -> dict:
    return callback_payload(f"m-{checkout}", checkout, code)


def credits(session: Session, payment_id: int) -> int:
    """How many times the test ledger credited this payment."""
    return session.scalar(select(func.count()).select_from(Message)
                          .where(Message.body.like(f"credited payment {payment_id} %")))


def status(session: Session, payment_id: int) -> str:
    return session.scalar(select(PaymentRequest.status).where(PaymentRequest.id == payment_id)
                          .execution_options(populate_existing=True))


def verdicts(session: Session) -> list[tuple[str, str | None]]:
    return [tuple(row) for row in session.execute(
        select(PaymentCallback.verdict, PaymentCallback.problem).order_by(PaymentCallback.id))]


# ---------------------------------------------------------------- paybill (C2B) and B2C, on a chama

PAYBILL = "600984"


def paybill_chama(session: Session, make_org):
    """A chama whose paybill is ``PAYBILL``: member M012 (phone +254710000012) has KES 5,000 saved,
    a KES 2,000 loan paid out and a KES 300 fine; M010 has KES 20,000 saved (the pool)."""
    from core.chama import fines, ledger, members
    from db.models_payments import Paybill
    from tests.chama_support import ACTOR, disbursed_loan, make_chama
    from tests.fakes import phone

    chama = make_chama(session, make_org, extra_members=0)
    m012 = members.add_member(session, ACTOR, chama.id, name="Wairimu Njoroge", phone=phone(12), member_number="M012")
    m010 = members.add_member(session, ACTOR, chama.id, name="Kerubo Moraa", phone=phone(10), member_number="M010")
    chama.members += [m012, m010]
    ledger.record_contribution(session, ACTOR, chama.id, m012.id, 500_000, reference="CASH-1")
    ledger.record_contribution(session, ACTOR, chama.id, m010.id, 2_000_000, reference="CASH-2")
    disbursed_loan(session, chama, m012, 200_000)
    fines.charge_fine(session, ACTOR, chama.id, m012.id, 30_000, reason="late to the meeting")
    session.add(Paybill(org_id=chama.id, shortcode=PAYBILL))
    session.commit()
    return chama


def ledger_rows(session: Session, org_id: int, *, reference: str | None = None) -> list[tuple]:
    """(kind, member number, amount, reference) of the chama's entries, oldest first."""
    from db.models_chama import ChamaLedgerEntry, ChamaMember

    query = (select(ChamaLedgerEntry.kind, ChamaMember.member_number, ChamaLedgerEntry.amount_minor,
                    ChamaLedgerEntry.reference)
             .outerjoin(ChamaMember, ChamaMember.id == ChamaLedgerEntry.member_id)
             .where(ChamaLedgerEntry.org_id == org_id).order_by(ChamaLedgerEntry.id))
    if reference is not None:
        query = query.where(ChamaLedgerEntry.reference == reference)
    return [tuple(r) for r in session.execute(query)]
