"""Money paid to an org's paybill (Lipa na M-Pesa, C2B): registering the URLs, validating an
account before M-Pesa takes the money, and crediting a confirmed payment exactly once.

An area that takes paybill payments (``core.<kind>.paybill``) registers with
:func:`paybill_area` how it reads an account (``BillRefNumber``) and how it
credits one. A payment is one ``mpesa_c2b_payments`` row per M-Pesa receipt
(``TransID``, unique): the confirmation callback and the statement import
(``core.payments.statement``) both go through :func:`take_payment`, so
whichever comes second finds the row and credits nothing. The row is inserted
inside a savepoint before anything is credited: of ten deliveries at once, one
inserts, the others wait on the unique index and then see a duplicate. An
account that names no one is kept for review and credits nothing.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound, OfisiError
from core.money import format_money
from core.payments.request import CURRENCY
from core.payments.results import MPESA, daraja_time, shillings_minor
from core.permissions import ROLES, grant, require
from core.providers.mpesa import DarajaClient
from db.models import Org
from db.models_payments import PaybillPayment, Paybill, PaymentCallback
from db.types import utcnow

log = logging.getLogger("ofisi.payments")

for _kind, _roles in ROLES.items():
    grant(_kind, _roles[0], "payments.setup")
grant("chama", "treasurer", "payments.setup")

# Daraja's validation answers (C2B): accept, or refuse with the reason's code.
ACCEPT = ("0", "Accepted")
INVALID_MSISDN, INVALID_ACCOUNT, INVALID_AMOUNT = "C2B00011", "C2B00012", "C2B00013"
INVALID_SHORTCODE, OTHER_ERROR = "C2B00015", "C2B00016"


@dataclass(frozen=True)
class Account:
    """What a ``BillRefNumber`` names in an area: a member and the purpose of the money."""

    member_id: int
    purpose: str
    label: str


class PaybillArea(Protocol):
    def account(self, session: Session, org: Org, text: str) -> Account | None:
        """The member and purpose ``text`` names (case and spaces ignored), or None."""

    def credit(self, session: Session, org_id: int, account: Account, amount_minor: int, *, receipt: str,
               paid_at: datetime) -> str:
        """Record the money through the area's own services (which commit); the entry's reference."""


_AREAS: dict[str, PaybillArea] = {}


def paybill_area(kind: str):
    """Register how an org kind reads accounts and credits paybill money (a class, instantiated once)."""
    def register(cls):
        _AREAS[kind] = cls()
        return cls
    return register


def area_module(kind: str) -> None:
    """Load ``core.<kind>.paybill``, where an area keeps what M-Pesa money in and out does to its books."""
    try:
        importlib.import_module(f"core.{kind}.paybill")
    except ModuleNotFoundError as exc:
        if exc.name != f"core.{kind}.paybill":
            raise


def _area(kind: str) -> PaybillArea | None:
    if kind not in _AREAS:
        area_module(kind)
    return _AREAS.get(kind)


# ---------------------------------------------------------------- the org's paybill


@dataclass(frozen=True)
class PaybillView:
    org_id: int
    shortcode: str
    response_type: str
    confirmation_url: str | None
    registered_at: datetime | None


def register_urls(session: Session, actor: Actor, org_id: int, client: DarajaClient, *, shortcode: str,
                  response_type: str = "Cancelled") -> PaybillView:
    """Tell Daraja (C2B v2 ``registerurl``) where to validate and confirm payments to ``shortcode``,
    and remember that the short code is this org's; commits."""
    org = require(session, actor, org_id, "payments.setup")
    code = shortcode.strip()
    if not code.isdigit() or not 5 <= len(code) <= 7:
        raise InvalidInput(f"{shortcode!r} is not a paybill short code (5 to 7 digits).")
    if org.currency != CURRENCY:
        raise InvalidInput(f"M-Pesa takes Kenyan shillings; {org.name} keeps its books in {org.currency}.")
    if _area(org.kind) is None:
        raise InvalidInput(f"A {org.kind} does not take paybill payments in Ofisi.")
    other = session.scalar(select(Paybill).where(Paybill.shortcode == code, Paybill.org_id != org.id))
    if other is not None:
        raise Conflict(f"Paybill {code} belongs to another organisation here; one paybill credits one org.")
    session.commit()  # no transaction (on SQLite, no write lock) while Daraja is asked
    client.register_c2b_urls(shortcode=code, response_type=response_type)
    row = session.scalar(select(Paybill).where(Paybill.org_id == org.id)) or Paybill(org_id=org.id, shortcode=code)
    before = {"shortcode": row.shortcode} if row.id else None
    row.shortcode, row.response_type = code, response_type
    row.confirmation_url, row.registered_at = client.url_for("/mpesa/c2b/confirmation").split("?")[0], utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "payment.paybill", "mpesa_paybill", row.id, org_id=org.id, before=before,
                 after={"shortcode": code, "response_type": response_type})
    session.commit()
    return PaybillView(org.id, row.shortcode, row.response_type, row.confirmation_url, row.registered_at)


