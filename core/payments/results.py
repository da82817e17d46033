"""What a Daraja result (a callback, or an STK query answer) does to its request.

:func:`_apply` is the one place that decides what a result means; every
result is kept raw in ``payment_callbacks`` with its verdict. A result is
applied under a lock on the request row, so the purpose's hook runs once per
request however often, and however concurrently, results arrive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.money import exponent, format_money
from core.payments.request import CURRENCY, Hook, PaymentView, hook_for
from core.providers.mpesa import NAIROBI
from db.models_payments import PaymentCallback, PaymentRequest
from db.types import utcnow

log = logging.getLogger("ofisi.payments")
MPESA = Actor.system_actor("mpesa")

FINAL = ("succeeded", "failed", "cancelled", "expired")
CANCELLED_CODES = {1032}  # Request cancelled by user
EXPIRED_CODES = {1037, 1019}  # DS timeout, user cannot be reached; transaction expired


@dataclass(frozen=True)
class StkResult:
    """One result for one push, from a callback or an STK query, in our terms."""

    source: str
    checkout_request_id: str | None
    merchant_request_id: str | None
    result_code: int | None
    result_desc: str
    raw: dict[str, Any]
    receipt_number: str | None = None
    amount_minor: int | None = None
    paid_at: datetime | None = None
    malformed: str | None = None  # why the payload cannot be applied

    @property
    def success(self) -> bool:
        return self.result_code == 0


@dataclass(frozen=True)
class CallbackResult:
    verdict: str  # applied | duplicate | review
    problem: str | None
    reason: str | None
    payment_request_id: int | None
    callback_id: int | None = None


def shillings_minor(value: Any) -> int | None:
    """Daraja's amount (shillings, as a number or text) in minor units; None when it is not a whole cent."""
    try:
        minor = Decimal(str(value)) * 10 ** exponent(CURRENCY)
    except (InvalidOperation, ValueError):
        return None
    return int(minor) if minor == minor.to_integral_value() else None


