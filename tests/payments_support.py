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