def paybill_of(session: Session, org_id: int) -> Paybill | None:
    return session.scalar(select(Paybill).where(Paybill.org_id == org_id))


# ---------------------------------------------------------------- a payment, as Daraja sends it


@dataclass(frozen=True)
class C2BPayment:
    trans_id: str
    shortcode: str
    account: str
    amount_minor: int | None
    paid_at: datetime | None
    payer: str
    raw: dict[str, Any]
    malformed: str | None = None


def parse_c2b(payload: Any) -> C2BPayment:
    """Daraja's C2B validation or confirmation body (``TransID``, ``TransAmount``, ``BillRefNumber``…)."""
    raw = payload if isinstance(payload, dict) else {"unreadable": str(payload)[:2000]}

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    amount = shillings_minor(text("TransAmount")) if text("TransAmount") else None
    payer = " ".join(p for p in (text("MSISDN"), text("FirstName"), text("MiddleName"), text("LastName")) if p)
    payment = C2BPayment(text("TransID").upper(), text("BusinessShortCode"), text("BillRefNumber"), amount,
                         daraja_time(text("TransTime")) if text("TransTime") else None, payer[:200], raw)
    if not payment.trans_id or not payment.shortcode:
        return _malformed(payment, "no TransID or BusinessShortCode")
    if amount is None or amount <= 0:
        return _malformed(payment, f"TransAmount {text('TransAmount')!r} is not an amount")
    return payment


def _malformed(payment: C2BPayment, why: str) -> C2BPayment:
    return C2BPayment(payment.trans_id, payment.shortcode, payment.account, payment.amount_minor, payment.paid_at,
                      payment.payer, payment.raw, why)


def _org_of(session: Session, shortcode: str) -> Org | None:
    paybill = session.scalar(select(Paybill).where(Paybill.shortcode == shortcode))
    return session.get(Org, paybill.org_id) if paybill else None


def validate_payment(session: Session, payload: Any) -> tuple[str, str]:
    """Daraja's validation: (ResultCode, ResultDesc). An account that names no member or purpose is
    refused (``C2B00012``), so money for nobody never arrives."""
    payment = parse_c2b(payload)
    if payment.malformed:
        return (INVALID_AMOUNT if "TransAmount" in payment.malformed else OTHER_ERROR), "Rejected"
    org = _org_of(session, payment.shortcode)
    area = _area(org.kind) if org else None
    if org is None or area is None:
        return INVALID_SHORTCODE, "Rejected"
    if payment.amount_minor % 100:
        return INVALID_AMOUNT, "Rejected"
    if area.account(session, org, payment.account) is None:
        return INVALID_ACCOUNT, "Rejected"
    return ACCEPT


# ---------------------------------------------------------------- taking the money, once


@dataclass(frozen=True)
class Taken:
    verdict: str  # applied | duplicate | review
    reason: str | None
    payment_id: int | None
    label: str | None = None


