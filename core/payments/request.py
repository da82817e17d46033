"""A payment request as areas make it, and the hook through which an area credits one.

An area registers what a successful payment of its purpose writes with
:func:`on_success`, and asks for money with :func:`request_payment` inside
its own unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.money import exponent, format_money
from core.permissions import ROLES, grant
from core.phones import normalize_phone
from core.providers.mpesa import MAX_DESCRIPTION, MAX_REFERENCE
from db.models import Org
from db.models_payments import PaymentRequest
from db.types import utcnow

CURRENCY = "KES"
MAX_AMOUNT_MINOR = 250_000 * 10 ** exponent(CURRENCY)  # M-Pesa's limit for one transaction

for _kind, _roles in ROLES.items():
    grant(_kind, _roles[0], "payments.read", "payments.settle")
grant("chama", "treasurer", "payments.read", "payments.settle")
grant("chama", "secretary", "payments.read")


@dataclass(frozen=True)
class PaymentView:
    id: int
    org_id: int
    purpose: str
    subject_id: int | None
    payload: dict[str, Any]
    phone: str
    amount_minor: int
    currency: str
    account_reference: str
    description: str
    status: str
    checkout_request_id: str | None
    merchant_request_id: str | None
    receipt_number: str | None
    result_code: str | None
    result_desc: str | None
    last_error: str | None
    attempts: int
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, r: PaymentRequest) -> PaymentView:
        return cls(r.id, r.org_id, r.purpose, r.subject_id, dict(r.payload or {}), r.phone, r.amount_minor,
                   r.currency, r.account_reference, r.description, r.status, r.checkout_request_id,
                   r.merchant_request_id, r.receipt_number, r.result_code, r.result_desc, r.last_error,
                   r.attempts, r.paid_at, r.created_at)

    @property
    def amount(self) -> str:
        return format_money(self.amount_minor, self.currency)


Hook = Callable[[Session, PaymentView], None]
HOOKS: dict[str, Hook] = {}


def on_success(purpose: str) -> Callable[[Hook], Hook]:
    """Register what a successful payment of ``purpose`` writes (the area's ledger entry).

    The hook runs once per payment request, in the transaction that records
    the success, with a session joined to it: the area may call its own
    services, which commit, and their commit only releases a savepoint, so
    the entry and the success commit (or roll back) together. If the hook
    raises, nothing of it is kept, nothing is credited and the payment goes
    to review.
    """
    if not 0 < len(purpose) <= 40:
        raise ValueError("a payment purpose is 1 to 40 characters")

    def register(fn: Hook) -> Hook:
        HOOKS[purpose] = fn
        return fn
    return register


def hook_for(purpose: str) -> Hook | None:
    """The hook of ``purpose``. A process that has not loaded the areas yet (a CLI
    command, a cron run) loads them first, so no success waits for review for that."""
    if purpose not in HOOKS:
        from core.registry import load_areas

        load_areas()
    return HOOKS.get(purpose)


def request_payment(
    session: Session,
    org_id: int,
    *,
    purpose: str,
    subject_id: int | None,
    phone: str,
    amount_minor: int,
    account_reference: str,
    description: str,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Add a ``pending`` STK push to the caller's unit of work; returns its id.

    For services that have already checked who may ask. The caller commits,
    then calls :func:`wake_payment_sender` so the push leaves at once. With
    an ``idempotency_key`` a second request of the same key returns the
    first one's id and adds nothing.
    """
    if purpose not in HOOKS:
        raise ValueError(f"no on_success hook is registered for payment purpose {purpose!r}")
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("That organisation does not exist.")
    if org.currency != CURRENCY:
        raise InvalidInput(f"M-Pesa takes Kenyan shillings; {org.name} keeps its books in {org.currency}.")
    if not isinstance(amount_minor, int) or amount_minor % 10 ** exponent(CURRENCY):
        raise InvalidInput("M-Pesa takes whole shillings; leave out the cents.")
    if not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidInput(f"An M-Pesa payment is between KES 1 and {format_money(MAX_AMOUNT_MINOR, CURRENCY)}.")
    number = normalize_phone(phone, org.country)
    if not number.startswith("+254"):
        raise InvalidInput(f"{number} is not a Kenyan number; M-Pesa can prompt Kenyan numbers only.")
    reference, text = account_reference.strip(), description.strip()
    if not 0 < len(reference) <= MAX_REFERENCE:
        raise InvalidInput(f"The account reference takes 1 to {MAX_REFERENCE} characters, not {reference!r}.")
    if not 0 < len(text) <= MAX_DESCRIPTION:
        raise InvalidInput(f"The description takes 1 to {MAX_DESCRIPTION} characters, not {text!r}.")
    existing = _by_key(session, org_id, idempotency_key)
    if existing is not None:
        return existing
    row = PaymentRequest(org_id=org_id, purpose=purpose, subject_id=subject_id, payload=payload or {},
                         phone=number, amount_minor=amount_minor, currency=CURRENCY,
                         account_reference=reference, description=text, idempotency_key=idempotency_key,
                         next_attempt_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another session added the same key since we looked; its request is this one.
        existing = _by_key(session, org_id, idempotency_key)
        if existing is None:
            raise
        return existing
    return row.id


def _by_key(session: Session, org_id: int, key: str | None) -> int | None:
    if key is None:
        return None
    return session.scalar(select(PaymentRequest.id).where(PaymentRequest.org_id == org_id,
                                                          PaymentRequest.idempotency_key == key))
