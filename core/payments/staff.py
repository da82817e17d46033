"""What staff see of payments and how an official settles one by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.money import exponent, format_money
from core.payments.request import PaymentView, hook_for
from core.payments.results import credit_payment, locked_request
from core.permissions import require
from db.models_payments import PaymentCallback, PaymentRequest
from db.types import utcnow


def list_payments(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                  before_id: int | None = None, limit: int = 100) -> list[PaymentView]:
    """Newest first, paged by id."""
    require(session, actor, org_id, "payments.read")
    query = select(PaymentRequest).where(PaymentRequest.org_id == org_id)
    if status:
        query = query.where(PaymentRequest.status == status)
    if before_id is not None:
        query = query.where(PaymentRequest.id < before_id)
    return [PaymentView.of(r) for r in session.scalars(query.order_by(PaymentRequest.id.desc()).limit(limit))]


def get_payment(session: Session, actor: Actor, org_id: int, payment_id: int) -> PaymentView:
    require(session, actor, org_id, "payments.read")
    row = session.get(PaymentRequest, payment_id)
    if row is None or row.org_id != org_id:
        raise NotFound("That payment does not exist.")
    return PaymentView.of(row)


@dataclass(frozen=True)
class CallbackView:
    id: int
    org_id: int | None
    payment_request_id: int | None
    source: str
    checkout_request_id: str | None
    result_code: str | None
    result_desc: str | None
    receipt_number: str | None
    amount_minor: int | None
    token_ok: bool
    verdict: str
    problem: str | None
    reason: str | None
    received_at: datetime


def list_callbacks(session: Session, actor: Actor, *, org_id: int | None = None, verdict: str | None = None,
                   limit: int = 100) -> list[CallbackView]:
    """Results as Daraja sent them, newest first. Those that matched no request
    belong to no organisation: only the operator (a system actor) sees them."""
    query = select(PaymentCallback)
    if org_id is None:
        if not actor.system:
            raise PermissionDenied("Results that match no organisation are for the operator "
                                   "(`ofisi payments results`).")
    else:
        require(session, actor, org_id, "payments.read")
        query = query.where(PaymentCallback.org_id == org_id)
    if verdict:
        query = query.where(PaymentCallback.verdict == verdict)
    rows = session.scalars(query.order_by(PaymentCallback.id.desc()).limit(limit))
    return [CallbackView(c.id, c.org_id, c.payment_request_id, c.source, c.checkout_request_id, c.result_code,
                         c.result_desc, c.receipt_number, c.amount_minor, c.token_ok, c.verdict, c.problem,
                         c.reason, c.received_at) for c in rows]


def reported_amount(session: Session, payment_id: int) -> int | None:
    """What M-Pesa said was paid for this request in the latest success it sent (kept as it came), if any."""
    return session.scalar(select(PaymentCallback.amount_minor)
                          .where(PaymentCallback.payment_request_id == payment_id,
                                 PaymentCallback.result_code == "0", PaymentCallback.amount_minor.is_not(None))
                          .order_by(PaymentCallback.id.desc()).limit(1))


def settle_payment(session: Session, actor: Actor, org_id: int, payment_id: int, *, paid: bool,
                   receipt_number: str | None = None, amount_minor: int | None = None) -> PaymentView:
    """An official's verdict on a payment under review or of unknown fate, from the M-Pesa statement.

    ``paid`` needs the statement's receipt number and credits the payment
    (the purpose's hook runs, once) with what was paid: ``amount_minor`` as
    the receipt shows it, else what M-Pesa reported in its kept result, else
    the amount asked. The request then carries the paid amount; the asked one
    stays in its payload (``asked_minor``) and the audit. Otherwise the
    request fails.
    """
    require(session, actor, org_id, "payments.settle")
    row = locked_request(session, request_id=payment_id)
    if row is None or row.org_id != org_id:
        raise NotFound("That payment does not exist.")
    if row.status not in ("review", "unknown"):
        raise InvalidInput(f"Payment {payment_id} is {row.status}; only payments under review or of unknown fate "
                           "are settled by hand.")
    before = {"status": row.status, "last_error": row.last_error}
    now = utcnow()
    if paid:
        receipt = (receipt_number or "").strip().upper()
        if not receipt:
            raise InvalidInput("Give the M-Pesa receipt number from the statement (for example QKJ3ABC123).")
        other = session.scalar(select(PaymentRequest.id).where(PaymentRequest.receipt_number == receipt))
        if other is not None:
            raise Conflict(f"Receipt {receipt} already credited payment {other}.")
        hook = hook_for(row.purpose)
        if hook is None:
            raise Conflict(f"Nothing in this installation credits payments for {row.purpose!r}.")
        asked = row.amount_minor
        if amount_minor is None:
            amount_minor = reported_amount(session, row.id) or asked
        if not isinstance(amount_minor, int) or amount_minor <= 0 or amount_minor % 10 ** exponent(row.currency):
            raise InvalidInput(f"Give the amount the M-Pesa receipt shows, in whole {row.currency} "
                               f"(not {format_money(amount_minor or 0, row.currency)}).")
        before["amount_minor"] = asked
        if amount_minor != asked:
            row.payload = {**(row.payload or {}), "asked_minor": asked}
            row.amount_minor = amount_minor
        audit.record(session, actor, "payment.settle", "payment_request", row.id, org_id=org_id, before=before,
                     after={"status": "succeeded", "receipt_number": receipt, "amount_minor": amount_minor})
        credit_payment(session, row, hook, actor, now, receipt=receipt, paid_at=None, code=None,
                       desc=f"settled by {actor.label} from the M-Pesa statement")
    else:
        row.status, row.completed_at = "failed", now
        row.result_desc = f"settled by {actor.label}: not paid"
        audit.record(session, actor, "payment.settle", "payment_request", row.id, org_id=org_id, before=before,
                     after={"status": "failed", "receipt_number": None})
    session.commit()
    return PaymentView.of(row)