def take_payment(session: Session, org: Org, payment: C2BPayment, *, source: str) -> Taken:
    """Record ``payment`` once per receipt and credit it to the account it names; in the caller's
    transaction. A receipt already taken (by a callback or a statement) is a duplicate."""
    existing = _taken(session, payment.trans_id)
    if existing is not None:  # the common replay, answered before any look-up
        return existing
    area = _area(org.kind)
    account = area.account(session, org, payment.account) if area else None
    row = PaybillPayment(org_id=org.id, trans_id=payment.trans_id, shortcode=payment.shortcode,
                         account=payment.account[:100], amount_minor=payment.amount_minor, currency=CURRENCY,
                         payer=payment.payer or None, paid_at=payment.paid_at or utcnow(), source=source,
                         status="review", member_id=account.member_id if account else None,
                         purpose=account.purpose if account else None, raw=payment.raw, received_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _taken(session, payment.trans_id)
        if existing is None:
            raise
        return existing
    if account is None:
        row.reason = (f"account {payment.account!r} names no member, or a purpose with nothing owed; "
                      "nothing was credited")
        return Taken("review", row.reason, row.id)
    try:
        with session.begin_nested():
            row.entry_ref = _credit(session, area, org, account, row)
            row.status, row.reason = "credited", None
    except OfisiError as exc:
        row.status, row.reason = "review", f"{account.label}: {exc}; nothing was credited"
        return Taken("review", row.reason, row.id, account.label)
    audit.record(session, MPESA, "payment.paybill_credit", "mpesa_c2b_payment", row.id, org_id=org.id,
                 after={"trans_id": row.trans_id, "amount_minor": row.amount_minor, "member_id": account.member_id,
                        "purpose": account.purpose, "source": source, "entry": row.entry_ref})
    return Taken("applied", None, row.id, account.label)


def _taken(session: Session, trans_id: str) -> Taken | None:
    existing = session.execute(select(PaybillPayment.id, PaybillPayment.source, PaybillPayment.status)
                               .where(PaybillPayment.trans_id == trans_id)).first()
    if existing is None:
        return None
    return Taken("duplicate", f"receipt {trans_id} was already taken from the {existing.source} ({existing.status})",
                 existing.id)


def _credit(session: Session, area: PaybillArea, org: Org, account: Account, row: PaybillPayment) -> str:
    """The area's services commit: in a session joined to ours, their commit releases a savepoint."""
    session.flush()
    with Session(bind=session.connection(), join_transaction_mode="create_savepoint") as books:
        ref = area.credit(books, org.id, account, row.amount_minor, receipt=row.trans_id, paid_at=row.paid_at)
        books.commit()
    return ref


def _keep(session: Session, payment: C2BPayment, org: Org | None, taken: Taken) -> None:
    problem = None if taken.verdict != "review" else ("unknown_account" if taken.label is None else "not_applied")
    session.add(PaymentCallback(org_id=org.id if org else None, source="c2b", receipt_number=payment.trans_id[:40],
                                amount_minor=payment.amount_minor, result_desc=payment.account[:200], raw=payment.raw,
                                verdict=taken.verdict, problem=problem, reason=taken.reason, received_at=utcnow()))


def confirm_payment(session: Session, payload: Any) -> Taken:
    """Daraja's C2B confirmation: keep it as it came and take the money once; commits."""
    payment = parse_c2b(payload)
    org = None if payment.malformed else _org_of(session, payment.shortcode)
    if payment.malformed:
        taken = Taken("review", f"{payment.malformed}; nothing was credited", None)
    elif org is None:
        taken = Taken("review", f"no organisation here has paybill {payment.shortcode}; nothing was credited", None)
    else:
        taken = take_payment(session, org, payment, source="confirmation")
    _keep(session, payment, org, taken)
    session.commit()
    if taken.verdict == "review":
        log.warning("paybill payment %s kept for review: %s", payment.trans_id, taken.reason)
    return taken


# ---------------------------------------------------------------- what staff see and settle


@dataclass(frozen=True)
class PaybillPaymentView:
    id: int
    trans_id: str
    account: str
    amount_minor: int
    currency: str
    payer: str | None
    paid_at: datetime
    source: str
    status: str
    member_id: int | None
    purpose: str | None
    entry_ref: str | None
    reason: str | None

    @classmethod
    def of(cls, r: PaybillPayment) -> PaybillPaymentView:
        return cls(r.id, r.trans_id, r.account, r.amount_minor, r.currency, r.payer, r.paid_at, r.source, r.status,
                   r.member_id, r.purpose, r.entry_ref, r.reason)

    @property
    def amount(self) -> str:
        return format_money(self.amount_minor, self.currency)


def list_paybill_payments(session: Session, actor: Actor, org_id: int, *, status: str | None = None,
                          limit: int = 100) -> list[PaybillPaymentView]:
    """Money paid to the org's paybill, newest first."""
    require(session, actor, org_id, "payments.read")
    query = select(PaybillPayment).where(PaybillPayment.org_id == org_id)
    if status:
        query = query.where(PaybillPayment.status == status)
    return [PaybillPaymentView.of(r) for r in session.scalars(query.order_by(PaybillPayment.id.desc()).limit(limit))]


def assign_payment(session: Session, actor: Actor, org_id: int, trans_id: str, account: str) -> PaybillPaymentView:
    """An official credits a payment kept for review to the account it was meant for; commits."""
    org = require(session, actor, org_id, "payments.settle")
    row = session.scalar(select(PaybillPayment).where(PaybillPayment.org_id == org.id,
                                                      PaybillPayment.trans_id == trans_id.strip().upper())
                         .with_for_update())
    if row is None:
        raise NotFound(f"{org.name} has no paybill payment with receipt {trans_id.strip().upper()}.")
    if row.status != "review":
        raise Conflict(f"Receipt {row.trans_id} is already {row.status} ({row.entry_ref}).")
    area = _area(org.kind)
    found = area.account(session, org, account) if area else None
    if found is None:
        raise InvalidInput(f"{account!r} names no member or purpose of {org.name}.")
    before = {"status": row.status, "account": row.account, "reason": row.reason}
    row.entry_ref = _credit(session, area, org, found, row)
    row.status, row.reason, row.member_id, row.purpose = "credited", None, found.member_id, found.purpose
    audit.record(session, actor, "payment.paybill_assign", "mpesa_c2b_payment", row.id, org_id=org.id, before=before,
                 after={"status": "credited", "account": account, "entry": row.entry_ref})
    session.commit()
    return PaybillPaymentView.of(row)
