"""Tables of the payments area: M-Pesa STK push requests and every result
Daraja sent back for them.

A ``payment_requests`` row exists (``pending``) before anything leaves for
Daraja; see ``core.payments`` for its life. ``checkout_request_id`` and
``receipt_number`` are unique, so one push and one M-Pesa receipt can each
credit one request at most. ``payment_callbacks`` keeps every callback and
STK query answer as it arrived, with the verdict it got.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, BigId
from db.types import utcnow

PAYMENT_STATUSES = ("pending", "sending", "awaiting", "succeeded", "failed", "cancelled", "expired",
                    "unknown", "review")
CALLBACK_VERDICTS = ("applied", "duplicate", "review")
CALLBACK_SOURCES = ("callback", "query")


class PaymentRequest(Base):
    """One STK push asked of a member's phone, and what came of it."""

    __tablename__ = "payment_requests"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        UniqueConstraint("checkout_request_id"),
        UniqueConstraint("receipt_number"),
        Index("ix_payment_requests_due", "status", "next_attempt_at"),
        Index("ix_payment_requests_org_status", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    phone: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    account_reference: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(String(13))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sending_at: Mapped[datetime | None]
    checkout_request_id: Mapped[str | None] = mapped_column(String(100))
    merchant_request_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    checks: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None]
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    result_code: Mapped[str | None] = mapped_column(String(30))
    result_desc: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PaymentCallback(Base):
    """A result as Daraja sent it (a callback, or an STK query answer), kept raw.

    ``org_id`` and ``payment_request_id`` are empty when no request matched.
    ``problem`` names why a result went to review, for code; ``reason`` says
    it for people.
    """

    __tablename__ = "payment_callbacks"
    __table_args__ = (
        Index("ix_payment_callbacks_checkout", "checkout_request_id"),
        Index("ix_payment_callbacks_verdict", "verdict", "received_at"),
        Index("ix_payment_callbacks_request", "payment_request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    payment_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_requests.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10), default="callback")
    checkout_request_id: Mapped[str | None] = mapped_column(String(100))
    merchant_request_id: Mapped[str | None] = mapped_column(String(100))
    result_code: Mapped[str | None] = mapped_column(String(30))
    result_desc: Mapped[str | None] = mapped_column(Text)
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    token_ok: Mapped[bool] = mapped_column(default=True)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    verdict: Mapped[str] = mapped_column(String(12))
    problem: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Paybill(Base):
    """An org's paybill (C2B short code) and when its validation and confirmation URLs were registered.

    The short code is what a C2B callback names, so it finds the org.
    """

    __tablename__ = "mpesa_paybills"
    __table_args__ = (UniqueConstraint("org_id"), UniqueConstraint("shortcode"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    shortcode: Mapped[str] = mapped_column(String(20))
    response_type: Mapped[str] = mapped_column(String(12), default="Cancelled")
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    registered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


C2B_STATUSES = ("credited", "review")


class PaybillPayment(Base):
    """Money a person paid to the paybill, once per M-Pesa receipt (``trans_id``), from its
    confirmation or from the portal's statement, and what it credited (or why it waits for review)."""

    __tablename__ = "mpesa_c2b_payments"
    __table_args__ = (
        UniqueConstraint("trans_id"),
        Index("ix_mpesa_c2b_payments_org_status", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    trans_id: Mapped[str] = mapped_column(String(40))
    shortcode: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(100))  # BillRefNumber as the payer typed it
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payer: Mapped[str | None] = mapped_column(String(200))  # MSISDN and name as M-Pesa gave them (often masked)
    paid_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(12))  # confirmation | statement
    status: Mapped[str] = mapped_column(String(12))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    purpose: Mapped[str | None] = mapped_column(String(20))
    entry_ref: Mapped[str | None] = mapped_column(String(40))  # what the area recorded (its ledger entry)
    reason: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


DISBURSEMENT_STATUSES = ("pending", "sending", "awaiting", "succeeded", "failed", "review")


class Disbursement(Base):
    """Money sent out by M-Pesa B2C for an area's approved request (a loan, a payout).

    Written ``pending`` before anything leaves; ``open_key`` holds one open
    disbursement per subject (it is emptied when the disbursement ends), and
    ``originator_id`` is the OriginatorConversationID Daraja echoes back.
    """

    __tablename__ = "mpesa_disbursements"
    __table_args__ = (
        UniqueConstraint("org_id", "open_key"),
        UniqueConstraint("originator_id"),
        UniqueConstraint("receipt_number"),
        Index("ix_mpesa_disbursements_due", "status", "next_check_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(40))  # e.g. chama.loan
    subject_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    phone: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    remarks: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    open_key: Mapped[str | None] = mapped_column(String(80))
    originator_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(100))
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    result_code: Mapped[str | None] = mapped_column(String(30))
    result_desc: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[int] = mapped_column(default=0)
    next_check_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
