"""Money out by M-Pesa B2C: an area's approved request (a loan, a payout) paid to a phone.

A disbursement's life::

    pending ──▶ sending ──▶ awaiting ──result: paid──▶ succeeded  (the area's ledger entry, same transaction)
                  │            │  ▲      └─result: failed──▶ failed (the request is approved again, with the reason)
                  │            │  └── timeout / no answer: Transaction Status query (due work)
                  ├──▶ failed (Daraja refused it, or nothing reached Daraja)
                  └──▶ awaiting with no ConversationID (the answer was lost: the status query decides)

The row is committed ``pending`` before anything leaves and ``sending``
before Daraja is called. The ledger entry is written only when Daraja reports
the money left (a B2C result, or a status query's answer), under a lock on
the row, so it is written once however often results arrive. ``open_key``
allows one open disbursement per request. Every result is kept raw in
``payment_callbacks`` with its verdict. Areas register with
:func:`disburses` who is paid (``payee``) and what the payment writes
(``paid``), in ``core.<kind>.paybill``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, jobs
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, OfisiError
from core.money import format_money
from core.payments.c2b import area_module
from core.payments.request import CURRENCY
from core.payments.results import MPESA, shillings_minor
from core.permissions import require
from core.phones import normalize_phone
from core.providers import AmbiguousSendError, PermanentSendError, ProviderUnavailable, SendError, TransientSendError
from core.providers.mpesa import DarajaClient
from db.engine import Database
from db.models_payments import Disbursement, PaymentCallback
from db.types import utcnow

log = logging.getLogger("ofisi.payments")

OPEN = ("pending", "sending", "awaiting")
# No result this long after the request left (or a queue timeout): ask with Transaction Status, then at doubling
# intervals; after MAX_CHECKS unanswered queries an official looks it up on the portal.
CHECK_AFTER = timedelta(minutes=3)
MAX_CHECKS = 6
# A status query that finds no payment is believed only this long after the request left; before, Daraja
# may still be holding it in its queue, and failing it would let the loan be sent twice.
NOT_FOUND_AFTER = timedelta(minutes=10)
STATUS_MARK = "-status-"


@dataclass(frozen=True)
class Payee:
    member_id: int | None
    phone: str
    amount_minor: int
    remarks: str


@dataclass(frozen=True)
class DisbursementView:
    id: int
    org_id: int
    subject: str
    subject_id: int
    member_id: int | None
    phone: str
    amount_minor: int
    currency: str
    status: str
    originator_id: str
    conversation_id: str | None
    receipt_number: str | None
    result_desc: str | None
    last_error: str | None
    checks: int
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, r: Disbursement) -> DisbursementView:
        return cls(r.id, r.org_id, r.subject, r.subject_id, r.member_id, r.phone, r.amount_minor, r.currency,
                   r.status, r.originator_id, r.conversation_id, r.receipt_number, r.result_desc, r.last_error,
                   r.checks, r.created_at, r.completed_at)

    @property
    def amount(self) -> str:
        return format_money(self.amount_minor, self.currency)


class Disburser(Protocol):
    def payee(self, session: Session, actor: Actor, org_id: int, subject_id: int, phone: str | None) -> Payee:
        """Who is paid how much, after the area's own checks (approved, the pool holds it)."""

    def paid(self, session: Session, view: DisbursementView) -> None:
        """The area's ledger entry for money that left (its services commit)."""


_DISBURSERS: dict[str, Disburser] = {}


def disburses(subject: str):
    """Register an area's disburser for ``subject`` (``<kind>.<what>``, e.g. ``chama.loan``)."""
    def register(cls):
        _DISBURSERS[subject] = cls()
        return cls
    return register


def _disburser(subject: str) -> Disburser | None:
    if subject not in _DISBURSERS:
        area_module(subject.split(".")[0])
    return _DISBURSERS.get(subject)


def open_amount(session: Session, org_id: int) -> int:
    """Money on its way out by B2C that the books do not show yet (an area counts it as spoken for)."""
    return session.scalar(select(func.coalesce(func.sum(Disbursement.amount_minor), 0))
                          .where(Disbursement.org_id == org_id, Disbursement.status.in_(OPEN))) or 0


# ---------------------------------------------------------------- asking and sending


