"""M-Pesa for chamas: asking a member's phone for a payment, and what a paid one writes.

A contribution or repayment asked for over USSD is a pending payment request
first (so a crash cannot lose it); when Daraja reports success, the hook
below writes the ledger entry through the same ``record_contribution`` /
``record_repayment`` that treasurers use, keyed by the request's
CheckoutRequestID, so a replayed callback finds the entry already there.
Those services commit: the payment's success is flushed before the hook
runs, so the success and the entry commit together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.base import chama_org, contact_of, member_row, money
from core.chama.ledger import record_contribution, sums
from core.chama.loans import record_repayment
from core.errors import Conflict
from core.payments import PaymentView, on_success, request_payment

CONTRIBUTION = "chama.contribution"
REPAYMENT = "chama.repayment"
MPESA = Actor.system_actor("mpesa")


def _key(payment: PaymentView) -> str:
    return f"mpesa:{payment.checkout_request_id or payment.id}"


@on_success(CONTRIBUTION)
def _credit_contribution(session: Session, payment: PaymentView) -> None:
    record_contribution(session, MPESA, payment.org_id, payment.subject_id, payment.amount_minor, source="mpesa",
                        reference=payment.receipt_number, idempotency_key=_key(payment))


@on_success(REPAYMENT)
def _credit_repayment(session: Session, payment: PaymentView) -> None:
    record_repayment(session, MPESA, payment.org_id, payment.subject_id, payment.amount_minor, source="mpesa",
                     reference=payment.receipt_number, idempotency_key=_key(payment),
                     loan_id=payment.payload.get("loan_id"))


def ask_to_pay(session: Session, actor: Actor, org_id: int, member_id: int, amount_minor: int, *,
               purpose: str = CONTRIBUTION, loan_id: int | None = None, idempotency_key: str | None = None) -> int:
    """Queue an STK push to the member's own phone; the caller commits, then wakes the sender."""
    org = chama_org(session, actor, org_id, "chama.request")
    member = member_row(session, org.id, member_id)
    if member.status != "active":
        raise Conflict("Only active members can pay through M-Pesa here; ask the treasurer.")
    if purpose == REPAYMENT:
        owed = sums(session, org.id, member_id=member.id)
        if amount_minor > owed.loan + owed.fines:
            raise Conflict(f"You owe {money(org, owed.loan + owed.fines)} (loans and fines); "
                           f"{money(org, amount_minor)} is more than that.")
    phone = contact_of(session, member).phone
    what = "Contribution" if purpose == CONTRIBUTION else "Loan repayment"
    return request_payment(session, org.id, purpose=purpose, subject_id=member.id, phone=phone,
                           amount_minor=amount_minor, account_reference=member.member_number[:12] or "CHAMA",
                           description=what[:13], payload={"loan_id": loan_id} if loan_id else {},
                           idempotency_key=idempotency_key)