def daraja_time(value: Any) -> datetime | None:
    """``TransactionDate`` is Nairobi wall time written as digits: 20191219102115."""
    try:
        local = datetime.strptime(str(value), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return local.replace(tzinfo=NAIROBI).astimezone(timezone.utc)


def parse_stk_callback(payload: Any) -> StkResult:
    """Read Daraja's ``Body.stkCallback``; a payload that cannot be applied says why in ``malformed``."""
    raw = payload if isinstance(payload, dict) else {"unreadable": str(payload)[:2000]}
    body = raw.get("Body") if isinstance(raw.get("Body"), dict) else {}
    callback = body.get("stkCallback") if isinstance(body.get("stkCallback"), dict) else None
    if callback is None:
        return StkResult("callback", None, None, None, "", raw, malformed="not an STK callback (no Body.stkCallback)")
    checkout = str(callback.get("CheckoutRequestID") or "") or None
    merchant = str(callback.get("MerchantRequestID") or "") or None
    desc = str(callback.get("ResultDesc") or "")
    try:
        code = int(callback.get("ResultCode"))
    except (TypeError, ValueError):
        return StkResult("callback", checkout, merchant, None, desc, raw, malformed="no readable ResultCode")
    if checkout is None:
        return StkResult("callback", None, merchant, code, desc, raw, malformed="no CheckoutRequestID")
    metadata = callback.get("CallbackMetadata") if isinstance(callback.get("CallbackMetadata"), dict) else {}
    items = {item.get("Name"): item.get("Value") for item in metadata.get("Item") or [] if isinstance(item, dict)}
    receipt = str(items.get("MpesaReceiptNumber") or "") or None
    amount = shillings_minor(items.get("Amount")) if items.get("Amount") is not None else None
    result = StkResult("callback", checkout, merchant, code, desc, raw, receipt, amount,
                       daraja_time(items.get("TransactionDate")))
    if code == 0 and (receipt is None or amount is None):
        return replace(result, malformed="a success without MpesaReceiptNumber and Amount")
    return result


def _failure_status(code: int) -> str:
    if code in CANCELLED_CODES:
        return "cancelled"
    if code in EXPIRED_CODES:
        return "expired"
    return "failed"


@dataclass(frozen=True)
class _Verdict:
    verdict: str
    problem: str | None = None
    reason: str | None = None
    credit: Hook | None = None  # an applied success: the hook that credits it


def send_to_review(request: PaymentRequest, reason: str) -> None:
    request.status, request.last_error = "review", reason


def _apply(session: Session, request: PaymentRequest, result: StkResult, now: datetime) -> _Verdict:
    """Apply a result to its (locked) request: the one place that decides what a result means.

    A success to credit is decided here and credited by the caller (see :func:`credit_payment`).
    """
    code, status = result.result_code, request.status
    said = f"{result.source} said {code} {result.result_desc}".strip()
    if status == "review":
        return _Verdict("review", "under_review", f"the request is already under review; the {said}")
    if not result.success:
        new_status = _failure_status(code)
        if status == "awaiting":
            request.status, request.result_code, request.result_desc = new_status, str(code), result.result_desc
            request.completed_at = now
            return _Verdict("applied")
        if status == new_status and request.result_code == str(code):
            return _Verdict("duplicate", None, f"the request is already {status}")
        return _Verdict("review", "conflict", f"the request is already {status}; the {said}")
    if status == "succeeded":
        if result.receipt_number in (None, request.receipt_number):
            return _Verdict("duplicate", None, "already credited")
        if request.receipt_number is None and result.amount_minor in (None, request.amount_minor):
            request.receipt_number = result.receipt_number  # credited on an STK query, which has no receipt
            request.paid_at = result.paid_at or request.paid_at
            return _Verdict("duplicate", None, "already credited; its receipt number is now recorded")
        return _Verdict("review", "conflict",
                        f"already credited with receipt {request.receipt_number}; this result says "
                        f"{result.receipt_number} for {result.amount_minor} cents")
    if status != "awaiting":
        reason = f"a success arrived for a request that was {status}; nothing was credited"
        send_to_review(request, reason)
        return _Verdict("review", "conflict", reason)
    if result.amount_minor is not None and result.amount_minor != request.amount_minor:
        reason = (f"M-Pesa reports {format_money(result.amount_minor, CURRENCY)} paid for a request of "
                  f"{format_money(request.amount_minor, request.currency)}; nothing was credited")
        send_to_review(request, reason)
        return _Verdict("review", "amount_mismatch", reason)
    if result.receipt_number and session.scalar(
        select(PaymentRequest.id).where(PaymentRequest.receipt_number == result.receipt_number)
    ) is not None:
        reason = f"receipt {result.receipt_number} already credited another request; nothing was credited"
        send_to_review(request, reason)
        return _Verdict("review", "receipt_reused", reason)
    hook = hook_for(request.purpose)
    if hook is None:
        reason = f"nothing in this installation credits payments for {request.purpose!r}; nothing was credited"
        send_to_review(request, reason)
        return _Verdict("review", "no_hook", reason)
    return _Verdict("applied", credit=hook)


def credit_payment(session: Session, request: PaymentRequest, hook: Hook, actor: Actor, now: datetime, *,
                   receipt: str | None, paid_at: datetime | None, code: str | None, desc: str | None) -> None:
    """Record the success and run the purpose's hook in the caller's transaction.

    The hook gets a session joined to that transaction
    (``join_transaction_mode="create_savepoint"``): an area's services
    commit, and there their commit only releases a savepoint, so the ledger
    entry commits with the payment's success when the caller commits, and
    goes with it when the caller rolls back, even inside a due job.
    """
    before = {"status": request.status}
    request.status, request.receipt_number, request.paid_at = "succeeded", receipt, paid_at or now
    request.result_code, request.result_desc, request.completed_at, request.last_error = code, desc, now, None
    audit.record(session, actor, "payment.succeeded", "payment_request", request.id, org_id=request.org_id,
                 before=before, after={"status": "succeeded", "amount_minor": request.amount_minor,
                                       "receipt_number": receipt, "purpose": request.purpose})
    session.flush()
    with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as area:
        hook(area, PaymentView.of(request))
        area.commit()


def hold_checkout(session: Session, checkout: str) -> None:
    """Take, until this transaction ends, the lock that orders a push's acceptance and its callback.

    A callback can reach one gateway process while another is committing the
    CheckoutRequestID it names: the callback finds no request and is kept as
    ``unknown_request``, and the sender, looking for such callbacks right after its
    commit, may not yet see it (neither transaction sees the other's row). Both
    take this lock first, so one of them always sees the other's row. On SQLite
    every transaction already holds the write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:checkout))"), {"checkout": checkout})


def locked_request(session: Session, *, checkout: str | None = None,
                   request_id: int | None = None) -> PaymentRequest | None:
    where = (PaymentRequest.id == request_id) if request_id is not None else \
        (PaymentRequest.checkout_request_id == checkout)
    return session.scalars(
        select(PaymentRequest).where(where).with_for_update().execution_options(populate_existing=True)
    ).first()


def _keep(session: Session, result: StkResult, request: PaymentRequest | None, verdict: _Verdict, *,
          token_ok: bool, kept: int | None) -> int:
    values = dict(
        org_id=request.org_id if request else None, payment_request_id=request.id if request else None,
        source=result.source, checkout_request_id=result.checkout_request_id,
        merchant_request_id=result.merchant_request_id,
        result_code=None if result.result_code is None else str(result.result_code),
        result_desc=result.result_desc, receipt_number=result.receipt_number, amount_minor=result.amount_minor,
        token_ok=token_ok, raw=result.raw, verdict=verdict.verdict, problem=verdict.problem, reason=verdict.reason,
    )
    row = session.get(PaymentCallback, kept) if kept is not None else None
    if row is None:
        row = PaymentCallback(**values, received_at=utcnow())
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row.id


def settle_result(session: Session, result: StkResult, *, token_ok: bool = True,
                  kept: int | None = None) -> CallbackResult:
    """Apply ``result`` exactly once and keep it with its verdict, in the caller's transaction.

    The request row is locked first (outside the savepoint, so a rollback of
    the attempt keeps the lock); if applying fails (the hook raised), the
    attempt is undone and the request goes to review instead.
    """
    request, verdict = None, None
    if not token_ok:
        verdict = _Verdict("review", "bad_token",
                           "the callback did not carry the callback token; nothing was credited")
    elif result.malformed:
        verdict = _Verdict("review", "malformed", f"{result.malformed}; nothing was credited")
    else:
        hold_checkout(session, result.checkout_request_id)
        request = locked_request(session, checkout=result.checkout_request_id)
        if request is None:
            verdict = _Verdict("review", "unknown_request", "no payment request carries this CheckoutRequestID")
    if verdict is not None:
        kept_id = _keep(session, result, None, verdict, token_ok=token_ok, kept=kept)
        return CallbackResult(verdict.verdict, verdict.problem, verdict.reason, None, kept_id)
    try:
        with session.begin_nested():
            now = utcnow()
            verdict = _apply(session, request, result, now)
            kept_id = _keep(session, result, request, verdict, token_ok=True, kept=kept)
            if verdict.credit is not None:
                credit_payment(session, request, verdict.credit, MPESA, now, receipt=result.receipt_number,
                               paid_at=result.paid_at, code=str(result.result_code), desc=result.result_desc)
    except Exception as exc:
        log.exception("payment %s: the %s could not be applied", request.id, result.source)
        session.refresh(request)
        verdict = _Verdict("review", "not_applied",
                           f"could not be applied ({type(exc).__name__}: {exc}); nothing was credited")
        if request.status not in FINAL:
            send_to_review(request, verdict.reason)
        kept_id = _keep(session, result, request, verdict, token_ok=True, kept=kept)
    return CallbackResult(verdict.verdict, verdict.problem, verdict.reason, request.id, kept_id)


def record_stk_callback(session: Session, payload: Any, *, token_ok: bool) -> CallbackResult:
    """Keep one Daraja STK callback and apply it; commits. Replays change nothing.

    The gateway refuses a callback without the callback token before it gets
    here (it is counted, never kept); ``token_ok=False`` is for a caller that
    cannot vouch for where a result came from. Such a result, one for a
    CheckoutRequestID no request carries, or one with an amount other than the
    request's, is kept for review and credits nothing.
    """
    outcome = settle_result(session, parse_stk_callback(payload), token_ok=token_ok)
    session.commit()
    return outcome