def request_disbursement(session: Session, actor: Actor, org_id: int, subject: str, subject_id: int, *,
                         phone: str | None = None) -> DisbursementView:
    """Write a ``pending`` B2C disbursement for an approved request; commits. One open one per request."""
    org = require(session, actor, org_id, "payments.settle")
    disburser = _disburser(subject)
    if disburser is None or not subject.startswith(f"{org.kind}."):
        raise InvalidInput(f"A {org.kind} cannot pay {subject!r} by M-Pesa.")
    if org.currency != CURRENCY:
        raise InvalidInput(f"M-Pesa pays Kenyan shillings; {org.name} keeps its books in {org.currency}.")
    payee = disburser.payee(session, actor, org.id, subject_id, phone)
    number = normalize_phone(payee.phone, org.country)
    if not number.startswith("+254"):
        raise InvalidInput(f"{number} is not a Kenyan number; M-Pesa pays Kenyan numbers only.")
    if payee.amount_minor % 100 or payee.amount_minor < 1000:
        raise InvalidInput("M-Pesa B2C pays whole shillings, KES 10 or more.")
    now = utcnow()
    row = Disbursement(org_id=org.id, subject=subject, subject_id=subject_id, member_id=payee.member_id,
                       phone=number, amount_minor=payee.amount_minor, currency=CURRENCY, remarks=payee.remarks[:100],
                       status="pending", open_key=f"{subject}:{subject_id}", originator_id=f"ofisi-{uuid.uuid4().hex}",
                       next_check_at=now + CHECK_AFTER, requested_by=actor.label, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        other = session.scalar(select(Disbursement).where(Disbursement.org_id == org.id,
                                                          Disbursement.open_key == f"{subject}:{subject_id}"))
        if other is None:
            raise
        raise Conflict(f"Disbursement {other.id} of this request is already {other.status}; wait for M-Pesa's "
                       "answer (`ofisi mpesa disbursements`).") from None
    audit.record(session, actor, "payment.disburse", "mpesa_disbursement", row.id, org_id=org.id,
                 after={"subject": subject, "subject_id": subject_id, "amount_minor": row.amount_minor,
                        "phone": number})
    session.commit()
    return DisbursementView.of(row)


def _locked(session: Session, *, disbursement_id: int | None = None, originator: str | None = None) -> Disbursement | None:
    where = (Disbursement.id == disbursement_id) if disbursement_id is not None else \
        (Disbursement.originator_id == originator)
    return session.scalars(select(Disbursement).where(where).with_for_update()
                           .execution_options(populate_existing=True)).first()


def _end(row: Disbursement, status: str, reason: str | None, now: datetime) -> None:
    row.status, row.completed_at, row.updated_at = status, now, now
    if status in ("succeeded", "failed"):
        row.open_key = None  # a failed request is approved again: it may be disbursed anew
    if reason is not None:
        row.last_error = reason


def send_disbursement(db: Database, client: DarajaClient, disbursement_id: int) -> DisbursementView:
    """Send one pending disbursement to Daraja: ``sending`` is committed before the call, the outcome after."""
    with db.session() as session:
        row = _locked(session, disbursement_id=disbursement_id)
        if row is None:
            raise NotFound(f"There is no disbursement {disbursement_id}.")
        if row.status != "pending":
            session.commit()
            return DisbursementView.of(row)
        row.status, row.sent_at, row.updated_at = "sending", utcnow(), utcnow()
        args = dict(originator_id=row.originator_id, phone=row.phone, amount_minor=row.amount_minor,
                    currency=row.currency, remarks=row.remarks)
        session.commit()  # the durable "sending" before anything leaves
        outcome: dict[str, Any]
        try:
            accepted = client.b2c_payment(**args, occasion=f"ofisi {disbursement_id}")
        except (ProviderUnavailable, PermanentSendError, TransientSendError) as exc:
            outcome = {"status": "failed", "reason": f"not sent: {exc}"}
        except (AmbiguousSendError, SendError, OSError) as exc:
            outcome = {"status": "awaiting", "reason": f"{exc or type(exc).__name__}; Daraja is asked what became "
                                                         "of it (Transaction Status) by `ofisi jobs run-due`"}
        else:
            outcome = {"status": "awaiting", "conversation_id": accepted.conversation_id,
                       "reason": None, "desc": accepted.description}
        row = _locked(session, disbursement_id=disbursement_id)
        now = utcnow()
        if row.status == "sending":  # a result may have overtaken the answer
            if outcome["status"] == "failed":
                _end(row, "failed", outcome["reason"], now)
            else:
                row.status, row.last_error, row.next_check_at = "awaiting", outcome["reason"], now + CHECK_AFTER
                row.conversation_id = outcome.get("conversation_id") or row.conversation_id
                row.result_desc, row.updated_at = outcome.get("desc"), now
        elif outcome.get("conversation_id") and not row.conversation_id:
            row.conversation_id = outcome["conversation_id"]
        session.commit()
        return DisbursementView.of(row)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class B2CResult:
    source: str  # b2c | status | timeout
    originator_id: str
    conversation_id: str | None
    code: str | None
    desc: str
    paid: bool | None  # True: the money left; False: it did not; None: nothing decided (a timeout)
    receipt: str | None
    amount_minor: int | None
    raw: dict[str, Any]
    malformed: str | None = None


def parse_result(payload: Any, *, timeout: bool = False) -> B2CResult:
    """Daraja's ``Result`` (a B2C payment's, or a Transaction Status query's, told apart by our
    OriginatorConversationID), or a queue timeout notice."""
    raw = payload if isinstance(payload, dict) else {"unreadable": str(payload)[:2000]}
    result = raw.get("Result") if isinstance(raw.get("Result"), dict) else raw
    originator = str(result.get("OriginatorConversationID") or "")
    conversation = str(result.get("ConversationID") or "") or None
    code = None if result.get("ResultCode") is None else str(result.get("ResultCode")).strip()
    desc = str(result.get("ResultDesc") or "")
    params_box = result.get("ResultParameters") if isinstance(result.get("ResultParameters"), dict) else {}
    items = params_box.get("ResultParameter") or []
    items = [items] if isinstance(items, dict) else items
    params = {i.get("Key"): i.get("Value") for i in items if isinstance(i, dict)}
    status_query = STATUS_MARK in originator
    source = "timeout" if timeout else "status" if status_query else "b2c"
    base = originator.split(STATUS_MARK)[0]
    if not originator:
        return B2CResult(source, "", conversation, code, desc, None, None, None, raw, "no OriginatorConversationID")
    if timeout:
        return B2CResult(source, base, conversation, code, desc, None, None, None, raw)
    if code is None:
        return B2CResult(source, base, conversation, None, desc, None, None, None, raw, "no ResultCode")
    if status_query:
        state = str(params.get("TransactionStatus") or "")
        paid = code == "0" and state.lower() == "completed"
        receipt = str(params.get("ReceiptNo") or "") or None
        amount = shillings_minor(params.get("Amount")) if params.get("Amount") is not None else None
        if code == "0" and not paid:
            desc = f"M-Pesa says the payment is {state or 'not complete'}"
        elif code != "0":
            desc = f"M-Pesa has no completed payment of this request ({code} {desc})".strip()
        return B2CResult(source, base, conversation, code, desc, paid, receipt if paid else None, amount, raw)
    paid = code == "0"
    receipt = str(params.get("TransactionReceipt") or result.get("TransactionID") or "") or None
    amount = shillings_minor(params.get("TransactionAmount")) if params.get("TransactionAmount") is not None else None
    if paid and not receipt:
        return B2CResult(source, base, conversation, code, desc, None, None, amount, raw, "a success without a receipt")
    return B2CResult(source, base, conversation, code, desc, paid, receipt if paid else None, amount, raw)


def record_b2c_result(session: Session, payload: Any, *, timeout: bool = False) -> str:
    """Keep one B2C result (or timeout, or status answer) and apply it once; commits. The verdict."""
    result = parse_result(payload, timeout=timeout)
    row = None if result.malformed else _locked(session, originator=result.originator_id)
    if result.malformed:
        verdict, problem, reason = "review", "malformed", f"{result.malformed}; nothing was recorded"
    elif row is None:
        verdict, problem, reason = "review", "unknown_request", "no disbursement carries this OriginatorConversationID"
    else:
        verdict, problem, reason = _apply(session, row, result)
    session.add(PaymentCallback(org_id=row.org_id if row else None, source=result.source,
                                checkout_request_id=(result.conversation_id or "")[:100] or None,
                                merchant_request_id=result.originator_id[:100] or None, result_code=result.code,
                                result_desc=result.desc, receipt_number=result.receipt,
                                amount_minor=result.amount_minor, raw=result.raw, verdict=verdict, problem=problem,
                                reason=reason, received_at=utcnow()))
    session.commit()
    if verdict == "review":
        log.warning("B2C %s kept for review: %s", result.source, reason)
    return verdict


def _apply(session: Session, row: Disbursement, result: B2CResult) -> tuple[str, str | None, str | None]:
    """What one result does to its (locked) disbursement: (verdict, problem, reason)."""
    now = utcnow()
    if result.conversation_id and not row.conversation_id and result.source == "b2c":
        row.conversation_id = result.conversation_id
    if result.paid is None:  # a queue timeout: nothing is known, so ask
        if row.status in OPEN:
            row.last_error = f"Daraja's queue timed out ({result.desc or 'no detail'}); its status is asked next"
            row.next_check_at, row.updated_at = now, now
            return "applied", None, None
        return "duplicate", None, f"the disbursement is already {row.status}"
    if not result.paid:
        if row.status in OPEN and result.source == "status" and result.code != "0" and \
                now - (row.sent_at or row.created_at) < NOT_FOUND_AFTER:
            # Daraja may still hold it in its queue: not yet a "no"; asked again later.
            row.last_error, row.updated_at = f"{result.desc}; asked again later", now
            return "applied", None, None
        if row.status in OPEN:
            _end(row, "failed", result.desc, now)
            row.result_code, row.result_desc = result.code, result.desc
            audit.record(session, MPESA, "payment.disburse_failed", "mpesa_disbursement", row.id, org_id=row.org_id,
                         after={"status": "failed", "reason": result.desc})
            return "applied", None, None
        if row.status == "failed":
            return "duplicate", None, "already failed"
        return "review", "conflict", f"the disbursement is {row.status}; this {result.source} says: {result.desc}"
    if row.status == "succeeded":
        if result.receipt in (None, row.receipt_number):
            return "duplicate", None, "already recorded"
        return "review", "conflict", f"already paid with receipt {row.receipt_number}; this says {result.receipt}"
    if result.amount_minor is not None and result.amount_minor != row.amount_minor:
        reason = (f"M-Pesa reports {format_money(result.amount_minor, row.currency)} sent for "
                  f"{format_money(row.amount_minor, row.currency)}; record it by hand")
        _end(row, "review", reason, now)
        return "review", "amount_mismatch", reason
    if row.status not in OPEN:
        reason = f"M-Pesa reports the money left, but the disbursement was {row.status}; record it by hand"
        _end(row, "review", reason, now)
        return "review", "conflict", reason
    try:
        _write_paid(session, row, MPESA, now, receipt=result.receipt, code=result.code, desc=result.desc)
    except (OfisiError, IntegrityError) as exc:
        session.refresh(row)
        reason = f"M-Pesa sent the money (receipt {result.receipt}) but the books refused it: {exc}"
        _end(row, "review", reason, now)
        row.receipt_number = result.receipt
        return "review", "not_applied", reason
    return "applied", None, None


def _write_paid(session: Session, row: Disbursement, actor: Actor, now: datetime, *, receipt: str | None,
                code: str | None, desc: str | None) -> None:
    """Mark the (locked) disbursement paid and write the area's ledger entry, in one savepoint of the
    caller's transaction; raises, undoing both, when the books refuse it."""
    disburser = _disburser(row.subject)
    with session.begin_nested():
        _end(row, "succeeded", None, now)
        row.receipt_number, row.result_code, row.result_desc, row.last_error = receipt, code, desc, None
        session.flush()
        if disburser is None:
            raise Conflict(f"nothing in this installation records {row.subject!r}")
        with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as books:
            disburser.paid(books, DisbursementView.of(row))
            books.commit()
        audit.record(session, actor, "payment.disbursed", "mpesa_disbursement", row.id, org_id=row.org_id,
                     after={"status": "succeeded", "receipt_number": receipt, "amount_minor": row.amount_minor})


def settle_disbursement(session: Session, actor: Actor, org_id: int, disbursement_id: int, *, paid: bool,
                        receipt_number: str | None = None) -> DisbursementView:
    """An official's word, from the M-Pesa portal, on a disbursement under review or still waiting:
    ``paid`` (with the portal's receipt) writes the books once; otherwise the request is approved again.
    Commits."""
    require(session, actor, org_id, "payments.settle")
    row = _locked(session, disbursement_id=disbursement_id)
    if row is None or row.org_id != org_id:
        raise NotFound("That disbursement does not exist.")
    if row.status not in (*OPEN, "review"):
        raise InvalidInput(f"Disbursement {row.id} is {row.status}; only one under review or still waiting is "
                           "settled by hand.")
    before, now = {"status": row.status, "last_error": row.last_error}, utcnow()
    if paid:
        receipt = (receipt_number or "").strip().upper()
        if not receipt:
            raise InvalidInput("Give the M-Pesa receipt number from the portal (for example TLK1ABC234).")
        other = session.scalar(select(Disbursement.id).where(Disbursement.receipt_number == receipt,
                                                             Disbursement.id != row.id))
        if other is not None:
            raise Conflict(f"Receipt {receipt} already paid disbursement {other}.")
        row.receipt_number = None
        _write_paid(session, row, actor, now, receipt=receipt, code=None, desc=f"settled by {actor.label}")
    else:
        _end(row, "failed", f"settled by {actor.label}: the money did not leave", now)
    audit.record(session, actor, "payment.disburse_settle", "mpesa_disbursement", row.id, org_id=org_id,
                 before=before, after={"status": row.status, "receipt_number": row.receipt_number})
    session.commit()
    return DisbursementView.of(row)


# ---------------------------------------------------------------- lost results: Transaction Status as due work


def _ask_status(session: Session, client: DarajaClient, row: Disbursement, now: datetime) -> None:
    """Ask Daraja about one open disbursement; its answer comes to the result URL. Does not commit."""
    query_id = f"{row.originator_id}{STATUS_MARK}{row.checks + 1}"
    try:
        client.transaction_status(query_id=query_id, original_originator_id=row.originator_id,
                                  transaction_id=row.receipt_number)
        error = f"asked Daraja what became of it (status query {row.checks + 1}); waiting for the answer"
    except ProviderUnavailable:
        raise
    except SendError as exc:
        error = f"the status query failed: {exc or type(exc).__name__}"
    row.checks += 1
    if row.checks >= MAX_CHECKS:
        _end(row, "review", f"no answer after {row.checks} status queries; look the payment up on the M-Pesa "
                            "portal, then record it or disburse again", now)
        return
    row.last_error, row.next_check_at, row.updated_at = error, now + CHECK_AFTER * 2 ** (row.checks - 1), now


@jobs.planner("payments.b2c")
def _plan_status_queries(session: Session, now: datetime) -> None:
    due = session.execute(select(Disbursement.id, Disbursement.org_id, Disbursement.checks, Disbursement.next_check_at)
                          .where(Disbursement.status.in_(OPEN), Disbursement.next_check_at <= now)).all()
    for row_id, org_id, checks, due_at in due:
        jobs.schedule(session, "payments.b2c_status", f"payments.b2c_status:{row_id}:{checks}", due_at, org_id=org_id,
                      payload={"disbursement_id": row_id, "check": checks})


@jobs.handler("payments.b2c_status")
def _run_status_query(session: Session, job: jobs.DueJob) -> None:
    from core.payments.checks import PaymentsUnavailable

    row = _locked(session, disbursement_id=job.payload["disbursement_id"])
    if row is None or row.status not in OPEN or row.checks != job.payload["check"]:
        return  # settled, or asked since
    try:
        _ask_status(session, b2c_client(), row, utcnow())
    except ProviderUnavailable as exc:
        raise PaymentsUnavailable(str(exc)) from None


def b2c_client(settings=None) -> DarajaClient:
    """A Daraja client for C2B and B2C (no STK passkey needed)."""
    from config import get_settings

    return DarajaClient.from_settings(settings or get_settings(), stk=False)


# ---------------------------------------------------------------- what staff see


def list_disbursements(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                       limit: int = 100) -> list[DisbursementView]:
    require(session, actor, org_id, "payments.read")
    query = select(Disbursement).where(Disbursement.org_id == org_id)
    if status:
        query = query.where(Disbursement.status == status)
    return [DisbursementView.of(r) for r in session.scalars(query.order_by(Disbursement.id.desc()).limit(limit))]

